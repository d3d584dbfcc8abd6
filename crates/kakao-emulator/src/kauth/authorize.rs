//! `GET /oauth/authorize` and the consent page's form.
//!
//! Configuration errors (unknown `client_id`, unregistered `redirect_uri`, bad
//! `response_type`, unknown scope, non-S256 PKCE) render Kakao's error page and
//! never redirect; user outcomes (code, `access_denied`, `consent_required`,
//! `login_required`) are 302s to the registered redirect URI.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

use crate::EmulatorState;
use crate::pages::{self, Account};
use crate::params::{Params, split_list};
use crate::response::{found, with_query};
use crate::state::Shared;
use crate::store::{AuthorizeRequest, IssuedCode, Store, random_token};
use crate::users::{agreed_scopes, configured_scopes, scope_label};

/// The browser session cookie (plays the Kakao Account login session).
pub(crate) const SESSION_COOKIE: &str = "kakao_emulator_session";

/// `GET /oauth/authorize`.
pub(crate) async fn authorize(
    State(state): State<EmulatorState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let shared = state.shared();
    let params = Params::from_query(query.as_deref());
    let request = match validate(shared, &params) {
        Ok(r) => r,
        Err((code, message)) => return pages::error(code, &message),
    };
    let now = shared.clock.now_secs();
    let cookie = session_cookie(&headers);
    let mut store = shared.store();
    let session = cookie
        .as_deref()
        .and_then(|c| store.sessions.get(c).copied());
    let has = |p: &str| request.prompt.iter().any(|v| v == p);

    if has("none") {
        // No interaction allowed: only an authenticated, already linked user
        // gets a code (`docs/kakao-api.md` §1.3, prompt=none).
        let user = store.auto_consent.map(|id| (id, now)).or(session);
        return match user {
            None => deny(&request, "login_required", "user authentication required."),
            Some((id, _)) if !store.linked.contains(&id) => {
                deny(&request, "consent_required", "user consent required.")
            }
            Some((id, auth_time)) => issue_code(shared, &mut store, id, auth_time, request),
        };
    }
    if let Some(id) = store.auto_consent {
        // The scripted user logs in and agrees at once (`--auto-consent`),
        // to every item asked for.
        store.linked.insert(id);
        agree_to(shared, &mut store, id, &request);
        return issue_code(shared, &mut store, id, now, request);
    }
    if let Some((id, auth_time)) = session {
        let interactive = has("login") || has("select_account") || has("create");
        if store.linked.contains(&id)
            && !interactive
            && !needs_more_consent(shared, &store, id, &request)
        {
            // Linked users skip the consent screen (`docs/kakao-api.md` §1.2).
            return issue_code(shared, &mut store, id, auth_time, request);
        }
    }

    let account = match session {
        Some((id, _)) if !has("login") && !has("select_account") => Account::Known {
            id,
            label: shared.users.display_name(id),
        },
        _ => Account::Choose(
            shared
                .users
                .ids()
                .into_iter()
                .map(|id| (id, shared.users.display_name(id)))
                .collect(),
        ),
    };
    let linked = session.is_some_and(|(id, _)| store.linked.contains(&id));
    let items = consent_items(shared, &store, session.map(|(id, _)| id), linked, &request);
    let tx = random_token(24);
    store.pending.insert(tx.clone(), request);
    drop(store);
    let labels: Vec<&str> = items.iter().map(|s| scope_label(s)).collect();
    pages::consent(&shared.app_name, &tx, &labels, &account)
}

