//! The HTTP API.
//!
//! | Route | What |
//! |---|---|
//! | `POST /v1/auth/kakao` | `{code, code_verifier, redirect_uri, nonce}` → the service's tokens and the user |
//! | `POST /v1/auth/refresh` | `{refresh_token}` → new tokens (the old refresh token is used up) |
//! | `POST /v1/auth/logout` | ends the session and logs out at Kakao |
//! | `GET /v1/me` | the user, fresh from Kakao (or as stored, `"stale": true`, when Kakao is down) |
//! | `DELETE /v1/me` | unlinks at Kakao and deletes the user |
//! | `GET /.well-known/jwks.json` | the access tokens' public keys |
//! | `GET /healthz` | `{"status":"ok"}` when the database answers |
//!
//! Every error is `{"code", "message"}` ([`crate::error::CODES`]). Every
//! answer carries `Cache-Control: no-store` (but the JWKS). The auth routes
//! are rate-limited per client; every request has a body limit and a
//! timeout. The access log line holds the method, the path (never a query),
//! the status and the time taken.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kakao_desk_core::birthday::Calendar;
use kakao_desk_core::clock::Clock;
use kakao_desk_core::config::RedirectUri;
use kakao_desk_core::secret::{AuthorizationCode, Nonce, PkceVerifier};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::kakao::{Answer, Call, Kakao};
use crate::limit::{RateLimiter, client_address};
use crate::seal::Sealer;
use crate::store::{Database, KakaoUser, NewSession, Rotation, SessionRow, Store, User};
use crate::tokens::{self, AccessClaims, Signer};

/// Everything a request handler reaches.
#[derive(Debug)]
pub struct AppState {
    /// The database.
    pub store: Database,
    /// Kakao.
    pub kakao: Kakao,
    /// The access token signer.
    pub signer: Signer,
    /// Seals Kakao's tokens.
    pub sealer: Sealer,
    /// The clock (injectable for tests).
    pub clock: Arc<dyn Clock>,
    /// Redirect URIs a login may name (empty: any).
    pub redirect_uris: Vec<String>,
    /// Refresh token lifetime.
    pub refresh_ttl: Duration,
    /// The auth routes' limiter (`None`: off).
    pub limiter: Option<RateLimiter>,
    /// Proxies whose X-Forwarded-For is believed.
    pub trusted_proxies: Vec<IpAddr>,
}

type Shared = Arc<AppState>;

/// The router, with its layers: body limit, timeout, rate limit on
/// `/v1/auth/*`, no-store caching, and the access log.
pub fn router(state: Shared, body_limit: usize, timeout: Duration) -> Router {
    let auth = Router::new()
        .route("/v1/auth/kakao", post(login))
        .route("/v1/auth/refresh", post(refresh))
        .route("/v1/auth/logout", post(logout))
        .route_layer(middleware::from_fn_with_state(state.clone(), rate_limit));
    Router::new()
        .merge(auth)
        .route("/v1/me", get(me).delete(delete_me))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/healthz", get(healthz))
        .fallback(|| async { ApiError::not_found() })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn(
            move |request: Request, next: Next| async move {
                match tokio::time::timeout(timeout, next.run(request)).await {
                    Ok(response) => response,
                    Err(_) => ApiError::timeout().into_response(),
                }
            },
        ))
        .layer(middleware::from_fn(access_log))
        .with_state(state)
}

async fn access_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    // The path only: a query could carry anything a client put there.
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if path != "/.well-known/jwks.json" {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    tracing::info!(
        %method,
        path = %path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

async fn rate_limit(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(limiter) = &state.limiter {
        let client = client_address(peer, request.headers(), &state.trusted_proxies);
        if let Err(wait) = limiter.check(client, Instant::now()) {
            tracing::info!(%client, "rate limited");
            return ApiError::rate_limited(wait).into_response();
        }
    }
    next.run(request).await
}

/// `Json<T>` whose refusals are [`ApiError`]s.
struct ApiJson<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::payload_too_large())
            }
            Err(_) => Err(ApiError::invalid_request(
                "the body must be a JSON object with this endpoint's fields (Content-Type: application/json)",
            )),
        }
    }
}

/// A request with a valid access token of a live session.
struct Authed {
    claims: AccessClaims,
    session: SessionRow,
}

impl FromRequestParts<Shared> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(ApiError::unauthorized)?;
        let now = state.clock.unix_now();
        let claims = state.signer.verify(token, now).await?;
        let session = state
            .store
            .session(&claims.sid)
            .await?
            .filter(|s| !s.ended && s.user_id.to_string() == claims.sub)
            .ok_or_else(ApiError::session_ended)?;
        Ok(Self { claims, session })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    code: String,
    code_verifier: String,
    redirect_uri: String,
    nonce: String,
}

