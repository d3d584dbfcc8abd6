//! Callback intake: the one place where a URL from outside becomes trusted input.
//!
//! A login callback reaches the app as `<scheme>://oauth/callback?code=…&state=…`
//! (deep link, forwarded by the https bridge page) or as
//! `http://127.0.0.1:<port>/oauth/callback?…` (loopback receiver). Anything can
//! launch the app with a URL of its scheme, so every URL is hostile until
//! [`check_deep_link`] has accepted its shape and made it a typed
//! [`DeepLink`]. Values in the query (the authorization code above all) are
//! secrets: a [`DeepLink`] prints only the parameter names.
//!
//! [`intake`] is the whole of callback handling: route, pending login,
//! deadline, `state`, Kakao's `error=`, and finally the code. It takes the
//! pending login out of its slot only when the callback is genuinely its own
//! (or the login is past its deadline), so a forged link cannot cancel a login
//! in progress, and a duplicated or replayed link finds nothing to take.

use std::time::SystemTime;

use thiserror::Error;
use url::Url;

use crate::ErrorCode;
use crate::authorize::PendingLogin;
use crate::config::RedirectMode;
use crate::secret::{AuthorizationCode, SecretUrl};

/// The host part of every callback URL of the app's scheme.
pub const CALLBACK_HOST: &str = "oauth";
/// The path part of every callback URL.
pub const CALLBACK_PATH: &str = "/callback";
/// Longest URL accepted. Kakao's codes and states are well under 200 bytes; a
/// longer URL is an attack or a bug, and is refused before it is parsed.
pub const MAX_CALLBACK_LEN: usize = 4096;

/// Why a URL was refused before any login logic looked at it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RouteError {
    /// Longer than [`MAX_CALLBACK_LEN`].
    #[error("callback URL is longer than {MAX_CALLBACK_LEN} bytes")]
    TooLong,
    /// Not a URL at all.
    #[error("callback is not a valid URL")]
    Malformed,
    /// A URL of another scheme.
    #[error("callback URL has a foreign scheme")]
    ForeignScheme,
    /// The app's scheme, but not `oauth/callback`, or with user info, a port or
    /// a fragment that no genuine callback carries.
    #[error("callback URL does not address oauth/callback")]
    WrongTarget,
}

impl RouteError {
    /// The stable error code the user sees.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::InvalidCallback
    }
}

/// A URL of the app's scheme addressed to `oauth/callback`: the only way a
/// deep link reaches the login ([`check_deep_link`] is its one constructor).
/// Its query is still unchecked. `Debug` shows the parameter names only.
#[derive(Clone, PartialEq, Eq)]
pub struct DeepLink {
    url: SecretUrl,
}

impl DeepLink {
    /// The names of the query parameters, in order, without their values.
    pub fn parameter_names(&self) -> Vec<String> {
        self.url.parameter_names()
    }
}

impl std::fmt::Debug for DeepLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DeepLink").field(&self.url).finish()
    }
}

/// Accepts `raw` only if it is `<scheme>://oauth/callback[?query]`.
///
/// The scheme is compared case-insensitively (URL schemes are), everything else
/// exactly.
///
/// # Errors
/// A [`RouteError`] saying what was wrong; the caller reports
/// [`ErrorCode::InvalidCallback`].
pub fn check_deep_link(raw: &str, scheme: &str) -> Result<DeepLink, RouteError> {
    if raw.len() > MAX_CALLBACK_LEN {
        return Err(RouteError::TooLong);
    }
    let url = Url::parse(raw.trim()).map_err(|_| RouteError::Malformed)?;
    if !url.scheme().eq_ignore_ascii_case(scheme) {
        return Err(RouteError::ForeignScheme);
    }
    let genuine = url.host_str() == Some(CALLBACK_HOST)
        && url.path() == CALLBACK_PATH
        && url.username().is_empty()
        && url.password().is_none()
        && url.port().is_none()
        && url.fragment().is_none();
    if !genuine {
        return Err(RouteError::WrongTarget);
    }
    Ok(DeepLink {
        url: SecretUrl::new(url),
    })
}

