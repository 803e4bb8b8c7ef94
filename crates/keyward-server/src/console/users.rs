//! The Users page: the people who sign in to the console (and, later, to the authorization
//! code flow). Create, enable or disable, reset a password, grant or take the admin role,
//! delete; every change through the same operations as `/admin/users`.

use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use keyward_admin::{AdminError, NewUser, Password, UserPatch, ADMIN_ROLE};
use maud::{html, Markup};
use serde::Deserialize;

use super::{
    clients::{path_segment, query_value},
    error_page::ErrorPage,
    fields::typed,
    form::ConsoleForm,
    layout::{self, form_error, text_input, Nav},
    problem::Problem,
    session::SignedIn,
    Console,
};

const PAGE: u32 = 100;

#[derive(Deserialize, Default)]
pub(crate) struct UsersQuery {
    after: Option<String>,
    done: Option<String>,
}

fn notice_text(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "created" => "User created.",
        "enabled" => "User enabled.",
        "disabled" => "User disabled; their sessions ended.",
        "password" => "Password changed; the user's sessions ended.",
        "role" => "Role changed.",
        "deleted" => "User deleted.",
        _ => return None,
    })
}

/// The form and user a problem came from.
struct Origin<'a> {
    problem: &'a Problem,
    /// `None`: the create form; `Some(username)`: that user's row.
    user: Option<&'a str>,
}

const CREATE_FIELDS: [&str; 5] = ["username", "password", "name", "email", "roles"];

async fn render(
    console: &Console,
    session: &SignedIn,
    after: Option<&str>,
    notice: Option<&str>,
    origin: Option<Origin<'_>>,
) -> Result<Response, ErrorPage> {
    let page = console.ops.list_users(Some(PAGE), after).await?;
    let create_problem = origin.as_ref().filter(|o| o.user.is_none()).map(|o| o.problem);
    let body = html! {
        h1 { "Users" }
        p { "People who sign in to this console. Only users with role admin may use it." }
        (layout::notice(notice))
        @if let Some(o) = origin.as_ref().filter(|o| o.user.is_some()) {
            p.error role="alert" { (o.user.unwrap_or_default()) ": " (o.problem.message) }
        }
        div.table-wrap {
            table.stack #users {
                thead { tr { th { "Username" } th { "Name" } th { "Email" } th { "Role" } th { "State" } th { "Actions" } } }
                tbody { @for u in &page.users { (row(session, u)) } }
            }
        }
        @if let Some(next) = &page.next_after {
            nav.pager aria-label="Pages" { a href={ "/console/users?after=" (query_value(next)) } rel="next" { "Next page" } }
        }
        section.card aria-labelledby="h-new-user" {
            h2 #h-new-user { "Create user" }
            (form_error(create_problem, &CREATE_FIELDS))
            form method="post" action="/console/users" {
                (layout::csrf(session))
                (text_input("Username", "username", "", "text", create_problem, None))
                (text_input("Password", "password", "", "password", create_problem, Some("At least 8 characters.")))
                (text_input("Name", "name", "", "text", create_problem, None))
                (text_input("Email", "email", "", "text", create_problem, None))
                div.field {
                    input #f-admin type="checkbox" name="admin" value="true" checked;
                    label.inline for="f-admin" { " Administrator (may use this console)" }
                }
                button type="submit" { "Create user" }
            }
        }
    };
    let status = origin.map_or(axum::http::StatusCode::OK, |o| o.problem.status);
    Ok((status, layout::page("Users", session, Nav::Users, body)).into_response())
}

fn row(session: &SignedIn, u: &keyward_admin::User) -> Markup {
    let action = format!("/console/users/{}", path_segment(&u.username));
    let admin = u.roles.iter().any(|r| r == ADMIN_ROLE);
    let pw_id = format!("pw-{}", path_segment(&u.username));
    html! {
        tr data-username=(u.username) {
            td.mono data-label="Username" { (u.username) }
            td data-label="Name" { (u.name.as_deref().unwrap_or("")) }
            td data-label="Email" { (u.email.as_deref().unwrap_or("")) }
            td data-label="Role" { @if admin { "admin" } @else { "—" } }
            td data-label="State" { @if u.enabled { span.badge { "enabled" } } @else { span.badge.off { "disabled" } } }
            td data-label="Actions" {
                form.inline method="post" action=(action) {
                    (layout::csrf(session))
                    @if u.enabled {
                        button.secondary type="submit" name="action" value="disable" aria-label={ "Disable " (u.username) } { "Disable" }
                    } @else {
                        button.secondary type="submit" name="action" value="enable" aria-label={ "Enable " (u.username) } { "Enable" }
                    }
                    " "
                    @if admin {
                        button.secondary type="submit" name="action" value="revoke_admin" aria-label={ "Remove role admin from " (u.username) } { "Remove admin" }
                    } @else {
                        button.secondary type="submit" name="action" value="grant_admin" aria-label={ "Make " (u.username) " an admin" } { "Make admin" }
                    }
                }
                form.row method="post" action=(action) {
                    (layout::csrf(session))
                    input type="hidden" name="action" value="password";
                    label for=(pw_id) { "New password" }
                    input id=(pw_id) type="password" name="password" autocomplete="new-password";
                    button.secondary type="submit" { "Reset password" }
                }
                form.inline method="post" action=(action) data-confirm={ "Delete user " (u.username) "?" } {
                    (layout::csrf(session))
                    button.danger type="submit" name="action" value="delete" aria-label={ "Delete " (u.username) } { "Delete" }
                }
            }
        }
    }
}