/// `POST /oauth/authorize/consent`: the consent page's Agree / Cancel.
pub(crate) async fn consent(State(state): State<EmulatorState>, body: Bytes) -> Response {
    let shared = state.shared();
    let form = Params::from_body(&body);
    let mut store = shared.store();
    let Some(request) = form.get("tx").and_then(|tx| store.pending.remove(tx)) else {
        return pages::error(
            "KOE001",
            "만료되었거나 잘못된 요청입니다. 다시 로그인해 주세요.",
        );
    };
    if form.get("action") != Some("agree") {
        return deny(&request, "access_denied", "User denied access");
    }
    let Some(id) = form
        .get("user")
        .and_then(|u| u.parse::<i64>().ok())
        .filter(|id| shared.users.get(*id).is_some())
    else {
        return pages::error("KOE001", "알 수 없는 카카오계정입니다.");
    };
    let now = shared.clock.now_secs();
    store.linked.insert(id);
    agree_to(shared, &mut store, id, &request);
    let session = random_token(24);
    store.sessions.insert(session.clone(), (id, now));
    let mut response = issue_code(shared, &mut store, id, now, request);
    let cookie = format!("{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// A KOE code and the message for the error page.
type PageError = (&'static str, String);

fn validate(shared: &Shared, params: &Params) -> Result<AuthorizeRequest, PageError> {
    let client_id = params.get("client_id").unwrap_or("");
    if client_id != shared.client_id {
        return Err(("KOE101", format!("Not exist client_id [{client_id}]")));
    }
    let redirect_uri = params.get("redirect_uri").unwrap_or("");
    if !shared
        .store()
        .redirect_uris
        .iter()
        .any(|u| u == redirect_uri)
    {
        return Err((
            "KOE006",
            format!("등록되지 않은 리다이렉트 URI입니다: {redirect_uri}"),
        ));
    }
    match params.get("response_type") {
        Some("code") => {}
        Some("token") => {
            return Err(("KOE202", "Implicit grant is not supported.".into()));
        }
        other => {
            return Err((
                "KOE201",
                format!("Unsupported response type: {}", other.unwrap_or("")),
            ));
        }
    }
    let code_challenge = params.get("code_challenge").map(str::to_owned);
    if code_challenge.is_some() && params.get("code_challenge_method") != Some("S256") {
        // Discovery lists S256 only; `plain` (also the RFC default when the
        // method is omitted) is refused.
        return Err(("KOE001", "code_challenge_method must be S256.".into()));
    }
    let scopes = split_list(params.get("scope"));
    // KOE205 is about the app's console: a scope it has not set up as a
    // consent item, or `openid` while OpenID Connect is off.
    if let Some(unknown) = scopes.iter().find(|s| !shared.consent_items.contains(s)) {
        return Err((
            "KOE205",
            format!("설정하지 않은 동의 항목입니다: {unknown}"),
        ));
    }
    Ok(AuthorizeRequest {
        redirect_uri: redirect_uri.to_owned(),
        state: params.get("state").map(str::to_owned),
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge,
        scopes,
        prompt: split_list(params.get("prompt")),
    })
}

/// Whether `scope` asks for items this user has not agreed to yet.
fn needs_more_consent(shared: &Shared, store: &Store, id: i64, request: &AuthorizeRequest) -> bool {
    let agreed = shared
        .account_in(store, id)
        .as_ref()
        .map(agreed_scopes)
        .unwrap_or_default();
    request
        .scopes
        .iter()
        .any(|s| s != "openid" && !agreed.contains(s))
}

/// The items listed on the consent page: the requested `scope`, else every
/// consent item the app has configured. A linked user is asked only for
/// what they have not agreed to yet (additional consent).
fn consent_items(
    shared: &Shared,
    store: &Store,
    user: Option<i64>,
    linked: bool,
    request: &AuthorizeRequest,
) -> Vec<String> {
    if request.scopes.is_empty() {
        return shared.consent_items.clone();
    }
    let agreed = match user {
        Some(id) if linked => shared
            .account_in(store, id)
            .as_ref()
            .map(agreed_scopes)
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    request
        .scopes
        .iter()
        .filter(|s| !agreed.contains(s))
        .cloned()
        .collect()
}

/// The user agreed on the page (or by script): every item the request names
/// that the app has configured for them is agreed from now on.
fn agree_to(shared: &Shared, store: &mut Store, id: i64, request: &AuthorizeRequest) {
    let Some(user) = shared.account_in(store, id) else {
        return;
    };
    let configured = configured_scopes(&user);
    let changes = store.consents.entry(id).or_default();
    for scope in request.scopes.iter().filter(|s| configured.contains(s)) {
        changes.agree(scope);
    }
}

fn issue_code(
    shared: &Shared,
    store: &mut Store,
    user_id: i64,
    auth_time: u64,
    request: AuthorizeRequest,
) -> Response {
    // Kakao's codes are long opaque strings; 64 random bytes give 86 characters.
    let code = random_token(64);
    store.secrets.push(code.clone());
    let mut pairs = vec![("code", code.as_str())];
    if let Some(state) = &request.state {
        pairs.push(("state", state));
    }
    let location = with_query(&request.redirect_uri, &pairs);
    store.codes.insert(
        code.clone(),
        IssuedCode {
            user_id,
            request,
            auth_time,
            issued_at_ms: shared.clock.now_millis(),
        },
    );
    tracing::debug!(user_id, "authorization code issued");
    found(&location)
}

fn deny(request: &AuthorizeRequest, error: &str, description: &str) -> Response {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(state) = &request.state {
        pairs.push(("state", state));
    }
    found(&with_query(&request.redirect_uri, &pairs))
}

pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}
