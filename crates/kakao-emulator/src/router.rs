//! The emulator's routes, behind its two layers.

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};

use crate::state::{BRIDGE_PATH, EmulatorState, SIGNED_OUT_PATH};
use crate::{assets, kapi, kauth, middleware};

/// The emulator's router: every kauth and kapi path on one service, behind
/// the request log, latency and fault layers. Use it in-process with
/// `tower::ServiceExt::oneshot`, or serve it yourself; [`crate::start`] does the latter.
pub fn app(state: EmulatorState) -> Router {
    Router::new()
        // kauth
        .route("/oauth/authorize", get(kauth::authorize::authorize))
        .route("/oauth/authorize/consent", post(kauth::authorize::consent))
        .route("/oauth/token", post(kauth::token::token))
        .route("/oauth/tokeninfo", post(kauth::tokeninfo::tokeninfo))
        .route("/oauth/logout", get(kauth::logout::logout))
        .route(
            "/.well-known/openid-configuration",
            get(kauth::oidc::discovery),
        )
        .route("/.well-known/jwks.json", get(kauth::oidc::jwks))
        // kapi
        .route("/v2/user/me", get(kapi::me).post(kapi::me))
        .route("/v1/user/access_token_info", get(kapi::access_token_info))
        .route("/v1/user/logout", post(kapi::logout))
        .route("/v1/user/unlink", post(kapi::unlink))
        .route("/v2/user/scopes", get(kapi::scopes))
        .route("/v2/user/revoke/scopes", post(kapi::revoke_scopes))
        .route(
            "/v1/oidc/userinfo",
            get(kapi::userinfo).post(kapi::userinfo),
        )
        // The publisher's bridge page and the profile images.
        .route(BRIDGE_PATH, get(assets::bridge))
        .route(SIGNED_OUT_PATH, get(assets::signed_out))
        .route("/images/{file}", get(assets::image))
        // Layers run bottom-up on the way in: the log sees the final answer,
        // including injected faults.
        .layer(from_fn_with_state(state.clone(), middleware::apply))
        .layer(from_fn_with_state(state.clone(), middleware::record))
        .with_state(state)
}