/// RFC 7636 §4.1: 43–128 characters of `[A-Za-z0-9-._~]`.
fn is_pkce_verifier(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn is_token_text(value: &str, max: usize) -> bool {
    !value.is_empty() && value.len() <= max && value.bytes().all(|b| b.is_ascii_graphic())
}

async fn login(
    State(state): State<Shared>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    if !is_token_text(&body.code, 1024) {
        return Err(ApiError::invalid_request("code is missing or malformed"));
    }
    if !is_pkce_verifier(&body.code_verifier) {
        return Err(ApiError::invalid_request(
            "code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636)",
        ));
    }
    if !is_token_text(&body.nonce, 256) {
        return Err(ApiError::invalid_request("nonce is missing or malformed"));
    }
    if !state.redirect_uris.is_empty() && !state.redirect_uris.contains(&body.redirect_uri) {
        return Err(ApiError::redirect_uri_not_allowed());
    }
    let redirect_uri = RedirectUri::parse(&body.redirect_uri)
        .map_err(|_| ApiError::invalid_request("redirect_uri is not a valid redirect URI"))?;
    let clock = state.clock.as_ref();
    let kakao = state
        .kakao
        .login(
            &AuthorizationCode::new(body.code),
            &PkceVerifier::new(body.code_verifier),
            &redirect_uri,
            &Nonce::new(body.nonce),
            clock,
        )
        .await?;
    if !kakao.warnings.is_empty() {
        tracing::info!(
            warnings = kakao.warnings.len(),
            "Kakao's profile had fields that were left out"
        );
    }
    let now = clock.unix_now();
    let upserted = match state
        .store
        .upsert_kakao_user(&KakaoUser::from_profile(&kakao.profile), now)
        .await
    {
        Ok(upserted) => upserted,
        Err(error) => {
            // No session will hold Kakao's new tokens: end them at Kakao.
            kakao.revoke(&state.kakao).await;
            return Err(error.into());
        }
    };
    let session_id = tokens::new_session_id().map_err(|_| ApiError::internal())?;
    let (refresh_token, refresh_hash) =
        tokens::new_refresh_token().map_err(|_| ApiError::internal())?;
    let refresh_secs = secs(state.refresh_ttl);
    state
        .store
        .create_session(NewSession {
            id: session_id.clone(),
            user_id: upserted.user.id,
            kakao_tokens: kakao.seal_for(&state.sealer, &session_id)?,
            refresh_hash,
            now,
            refresh_expires_at: now.saturating_add(refresh_secs),
        })
        .await?;
    let access_token = state
        .signer
        .issue(upserted.user.id, &session_id, now)
        .map_err(|_| ApiError::internal())?;
    tracing::info!(
        user = upserted.user.id,
        created = upserted.created,
        "signed in with Kakao"
    );
    Ok(Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": state.signer.access_ttl().as_secs(),
        "refresh_token": refresh_token.as_str(),
        "refresh_token_expires_in": refresh_secs,
        "created": upserted.created,
        "user": user_json(&upserted.user),
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshRequest {
    refresh_token: String,
}

async fn refresh(
    State(state): State<Shared>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Response, ApiError> {
    let old = zeroize::Zeroizing::new(body.refresh_token);
    if !tokens::looks_like_refresh_token(&old) {
        return Err(ApiError::refresh_invalid());
    }
    let (new_token, new_hash) = tokens::new_refresh_token().map_err(|_| ApiError::internal())?;
    let now = state.clock.unix_now();
    let refresh_secs = secs(state.refresh_ttl);
    let rotation = state
        .store
        .rotate_refresh(
            tokens::refresh_hash(&old),
            new_hash,
            now,
            now.saturating_add(refresh_secs),
        )
        .await?;
    let (session_id, user_id) = match rotation {
        Rotation::Rotated {
            session_id,
            user_id,
        } => (session_id, user_id),
        Rotation::Reused => {
            tracing::warn!("a used refresh token came back: its session is ended");
            return Err(ApiError::refresh_reused());
        }
        Rotation::Ended => return Err(ApiError::session_ended()),
        Rotation::Unknown | Rotation::Expired => return Err(ApiError::refresh_invalid()),
    };
    let access_token = state
        .signer
        .issue(user_id, &session_id, now)
        .map_err(|_| ApiError::internal())?;
    Ok(Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": state.signer.access_ttl().as_secs(),
        "refresh_token": new_token.as_str(),
        "refresh_token_expires_in": refresh_secs,
    }))
    .into_response())
}

async fn logout(State(state): State<Shared>, authed: Authed) -> Result<Response, ApiError> {
    // The service session ends first, so that nothing after it (Kakao slow
    // or down, the request dropped) can leave it alive; Kakao's logout then
    // uses the session's tokens (refreshing them if it must), within a
    // bound of its own.
    state
        .store
        .end_session(&authed.claims.sid, "logout", state.clock.unix_now())
        .await?;
    let at_kakao = tokio::time::timeout(
        KAKAO_LOGOUT_LIMIT,
        state.kakao.call(
            &state.store,
            &state.sealer,
            &authed.session,
            Call::Logout,
            state.clock.as_ref(),
        ),
    )
    .await;
    let logged_out = matches!(at_kakao, Ok(Ok(_)));
    if !logged_out {
        tracing::info!("Kakao logout failed or took too long; the session has ended anyway");
    }
    Ok(Json(json!({ "kakao_logged_out": logged_out })).into_response())
}

/// How long logout waits for Kakao after the session has ended.
const KAKAO_LOGOUT_LIMIT: Duration = Duration::from_secs(15);

async fn me(State(state): State<Shared>, authed: Authed) -> Result<Response, ApiError> {
    let answer = state
        .kakao
        .call(
            &state.store,
            &state.sealer,
            &authed.session,
            Call::UserMe,
            state.clock.as_ref(),
        )
        .await;
    match answer {
        Ok(Answer::Profile(profile)) => {
            if profile.id.get().to_string() != kakao_id_of(&state, &authed).await? {
                tracing::error!("Kakao answered for another user than the session's");
                return Err(ApiError::internal());
            }
            let upserted = state
                .store
                .upsert_kakao_user(&KakaoUser::from_profile(&profile), state.clock.unix_now())
                .await?;
            Ok(Json(json!({ "user": user_json(&upserted.user), "stale": false })).into_response())
        }
        Ok(Answer::Done) => Err(ApiError::internal()),
        Err(error) if error.code == "kakao_unavailable" || error.code == "kakao_bad_answer" => {
            let user = stored_user(&state, &authed).await?;
            Ok(Json(json!({ "user": user_json(&user), "stale": true })).into_response())
        }
        Err(error) => {
            if error.code == "session_ended" {
                end_dead_session(&state, &authed).await;
            }
            Err(error)
        }
    }
}

async fn delete_me(State(state): State<Shared>, authed: Authed) -> Result<Response, ApiError> {
    let unlinked = state
        .kakao
        .call(
            &state.store,
            &state.sealer,
            &authed.session,
            Call::Unlink,
            state.clock.as_ref(),
        )
        .await;
    match unlinked {
        Ok(_) => {}
        // Kakao no longer knows the tokens: the user unlinked there already.
        Err(error) if error.code == "session_ended" => {
            tracing::info!("Kakao no longer knows the session; deleting without an unlink");
        }
        // Kakao down: delete nothing, so that the user can try again and
        // the link at Kakao does not outlive the account.
        Err(error) => return Err(error),
    }
    let deleted = state.store.delete_user(authed.session.user_id).await?;
    tracing::info!(user = authed.session.user_id, "deleted a user");
    Ok(Json(json!({ "deleted": deleted })).into_response())
}

async fn jwks(State(state): State<Shared>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        state.signer.jwks().to_string(),
    )
        .into_response()
}

