//! `POST /oauth/token`: the `authorization_code` and `refresh_token` grants.

use std::collections::VecDeque;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::EmulatorState;
use crate::params::Params;
use crate::response::{KauthError, json_response};
use crate::state::Shared;
use crate::store::{
    AccessToken, CODE_LIFETIME_MS, Grant, ROTATION_WINDOW_MS, RefreshToken, Store, random_token,
    reported_secs,
};
use crate::users::{agreed_scopes, id_token_profile_claims, render};

/// `POST /oauth/token`.
pub(crate) async fn token(
    State(state): State<EmulatorState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let shared = state.shared();
    let params = Params::from_body(&body);
    let result = check_form(&headers)
        .and_then(|()| check_client(shared, &params))
        .and_then(|()| match params.get("grant_type") {
            Some("authorization_code") => exchange_code(shared, &params),
            Some("refresh_token") => refresh(shared, &params),
            Some(other) => Err(KauthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "KOE001",
                format!("unsupported grant_type: {other}"),
            )),
            None => Err(KauthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "KOE001",
                "grant_type is required.",
            )),
        });
    let mut response = match result {
        Ok(body) => json_response(StatusCode::OK, &Value::Object(body)),
        Err(error) => error.into_response(),
    };
    // Kakao sends this on token responses; some OAuth libraries trip over it,
    // and a client that passes here must cope with it.
    response.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_static("Bearer realm=\"oauth\""),
    );
    response
}

/// Kakao documents the token endpoint's body as a form, and only that
/// (`docs/kakao-api.md` §0, §3): a JSON or multipart body is refused before
/// any parameter is read. Its exact answer is unconfirmed; the emulator
/// gives `400 invalid_request` KOE001.
fn check_form(headers: &HeaderMap) -> Result<(), KauthError> {
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    if media_type.is_some_and(|t| t.eq_ignore_ascii_case("application/x-www-form-urlencoded")) {
        Ok(())
    } else {
        Err(KauthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "KOE001",
            "Content-Type must be application/x-www-form-urlencoded.",
        ))
    }
}

fn check_client(shared: &Shared, params: &Params) -> Result<(), KauthError> {
    let client_id = params.get("client_id").unwrap_or("");
    if client_id != shared.client_id {
        return Err(KauthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "KOE101",
            format!("Not exist client_id [{client_id}]"),
        ));
    }
    // With the secret on, it must match; with it off, sending one is refused
    // too (reported, UNCONFIRMED; the safe client omits it).
    if params.get("client_secret") != shared.client_secret.as_deref() {
        return Err(KauthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "KOE010",
            "Bad client credentials",
        ));
    }
    Ok(())
}

fn invalid_grant(code: &'static str, description: impl Into<String>) -> KauthError {
    KauthError::new(StatusCode::BAD_REQUEST, "invalid_grant", code, description)
}

