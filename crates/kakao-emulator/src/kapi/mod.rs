//! `kapi.kakao.com`: the user APIs, all behind `Authorization: Bearer`.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::EmulatorState;
use crate::params::Params;
use crate::response::{KapiError, json_response};
use crate::store::{TokenLookup, reported_secs};
use crate::users::{render, select_properties, userinfo_claims};

/// The user and grant behind a valid bearer token.
struct Caller {
    user_id: i64,
    grant: u64,
    expires_at_ms: u64,
}

fn authenticate(state: &EmulatorState, headers: &HeaderMap) -> Result<Caller, KapiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or(KapiError::TOKEN_NOT_FOUND)?;
    let shared = state.shared();
    let now_ms = shared.clock.now_millis();
    match shared.store().lookup_access(token, now_ms) {
        TokenLookup::Valid {
            user_id,
            grant,
            expires_at_ms,
        } => Ok(Caller {
            user_id,
            grant,
            expires_at_ms,
        }),
        TokenLookup::Expired => Err(KapiError::TOKEN_EXPIRED),
        TokenLookup::Unknown => Err(KapiError::TOKEN_NOT_FOUND),
    }
}

fn params(query: Option<&str>, body: &Bytes) -> Params {
    let mut params = Params::from_query(query);
    params.extend(Params::from_body(body));
    params
}

/// `GET|POST /v2/user/me` with `secure_resource` and `property_keys`.
pub(crate) async fn me(
    State(state): State<EmulatorState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let caller = match authenticate(&state, &headers) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let shared = state.shared();
    let params = params(query.as_deref(), &body);
    let secure = params.get("secure_resource") == Some("true");
    let Some(user) = shared.users.get(caller.user_id) else {
        return KapiError::TOKEN_NOT_FOUND.into_response();
    };
    let user = render(user, &shared.base_url, secure);
    let user = match params.get("property_keys") {
        None => user,
        Some(keys) => match select_properties(&user, keys) {
            Some(selected) => selected,
            None => return KapiError::INVALID_PARAMETER.into_response(),
        },
    };
    json_response(StatusCode::OK, &user)
}

/// `GET /v1/user/access_token_info`: `{id, expires_in, app_id}`.
pub(crate) async fn access_token_info(
    State(state): State<EmulatorState>,
    headers: HeaderMap,
) -> Response {
    match authenticate(&state, &headers) {
        Ok(caller) => {
            let shared = state.shared();
            let expires_in = reported_secs(caller.expires_at_ms, shared.clock.now_millis());
            json_response(
                StatusCode::OK,
                &json!({"id": caller.user_id, "expires_in": expires_in, "app_id": shared.app_id}),
            )
        }
        Err(e) => e.into_response(),
    }
}

/// `POST /v1/user/logout`: revokes this token pair (access and refresh).
pub(crate) async fn logout(State(state): State<EmulatorState>, headers: HeaderMap) -> Response {
    match authenticate(&state, &headers) {
        Ok(caller) => {
            state.shared().store().revoke_grant(caller.grant);
            json_response(StatusCode::OK, &json!({"id": caller.user_id}))
        }
        Err(e) => e.into_response(),
    }
}

/// `POST /v1/user/unlink`: revokes every token of the user and forgets the
/// link, so the next login shows the consent page again.
pub(crate) async fn unlink(State(state): State<EmulatorState>, headers: HeaderMap) -> Response {
    match authenticate(&state, &headers) {
        Ok(caller) => {
            let mut store = state.shared().store();
            store.revoke_user(caller.user_id);
            store.linked.remove(&caller.user_id);
            drop(store);
            json_response(StatusCode::OK, &json!({"id": caller.user_id}))
        }
        Err(e) => e.into_response(),
    }
}

/// `GET|POST /v1/oidc/userinfo`: the consented OIDC claims.
pub(crate) async fn userinfo(State(state): State<EmulatorState>, headers: HeaderMap) -> Response {
    match authenticate(&state, &headers) {
        Ok(caller) => {
            let shared = state.shared();
            let Some(user) = shared.users.get(caller.user_id) else {
                return KapiError::TOKEN_NOT_FOUND.into_response();
            };
            let user = render(user, &shared.base_url, true);
            json_response(
                StatusCode::OK,
                &Value::Object(userinfo_claims(&user, caller.user_id)),
            )
        }
        Err(e) => e.into_response(),
    }
}