/// Longest authorization code accepted. Kakao's are under 100 characters.
pub const MAX_CODE_LEN: usize = 512;

/// Where a callback URL came from.
#[derive(Clone, Copy)]
pub enum CallbackSource<'a> {
    /// A deep link of the app's scheme (bridge mode), already routed.
    DeepLink(&'a DeepLink),
    /// The loopback receiver: the request target resolved against the
    /// redirect URI's origin.
    Loopback {
        /// The URL as received.
        url: &'a str,
    },
}

impl std::fmt::Debug for CallbackSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::DeepLink(_) => f.write_str("DeepLink"),
            Self::Loopback { .. } => f.write_str("Loopback"),
        }
    }
}

/// A genuine callback: the authorization code and the pending login it
/// belongs to (whose PKCE verifier and nonce the exchange needs).
#[derive(Debug)]
pub struct Callback {
    /// The one-time authorization code.
    pub code: AuthorizationCode,
    /// The pending login, now taken out of its slot.
    pub pending: PendingLogin,
}

/// Why a callback was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// Not the callback route (or too long, or not a URL).
    #[error(transparent)]
    Route(#[from] RouteError),
    /// No login is pending: a duplicate, a replay, or a stray link.
    #[error("no login is pending")]
    NotPending,
    /// A deep link while the pending login waits on loopback, or the reverse.
    #[error("callback arrived through the wrong channel")]
    WrongChannel,
    /// A parameter that must appear at most once appeared twice.
    #[error("callback repeats the {0} parameter")]
    Repeated(&'static str),
    /// The pending login passed its deadline; it has been dropped.
    #[error("the pending login expired")]
    Expired,
    /// No `state` in the callback.
    #[error("callback has no state")]
    MissingState,
    /// A `state` that is not the pending login's.
    #[error("callback state does not match the pending login")]
    StateMismatch,
    /// The user cancelled on Kakao's page (`error=access_denied`).
    #[error("the user cancelled the login")]
    Cancelled,
    /// Kakao redirected with another `error=` value.
    #[error("Kakao refused the authorization: {error}")]
    Refused {
        /// Kakao's `error` value, sanitised for logs (ASCII, bounded).
        error: String,
        /// What it means for the user.
        code: ErrorCode,
    },
    /// Neither a usable `code` nor an `error`.
    #[error("callback has no usable authorization code")]
    MissingCode,
}

impl CallbackError {
    /// The stable error code the user sees.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Route(e) => e.code(),
            Self::NotPending | Self::WrongChannel | Self::Repeated(_) | Self::MissingCode => {
                ErrorCode::InvalidCallback
            }
            Self::Expired => ErrorCode::LoginTimeout,
            Self::MissingState | Self::StateMismatch => ErrorCode::StateMismatch,
            Self::Cancelled => ErrorCode::LoginCancelled,
            Self::Refused { code, .. } => *code,
        }
    }

    /// True when the pending login is over (taken or expired) after this
    /// error; false when a foreign or forged link was ignored and the login
    /// still waits for its genuine callback.
    pub fn ends_login(&self) -> bool {
        matches!(
            self,
            Self::Expired | Self::Cancelled | Self::Refused { .. } | Self::MissingCode
        )
    }
}

