//! `GET /oauth/logout`: ends the browser's Kakao Account session (not the
//! app's tokens; that is `/v1/user/logout`), `docs/kakao-api.md` §5.3.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

use crate::EmulatorState;
use crate::kauth::authorize::{SESSION_COOKIE, session_cookie};
use crate::pages;
use crate::params::Params;
use crate::response::{found, with_query};

pub(crate) async fn logout(
    State(state): State<EmulatorState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let shared = state.shared();
    let params = Params::from_query(query.as_deref());
    let client_id = params.get("client_id").unwrap_or("");
    if client_id != shared.client_id {
        return pages::error("KOE101", &format!("Not exist client_id [{client_id}]"));
    }
    let target = params.get("logout_redirect_uri").unwrap_or("");
    if !shared.logout_redirect_uris.iter().any(|u| u == target) {
        return pages::error(
            "KOE007",
            &format!("등록되지 않은 로그아웃 리다이렉트 URI입니다: {target}"),
        );
    }
    if let Some(cookie) = session_cookie(&headers) {
        shared.store().sessions.remove(&cookie);
    }
    let location = match params.get("state") {
        Some(state) => with_query(target, &[("state", state)]),
        None => target.to_owned(),
    };
    let mut response = found(&location);
    let expired = format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
    if let Ok(v) = HeaderValue::from_str(&expired) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}
