use axum::Json;
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

use super::Admin;

/// The admin API description, generated from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(title = "keyward admin API", description = "Bearer token with scope keyward:admin, from client_credentials."),
    paths(super::clients::create, super::clients::list, super::clients::read, super::clients::update,
          super::clients::delete, super::secret::rotate, super::credentials::list, super::credential_keys::import, super::credential_generate::generate,
          super::credentials::update, super::credentials::delete, super::keys_cache::clear, super::keys_cache::show, super::audit::list),
    modifiers(&BearerAuth)
)]
struct AdminApi;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

pub(crate) async fn document(_admin: Admin) -> Json<utoipa::openapi::OpenApi> {
    Json(AdminApi::openapi())
}
