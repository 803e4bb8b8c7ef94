//! The audit log page: filter by client, action and time, newest first, paged on the server.

use axum::{
    extract::{Query, State},
    response::{IntoResponse, Response},
};
use keyward_admin::AuditFilter;
use maud::html;
use serde::Deserialize;

use super::{
    clients::query_value,
    error_page::ErrorPage,
    fields::typed,
    layout::{self, Nav},
    problem::Problem,
    session::SignedIn,
    Console,
};

/// Events per page.
const PAGE: &str = "50";

#[derive(Deserialize, Default)]
pub(crate) struct AuditForm {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    cursor: Option<String>,
}

/// A `datetime-local` value (`2026-12-03T14:05`, read as UTC) or RFC 3339 text, as RFC 3339.
fn instant(v: &str) -> Option<String> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    let has_zone =
        v.ends_with('Z') || v.ends_with('z') || v.get(19..).is_some_and(|z| z.contains(['+', '-']));
    Some(match (has_zone, v.len()) {
        (true, _) => v.to_owned(),
        (false, 16) => format!("{v}:00Z"),
        (false, _) => format!("{v}Z"),
    })
}

/// `GET /console/audit`.
pub(crate) async fn list(
    State(console): State<Console>,
    session: SignedIn,
    Query(q): Query<AuditForm>,
) -> Result<Response, ErrorPage> {
    let filter = AuditFilter {
        client_id: typed(&q.client_id),
        action: typed(&q.action),
        since: instant(&q.since),
        until: instant(&q.until),
        limit: Some(PAGE.to_owned()),
        cursor: q.cursor.clone().filter(|c| !c.is_empty()),
        ..AuditFilter::default()
    };
    let result = console.ops.list_audit(&filter).await;
    let problem = result.as_ref().err().map(Problem::from);
    let filters = format!(
        "client_id={}&action={}&since={}&until={}",
        query_value(&q.client_id),
        query_value(&q.action),
        query_value(&q.since),
        query_value(&q.until)
    );
    let body = html! {
        h1 { "Audit log" }
        form.row method="get" action="/console/audit" role="search" {
            div.field { label for="a-client" { "Client ID" } input #a-client type="text" name="client_id" value=(q.client_id); }
            div.field {
                label for="a-action" { "Action" }
                input #a-action type="text" name="action" value=(q.action) list="actions";
                datalist #actions {
                    @for a in ["client.", "client.create", "client.update", "client.delete", "client.secret.rotate",
                               "credential.", "keys_cache.clear", "user.", "signing_key.", "admin.auth.reject"] {
                        option value=(a) {}
                    }
                }
            }
            div.field { label for="a-since" { "From (UTC)" } input #a-since type="datetime-local" name="since" value=(q.since); }
            div.field { label for="a-until" { "Until (UTC)" } input #a-until type="datetime-local" name="until" value=(q.until); }
            button type="submit" { "Filter" }
        }
        @if let Some(p) = &problem { p.error role="alert" { (p.message) } }
        @if let Ok(page) = &result {
            @if page.events.is_empty() { p { "No events match." } } @else {
                div.table-wrap {
                    table.stack #audit {
                        thead { tr { th { "When" } th { "Actor" } th { "Action" } th { "Target" } th { "Outcome" } th { "Detail" } } }
                        tbody {
                            @for r in &page.events {
                                tr {
                                    td data-label="When" { (layout::when(r.event.at)) }
                                    td.mono data-label="Actor" { (r.event.actor) }
                                    td.mono data-label="Action" { (r.event.action) }
                                    td.mono data-label="Target" { (r.event.target) }
                                    td data-label="Outcome" { (r.event.outcome) }
                                    td.mono.detail data-label="Detail" { (r.event.detail.to_string()) }
                                }
                            }
                        }
                    }
                }
            }
            nav.pager aria-label="Pages" {
                @if q.cursor.as_deref().is_some_and(|c| !c.is_empty()) {
                    a href={ "/console/audit?" (filters) } { "Newest" }
                }
                @if let Some(next) = &page.next_cursor {
                    a href={ "/console/audit?" (filters) "&cursor=" (query_value(next)) } rel="next" { "Older events" }
                }
            }
        }
    };
    let status = problem.as_ref().map_or(axum::http::StatusCode::OK, |p| p.status);
    Ok((status, layout::page("Audit log", &session, Nav::Audit, body)).into_response())
}