/// Turns a callback URL into a [`Callback`], taking the pending login out of
/// `slot` exactly when the callback is its own.
///
/// Checks, in order: the route (a [`DeepLink`] has passed
/// [`check_deep_link`]; a loopback URL must name the exact redirect URI
/// origin and path), that a login is pending and
/// waits on this channel, that no parameter repeats, the deadline (an expired
/// login is dropped), `state` (compared in constant time;
/// [RFC 6749 §10.12]), then Kakao's `error=` or the `code`
/// ([RFC 6749 §4.1.2]).
///
/// [RFC 6749 §10.12]: https://www.rfc-editor.org/rfc/rfc6749#section-10.12
/// [RFC 6749 §4.1.2]: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2
///
/// # Errors
/// A [`CallbackError`]; see [`CallbackError::ends_login`] for whether the
/// pending login survived it.
///
/// # Security
/// A forged link (wrong route, wrong channel, missing or wrong state) leaves
/// the pending login in place, so it cannot cancel a real login.
pub fn intake(
    source: CallbackSource<'_>,
    slot: &mut Option<PendingLogin>,
    now: SystemTime,
) -> Result<Callback, CallbackError> {
    let parsed;
    let (url, mode) = match source {
        CallbackSource::DeepLink(link) => (link.url.secret(), RedirectMode::Bridge),
        CallbackSource::Loopback { url } => {
            parsed = parse_bounded(url)?;
            (&parsed, RedirectMode::Loopback)
        }
    };
    let pending = slot.as_ref().ok_or(CallbackError::NotPending)?;
    if pending.redirect_mode != mode {
        return Err(CallbackError::WrongChannel);
    }
    if mode == RedirectMode::Loopback && !same_endpoint(url, pending.redirect_uri.url()) {
        return Err(RouteError::WrongTarget.into());
    }
    let query = Query::parse(url)?;
    if pending.is_expired(now) {
        slot.take();
        return Err(CallbackError::Expired);
    }
    let state = query.state.ok_or(CallbackError::MissingState)?;
    if !pending.state.matches(&state) {
        return Err(CallbackError::StateMismatch);
    }
    let pending = slot.take().ok_or(CallbackError::NotPending)?;
    if let Some(error) = query.error {
        return Err(refusal(&error));
    }
    match query.code {
        Some(code) if valid_code(&code) => Ok(Callback {
            code: AuthorizationCode::new(code),
            pending,
        }),
        _ => Err(CallbackError::MissingCode),
    }
}

fn parse_bounded(raw: &str) -> Result<Url, RouteError> {
    if raw.len() > MAX_CALLBACK_LEN {
        return Err(RouteError::TooLong);
    }
    Url::parse(raw.trim()).map_err(|_| RouteError::Malformed)
}

/// Same scheme, host, port and path as the redirect URI, and nothing a real
/// redirect never carries (user info, fragment).
fn same_endpoint(url: &Url, redirect: &Url) -> bool {
    url.scheme() == redirect.scheme()
        && url.host() == redirect.host()
        && url.port_or_known_default() == redirect.port_or_known_default()
        && url.path() == redirect.path()
        && url.username().is_empty()
        && url.password().is_none()
        && url.fragment().is_none()
}

#[derive(Default)]
struct Query {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

impl Query {
    fn parse(url: &Url) -> Result<Self, CallbackError> {
        let mut query = Query::default();
        for (name, value) in url.query_pairs() {
            let (field, label) = match name.as_ref() {
                "code" => (&mut query.code, "code"),
                "state" => (&mut query.state, "state"),
                "error" => (&mut query.error, "error"),
                _ => continue,
            };
            if field.replace(value.into_owned()).is_some() {
                return Err(CallbackError::Repeated(label));
            }
        }
        Ok(query)
    }
}

fn valid_code(code: &str) -> bool {
    !code.is_empty() && code.len() <= MAX_CODE_LEN && code.bytes().all(|b| b.is_ascii_graphic())
}

/// Maps Kakao's redirect `error` values (`docs/kakao-api.md` §1.3) to what they mean.
fn refusal(error: &str) -> CallbackError {
    let code = match error {
        "access_denied" | "cancelled" => return CallbackError::Cancelled,
        "consent_required" => ErrorCode::ConsentRequired,
        // prompt=none found no Kakao session: the user has to log in
        // interactively, which is what "try again" on the login button does.
        "login_required" | "interaction_required" => ErrorCode::LoginCancelled,
        "invalid_client"
        | "invalid_scope"
        | "invalid_request"
        | "invalid_grant"
        | "misconfigured"
        | "unauthorized"
        | "unauthorized_client"
        | "unsupported_response_type" => ErrorCode::KakaoConfig,
        "server_error" | "temporarily_unavailable" => ErrorCode::KakaoTemporary,
        _ => ErrorCode::InvalidCallback,
    };
    let shown: String = error
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(40)
        .collect();
    CallbackError::Refused { error: shown, code }
}

#[cfg(test)]
mod tests;
