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
use crate::users::{
    agreed_scopes, configured_scopes, render, scope_label, select_properties, userinfo_claims,
};

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
    let Some(user) = shared.account(caller.user_id) else {
        return KapiError::TOKEN_NOT_FOUND.into_response();
    };
    let user = render(&user, &shared.base_url, secure);
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
            store.consents.remove(&caller.user_id);
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
            let Some(user) = shared.account(caller.user_id) else {
                return KapiError::TOKEN_NOT_FOUND.into_response();
            };
            let user = render(&user, &shared.base_url, true);
            json_response(
                StatusCode::OK,
                &Value::Object(userinfo_claims(&user, caller.user_id)),
            )
        }
        Err(e) => e.into_response(),
    }
}

/// `{id, scopes: [...]}` as `/v2/user/scopes` answers: every item the app
/// has configured for this user, `revocable` only beside `agreed: true`
/// (`docs/kakao-api.md` §5.5). `only`, when given, limits the list.
fn scopes_body(user: &Value, id: i64, only: Option<&[String]>, required: &[String]) -> Value {
    let agreed = agreed_scopes(user);
    let items: Vec<Value> = configured_scopes(user)
        .into_iter()
        .filter(|scope| only.is_none_or(|only| only.contains(scope)))
        .map(|scope| {
            let is_agreed = agreed.contains(&scope);
            let mut item = json!({
                "id": scope,
                "display_name": scope_label(&scope),
                "type": "PRIVACY",
                "using": true,
                "agreed": is_agreed,
            });
            if is_agreed {
                item["revocable"] = Value::Bool(!required.contains(&scope));
            }
            item
        })
        .collect();
    json!({"id": id, "scopes": items})
}

/// A `scopes=["…"]` parameter (JSON array of strings).
fn scope_list(params: &Params) -> Result<Option<Vec<String>>, KapiError> {
    match params.get("scopes") {
        None => Ok(None),
        Some(raw) => serde_json::from_str::<Vec<String>>(raw)
            .map(Some)
            .map_err(|_| KapiError::INVALID_PARAMETER),
    }
}

/// `GET /v2/user/scopes`: the consent items and whether the user agreed.
pub(crate) async fn scopes(
    State(state): State<EmulatorState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let caller = match authenticate(&state, &headers) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let only = match scope_list(&Params::from_query(query.as_deref())) {
        Ok(only) => only,
        Err(e) => return e.into_response(),
    };
    let shared = state.shared();
    let Some(user) = shared.account(caller.user_id) else {
        return KapiError::TOKEN_NOT_FOUND.into_response();
    };
    json_response(
        StatusCode::OK,
        &scopes_body(
            &user,
            caller.user_id,
            only.as_deref(),
            &shared.required_items,
        ),
    )
}

/// `POST /v2/user/revoke/scopes` with `scopes=["…"]`: withdraws optional
/// items. A required item is `403 -3`, an item the app does not have is
/// `400 -2`; either way nothing changes. Tokens stay valid.
pub(crate) async fn revoke_scopes(
    State(state): State<EmulatorState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = match authenticate(&state, &headers) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let wanted = match scope_list(&Params::from_body(&body)) {
        Ok(Some(wanted)) if !wanted.is_empty() => wanted,
        Ok(_) => return KapiError::INVALID_PARAMETER.into_response(),
        Err(e) => return e.into_response(),
    };
    let shared = state.shared();
    let mut store = shared.store();
    let Some(user) = shared.account_in(&store, caller.user_id) else {
        return KapiError::TOKEN_NOT_FOUND.into_response();
    };
    let configured = configured_scopes(&user);
    if let Some(unknown) = wanted.iter().find(|s| !configured.contains(s)) {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({
                "msg": format!("There is no scopes to revoke. check out if given scope id([{unknown}]) is correct again."),
                "code": -2,
            }),
        );
    }
    if let Some(required) = wanted.iter().find(|s| shared.required_items.contains(s)) {
        return json_response(
            StatusCode::FORBIDDEN,
            &json!({
                "msg": format!("[{required}] is not revocable. check out if it's set as required on developers.kakao.com"),
                "code": -3,
            }),
        );
    }
    let changes = store.consents.entry(caller.user_id).or_default();
    for scope in &wanted {
        changes.withdraw(scope);
    }
    let user = shared.account_in(&store, caller.user_id).unwrap_or(user);
    drop(store);
    json_response(
        StatusCode::OK,
        &scopes_body(&user, caller.user_id, Some(&wanted), &shared.required_items),
    )
}
