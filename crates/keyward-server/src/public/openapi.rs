//! The public endpoints' part of the API description (merged into the whole in
//! `admin/openapi.rs`); the schemas it names are in `openapi_schemas.rs`.

use utoipa::OpenApi;

use crate::api_schemas::{AssertionType, HealthState, KeyKty, TokenGrantType};

#[derive(OpenApi)]
#[openapi(
    paths(
        super::discovery::openid_configuration,
        super::discovery::authorization_server,
        super::discovery::jwks,
        super::token::token,
        crate::authorize::authorize_get,
        crate::authorize::par::push,
        crate::oauth::introspect::introspect,
        crate::oauth::revoke::revoke,
        crate::oauth::userinfo::userinfo,
        crate::authorize::logout::get,
        super::health::healthz
    ),
    components(schemas(TokenGrantType, AssertionType, KeyKty, HealthState))
)]
pub(crate) struct PublicApi;