async fn healthz(State(state): State<Shared>) -> Result<Response, ApiError> {
    state.store.ping().await?;
    Ok(Json(json!({ "status": "ok", "database": state.store.kind() })).into_response())
}

async fn stored_user(state: &AppState, authed: &Authed) -> Result<User, ApiError> {
    state
        .store
        .user(authed.session.user_id)
        .await?
        .ok_or_else(ApiError::session_ended)
}

async fn kakao_id_of(state: &AppState, authed: &Authed) -> Result<String, ApiError> {
    stored_user(state, authed)
        .await?
        .kakao_id
        .map(|id| id.to_string())
        .ok_or_else(ApiError::internal)
}

async fn end_dead_session(state: &AppState, authed: &Authed) {
    if let Err(error) = state
        .store
        .end_session(&authed.claims.sid, "kakao", state.clock.unix_now())
        .await
    {
        tracing::warn!(%error, "could not end a session Kakao no longer knows");
    }
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// The user as the API shows it: ids as strings (Kakao's exceed 2^53), the
/// birthday as an ISO date with year `0000` when unknown.
pub fn user_json(user: &User) -> Value {
    json!({
        "id": user.id.to_string(),
        "kakao_id": user.kakao_id.map(|id| id.to_string()),
        "nickname": user.nickname,
        "thumbnail_url": user.thumbnail_url,
        "profile_image_url": user.profile_image_url,
        "is_default_image": user.is_default_image,
        "email": user.email,
        "email_verified": user.email_verified,
        "birthday": user.birthday.map(|b| json!({
            "date": b.to_iso(),
            "year_known": b.year().is_some(),
            "calendar": match b.calendar() { Calendar::Solar => "solar", Calendar::Lunar => "lunar" },
            "leap_month": b.is_leap_month(),
        })),
        "needs_agreement": user.needs_agreement,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_verifiers_follow_rfc_7636() {
        assert!(is_pkce_verifier(&"a".repeat(43)));
        assert!(is_pkce_verifier(&"A-._~9".repeat(20)));
        assert!(!is_pkce_verifier(&"a".repeat(42)));
        assert!(!is_pkce_verifier(&"a".repeat(129)));
        assert!(!is_pkce_verifier(&format!("{}+", "a".repeat(43))));
    }

    #[test]
    fn codes_and_nonces_are_printable_and_bounded() {
        assert!(is_token_text("abc-DEF_123", 16));
        assert!(!is_token_text("", 16));
        assert!(!is_token_text("has space", 16));
        assert!(!is_token_text("line\nbreak", 16));
        assert!(!is_token_text(&"a".repeat(17), 16));
    }
}