/// The page again with a refused change: above the create form (`user` is `None`) or naming
/// the user whose row it came from.
async fn refused(
    console: &Console,
    session: &SignedIn,
    e: &AdminError,
    user: Option<&str>,
) -> Result<Response, ErrorPage> {
    let problem = Problem::from(e);
    let origin = Origin {
        problem: &problem,
        user,
    };
    render(console, session, None, None, Some(origin)).await
}

/// `GET /console/users`.
pub(crate) async fn list(
    State(console): State<Console>,
    session: SignedIn,
    Query(q): Query<UsersQuery>,
) -> Result<Response, ErrorPage> {
    render(
        &console,
        &session,
        q.after.as_deref(),
        notice_text(q.done.as_deref()),
        None,
    )
    .await
}

#[derive(Deserialize)]
pub(crate) struct CreateForm {
    #[serde(default)]
    username: String,
    password: Option<Password>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    admin: Option<String>,
}

/// `POST /console/users`.
pub(crate) async fn create(
    State(console): State<Console>,
    ConsoleForm { session, form }: ConsoleForm<CreateForm>,
) -> Result<Response, ErrorPage> {
    let user = NewUser {
        username: form.username.trim().to_owned(),
        password: form.password.unwrap_or_else(|| Password::new(String::new())),
        name: typed(&form.name),
        email: typed(&form.email),
        roles: Some(if form.admin.is_some() {
            vec![ADMIN_ROLE.to_owned()]
        } else {
            Vec::new()
        }),
    };
    let created = console.ops.create_user(&session.actor(), user).await;
    match created {
        Ok(_) => Ok(Redirect::to("/console/users?done=created").into_response()),
        Err(e) => refused(&console, &session, &e, None).await,
    }
}

#[derive(Deserialize)]
pub(crate) struct ChangeForm {
    #[serde(default)]
    action: String,
    password: Option<Password>,
}

/// `POST /console/users/{username}`: enable, disable, reset password, grant or take admin, delete.
pub(crate) async fn change(
    State(console): State<Console>,
    Path(username): Path<String>,
    ConsoleForm { session, form }: ConsoleForm<ChangeForm>,
) -> Result<Response, ErrorPage> {
    let actor = session.actor();
    let result = match form.action.as_str() {
        "enable" | "disable" => {
            let p = UserPatch {
                enabled: Some(form.action == "enable"),
                ..UserPatch::default()
            };
            console
                .ops
                .update_user(&actor, &username, p)
                .await
                .map(|_| form.action.as_str())
        }
        "grant_admin" | "revoke_admin" => {
            let roles = if form.action == "grant_admin" {
                vec![ADMIN_ROLE.to_owned()]
            } else {
                Vec::new()
            };
            let p = UserPatch {
                roles: Some(roles),
                ..UserPatch::default()
            };
            console
                .ops
                .update_user(&actor, &username, p)
                .await
                .map(|_| "role")
        }
        "password" => {
            let p = UserPatch {
                password: Some(form.password.unwrap_or_else(|| Password::new(String::new()))),
                ..UserPatch::default()
            };
            console
                .ops
                .update_user(&actor, &username, p)
                .await
                .map(|_| "password")
        }
        "delete" => console
            .ops
            .delete_user(&actor, &username)
            .await
            .map(|_| "deleted"),
        _ => Err(AdminError::InvalidRequest("unknown action".into())),
    };
    match result {
        Ok(done) => {
            let done = match done {
                "enable" => "enabled",
                "disable" => "disabled",
                other => other,
            };
            Ok(Redirect::to(&format!("/console/users?done={done}")).into_response())
        }
        Err(e) => refused(&console, &session, &e, Some(&username)).await,
    }
}