fn exchange_code(shared: &Shared, params: &Params) -> Result<Map<String, Value>, KauthError> {
    let code = params.get("code").unwrap_or("");
    let now_ms = shared.clock.now_millis();
    let mut store = shared.store();
    // Any attempt consumes the code, even a failed one: codes are single-use.
    let issued = store
        .codes
        .remove(code)
        .filter(|c| now_ms < c.issued_at_ms + CODE_LIFETIME_MS)
        .ok_or_else(|| {
            invalid_grant(
                "KOE320",
                format!("authorization code not found for code={code}"),
            )
        })?;
    if params.get("redirect_uri") != Some(issued.request.redirect_uri.as_str()) {
        return Err(invalid_grant("KOE303", "Redirect URI mismatch."));
    }
    if let Some(challenge) = &issued.request.code_challenge {
        let verified = params
            .get("code_verifier")
            .is_some_and(|v| URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes())) == *challenge);
        if !verified {
            return Err(invalid_grant("KOE320", "PKCE verification failed."));
        }
    }
    check_issuance(shared, &mut store, issued.user_id, true, now_ms)?;

    let grant_id = store.new_grant_id();
    let access_token = random_token(40);
    let refresh_token = random_token(40);
    store
        .secrets
        .extend([access_token.clone(), refresh_token.clone()]);
    let access_expires = now_ms + millis(shared.access_ttl);
    let refresh_expires = now_ms + millis(shared.refresh_ttl);
    // With OpenID Connect on, a plain login gets an id_token without asking;
    // an additional-consent request (one with `scope`) only when `openid` is
    // in it (`docs/kakao-api.md` §1.1, §7). KOE205 at authorize already
    // refused `openid` with OpenID Connect off.
    let with_id_token = if issued.request.scopes.is_empty() {
        shared.openid
    } else {
        issued.request.scopes.iter().any(|s| s == "openid")
    };
    store.access_tokens.insert(
        access_token.clone(),
        AccessToken {
            grant: grant_id,
            user_id: issued.user_id,
            expires_at_ms: access_expires,
        },
    );
    store.refresh_tokens.insert(
        refresh_token.clone(),
        RefreshToken {
            grant: grant_id,
            expires_at_ms: refresh_expires,
        },
    );
    store.grants.insert(
        grant_id,
        Grant {
            user_id: issued.user_id,
            with_id_token,
            auth_time: issued.auth_time,
            access_token: access_token.clone(),
            refresh_token: refresh_token.clone(),
        },
    );
    drop(store);

    let mut scopes = shared
        .account(issued.user_id)
        .as_ref()
        .map(agreed_scopes)
        .unwrap_or_default();
    let mut body = Map::new();
    body.insert("token_type".into(), "bearer".into());
    body.insert("access_token".into(), access_token.into());
    if with_id_token {
        scopes.push("openid".into());
        let id_token = sign_id_token(
            shared,
            issued.user_id,
            issued.auth_time,
            issued.request.nonce.as_deref(),
        )?;
        body.insert("id_token".into(), id_token.into());
    }
    body.insert(
        "expires_in".into(),
        reported_secs(access_expires, now_ms).into(),
    );
    body.insert("refresh_token".into(), refresh_token.into());
    body.insert(
        "refresh_token_expires_in".into(),
        reported_secs(refresh_expires, now_ms).into(),
    );
    if !scopes.is_empty() {
        body.insert("scope".into(), scopes.join(" ").into());
    }
    Ok(body)
}

fn refresh(shared: &Shared, params: &Params) -> Result<Map<String, Value>, KauthError> {
    let Some(presented) = params.get("refresh_token") else {
        return Err(invalid_grant("KOE319", "refresh_token is required."));
    };
    let now_ms = shared.clock.now_millis();
    let mut store = shared.store();
    let expired_or_invalid = || invalid_grant("KOE322", "expired_or_invalid_refresh_token");
    let (grant_id, refresh_expires) = store
        .refresh_tokens
        .get(presented)
        .filter(|t| now_ms < t.expires_at_ms)
        .map(|t| (t.grant, t.expires_at_ms))
        .ok_or_else(expired_or_invalid)?;
    let (user_id, with_id_token, auth_time, old_access) = store
        .grants
        .get(&grant_id)
        .map(|g| {
            (
                g.user_id,
                g.with_id_token,
                g.auth_time,
                g.access_token.clone(),
            )
        })
        .ok_or_else(expired_or_invalid)?;
    let rotate = refresh_expires - now_ms < ROTATION_WINDOW_MS;
    check_issuance(shared, &mut store, user_id, rotate, now_ms)?;

    // The previous access token dies with the refresh (UNCONFIRMED; strict).
    store.access_tokens.remove(&old_access);
    let access_token = random_token(40);
    store.secrets.push(access_token.clone());
    let access_expires = now_ms + millis(shared.access_ttl);
    store.access_tokens.insert(
        access_token.clone(),
        AccessToken {
            grant: grant_id,
            user_id,
            expires_at_ms: access_expires,
        },
    );
    let mut rotated = None;
    if rotate {
        // A renewed refresh token replaces the old one, which stops working.
        store.refresh_tokens.remove(presented);
        let new_refresh = random_token(40);
        store.secrets.push(new_refresh.clone());
        let new_expires = now_ms + millis(shared.refresh_ttl);
        store.refresh_tokens.insert(
            new_refresh.clone(),
            RefreshToken {
                grant: grant_id,
                expires_at_ms: new_expires,
            },
        );
        rotated = Some((new_refresh, new_expires));
    }
    if let Some(grant) = store.grants.get_mut(&grant_id) {
        grant.access_token.clone_from(&access_token);
        if let Some((new_refresh, _)) = &rotated {
            grant.refresh_token.clone_from(new_refresh);
        }
    }
    drop(store);

    let mut body = Map::new();
    body.insert("token_type".into(), "bearer".into());
    body.insert("access_token".into(), access_token.into());
    if with_id_token {
        // A refreshed id_token carries no nonce: there was no authorize
        // request to echo (UNCONFIRMED, OIDC Core §12.2 allows omitting it).
        body.insert(
            "id_token".into(),
            sign_id_token(shared, user_id, auth_time, None)?.into(),
        );
    }
    body.insert(
        "expires_in".into(),
        reported_secs(access_expires, now_ms).into(),
    );
    if let Some((new_refresh, new_expires)) = rotated {
        body.insert("refresh_token".into(), new_refresh.into());
        body.insert(
            "refresh_token_expires_in".into(),
            reported_secs(new_expires, now_ms).into(),
        );
    }
    Ok(body)
}

/// Kakao's per-user issuance quota (`docs/kakao-api.md` §8): KOE237 when exceeded.
fn check_issuance(
    shared: &Shared,
    store: &mut Store,
    user_id: i64,
    with_refresh: bool,
    now_ms: u64,
) -> Result<(), KauthError> {
    let Some(limit) = shared.issuance_limit else {
        return Ok(());
    };
    let issued = store.issued.entry(user_id).or_default();
    prune(&mut issued.access, now_ms, limit.access_window);
    prune(&mut issued.refresh, now_ms, limit.refresh_window);
    if issued.access.len() >= limit.access_tokens
        || (with_refresh && issued.refresh.len() >= limit.refresh_tokens)
    {
        return Err(KauthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "KOE237",
            "token request rate limit exceeded",
        ));
    }
    issued.access.push_back(now_ms);
    if with_refresh {
        issued.refresh.push_back(now_ms);
    }
    Ok(())
}

fn prune(times: &mut VecDeque<u64>, now_ms: u64, window: Duration) {
    while times.front().is_some_and(|t| t + millis(window) <= now_ms) {
        times.pop_front();
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The id_token (`docs/kakao-api.md` §7.3): `sub` a string, `exp` = `iat` + access
/// lifetime, `nonce` only when one was sent, profile claims as consented.
fn sign_id_token(
    shared: &Shared,
    user_id: i64,
    auth_time: u64,
    nonce: Option<&str>,
) -> Result<String, KauthError> {
    let iat = shared.clock.now_secs();
    let mut claims = Map::new();
    claims.insert("iss".into(), shared.issuer.clone().into());
    claims.insert("aud".into(), shared.client_id.clone().into());
    claims.insert("sub".into(), user_id.to_string().into());
    claims.insert("iat".into(), iat.into());
    claims.insert("exp".into(), (iat + shared.access_ttl.as_secs()).into());
    claims.insert("auth_time".into(), auth_time.into());
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), nonce.into());
    }
    if let Some(user) = shared.account(user_id) {
        claims.extend(id_token_profile_claims(&render(
            &user,
            &shared.base_url,
            true,
        )));
    }
    let token = shared.key.sign(&Value::Object(claims)).map_err(|e| {
        tracing::error!(error = %e, "id_token signing failed");
        KauthError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "KOE003",
            "temporary server error",
        )
    })?;
    shared.store().secrets.push(token.clone());
    Ok(token)
}
