//! Callback intake: the one place where a URL from outside becomes trusted input.
//!
//! A login callback reaches the app as `<scheme>://oauth/callback?code=…&state=…`
//! (deep link, forwarded by the https bridge page) or as
//! `http://127.0.0.1:<port>/oauth/callback?…` (loopback receiver). Anything can
//! launch the app with a URL of its scheme, so every URL is hostile until
//! [`check_deep_link`] has accepted its shape. Values in the query (the
//! authorization code above all) are secrets: [`redact`] is the only form that
//! may be logged.
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
use crate::config::RedirectMode;
use crate::login::PendingLogin;
use crate::secret::AuthorizationCode;

/// The host part of every callback URL of the app's scheme.
pub const CALLBACK_HOST: &str = "oauth";
/// The path part of every callback URL.
pub const CALLBACK_PATH: &str = "/callback";
/// Longest URL accepted. Kakao's codes and states are well under 200 bytes; a
/// longer URL is an attack or a bug, and is refused before it is parsed.
pub const MAX_CALLBACK_LEN: usize = 4096;

/// Why a URL was refused before any login logic looked at it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
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

/// A URL of the app's scheme addressed to `oauth/callback`. Its query is still
/// unchecked. `Debug` shows the redacted form only.
#[derive(Clone, PartialEq, Eq)]
pub struct DeepLink {
    url: Url,
}

impl DeepLink {
    /// The full URL.
    ///
    /// # Security
    /// The query holds the authorization code; never log or display it. Use
    /// [`redact`] for logs.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The names of the query parameters, in order, without their values.
    pub fn parameter_names(&self) -> Vec<String> {
        self.url
            .query_pairs()
            .map(|(k, _)| k.into_owned())
            .collect()
    }
}

impl std::fmt::Debug for DeepLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DeepLink").field(&redact(&self.url)).finish()
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
    Ok(DeepLink { url })
}

/// The URL with every query value replaced by `[redacted]`: safe to log.
pub fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    if url.query().is_some() {
        let names: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
        let mut pairs = shown.query_pairs_mut();
        pairs.clear();
        for name in names {
            pairs.append_pair(&name, "[redacted]");
        }
    }
    shown.set_fragment(None);
    let _ = shown.set_password(None);
    let _ = shown.set_username("");
    shown.to_string()
}

/// Longest authorization code accepted. Kakao's are under 100 characters.
pub const MAX_CODE_LEN: usize = 512;

/// Where a callback URL came from.
#[derive(Clone, Copy)]
pub enum CallbackSource<'a> {
    /// A deep link of the app's scheme (bridge mode).
    DeepLink {
        /// The URL as received.
        url: &'a str,
        /// The app's deep-link scheme.
        scheme: &'a str,
    },
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
            Self::DeepLink { scheme, .. } => write!(f, "DeepLink({scheme})"),
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
/// Checks, in order: the route (scheme/host/path for a deep link; the exact
/// redirect URI origin and path for loopback), that a login is pending and
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
    let (url, mode) = match source {
        CallbackSource::DeepLink { url, scheme } => {
            (check_deep_link(url, scheme)?.url, RedirectMode::Bridge)
        }
        CallbackSource::Loopback { url } => (parse_bounded(url)?, RedirectMode::Loopback),
    };
    let pending = slot.as_ref().ok_or(CallbackError::NotPending)?;
    if pending.redirect_mode != mode {
        return Err(CallbackError::WrongChannel);
    }
    if mode == RedirectMode::Loopback && !same_endpoint(&url, pending.redirect_uri.url()) {
        return Err(RouteError::WrongTarget.into());
    }
    let query = Query::parse(&url)?;
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

/// Maps Kakao's redirect `error` values (reference §1.3) to what they mean.
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
mod tests {
    use super::*;

    const SCHEME: &str = "dev.kakaodesk.desktop";

    #[test]
    fn accepts_the_callback_route_of_the_app_scheme() {
        let link = check_deep_link(
            "dev.kakaodesk.desktop://oauth/callback?code=abc&state=xyz",
            SCHEME,
        )
        .expect("a genuine callback must be accepted");
        assert_eq!(link.parameter_names(), ["code", "state"]);
        let upper = check_deep_link("DEV.KAKAODESK.DESKTOP://oauth/callback?code=a", SCHEME);
        assert!(
            upper.is_ok(),
            "schemes are case-insensitive (RFC 3986 §3.1)"
        );
    }

    #[test]
    fn refuses_hostile_urls() {
        let long = format!(
            "{SCHEME}://oauth/callback?code={}",
            "a".repeat(MAX_CALLBACK_LEN)
        );
        let cases: &[(&str, RouteError)] = &[
            (&long, RouteError::TooLong),
            ("", RouteError::Malformed),
            ("not a url", RouteError::Malformed),
            ("://oauth/callback", RouteError::Malformed),
            ("https://oauth/callback?code=a", RouteError::ForeignScheme),
            ("javascript:alert(1)", RouteError::ForeignScheme),
            (
                "dev.kakaodesk.desktop.debug://oauth/callback?code=a",
                RouteError::ForeignScheme,
            ),
            (
                "dev.kakaodesk.desktop://evil/callback?code=a",
                RouteError::WrongTarget,
            ),
            (
                "dev.kakaodesk.desktop://oauth/callback/extra?code=a",
                RouteError::WrongTarget,
            ),
            (
                "dev.kakaodesk.desktop://oauth/?code=a",
                RouteError::WrongTarget,
            ),
            (
                "dev.kakaodesk.desktop:oauth/callback?code=a",
                RouteError::WrongTarget,
            ),
            (
                "dev.kakaodesk.desktop://user:pw@oauth/callback?code=a",
                RouteError::WrongTarget,
            ),
            (
                "dev.kakaodesk.desktop://oauth:8080/callback?code=a",
                RouteError::WrongTarget,
            ),
            (
                "dev.kakaodesk.desktop://oauth/callback?code=a#frag",
                RouteError::WrongTarget,
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(
                check_deep_link(raw, SCHEME)
                    .as_ref()
                    .map_err(Clone::clone)
                    .err(),
                Some(want.clone()),
                "{raw:?} must be refused as {want:?}"
            );
        }
    }

    #[test]
    fn redaction_hides_every_value() {
        let url = Url::parse("dev.kakaodesk.desktop://oauth/callback?code=SECRET1&state=SECRET2&x")
            .expect("valid URL");
        let shown = redact(&url);
        assert!(
            !shown.contains("SECRET"),
            "values must not survive redaction: {shown}"
        );
        assert!(
            shown.contains("code=%5Bredacted%5D"),
            "names stay for diagnosis: {shown}"
        );
        let link = check_deep_link(url.as_str(), SCHEME).expect("genuine");
        assert!(
            !format!("{link:?}").contains("SECRET"),
            "Debug must print the redacted form only"
        );
    }

    mod intake {
        use std::time::{Duration, SystemTime};

        use super::super::*;
        use crate::config::{RedirectMode, RedirectUri};
        use crate::secret::{CsrfState, Nonce, PkceVerifier};

        const LOOPBACK: &str = "http://127.0.0.1:8765/oauth/callback";
        const STATE: &str = "s-good";

        fn at(seconds: u64) -> SystemTime {
            SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
        }

        fn pending(mode: RedirectMode) -> Option<PendingLogin> {
            Some(PendingLogin {
                verifier: PkceVerifier::new("v"),
                state: CsrfState::new(STATE),
                nonce: Nonce::new("n"),
                redirect_uri: RedirectUri::parse(LOOPBACK).expect("valid"),
                redirect_mode: mode,
                started_at: at(0),
                deadline: at(600),
            })
        }

        fn deep(url: &str) -> CallbackSource<'_> {
            CallbackSource::DeepLink {
                url,
                scheme: "dev.kakaodesk.desktop",
            }
        }

        #[test]
        fn a_genuine_deep_link_takes_the_pending_login_once() {
            let mut slot = pending(RedirectMode::Bridge);
            let url = "dev.kakaodesk.desktop://oauth/callback?code=C0DE&state=s-good";
            let callback = intake(deep(url), &mut slot, at(10)).expect("genuine callback");
            assert_eq!(
                callback.code.secret(),
                "C0DE",
                "the code is handed over as received"
            );
            assert!(slot.is_none(), "the pending login is taken");
            let again = intake(deep(url), &mut slot, at(11)).err();
            assert_eq!(
                again,
                Some(CallbackError::NotPending),
                "a replay finds nothing to take"
            );
            assert_eq!(CallbackError::NotPending.code(), ErrorCode::InvalidCallback);
        }

        #[test]
        fn a_genuine_loopback_request_is_accepted() {
            let mut slot = pending(RedirectMode::Loopback);
            let url = "http://127.0.0.1:8765/oauth/callback?state=s-good&code=abc-DEF_1";
            let callback = intake(CallbackSource::Loopback { url }, &mut slot, at(599));
            assert!(
                callback.is_ok(),
                "one second before the deadline still counts"
            );
        }

        #[test]
        fn hostile_and_failed_callbacks() {
            let long = format!(
                "dev.kakaodesk.desktop://oauth/callback?state=s-good&code={}",
                "a".repeat(5000)
            );
            let code_too_long = format!(
                "dev.kakaodesk.desktop://oauth/callback?state=s-good&code={}",
                "a".repeat(MAX_CODE_LEN + 1)
            );
            // (source, channel, now, expected error, pending login survives)
            type Case<'a> = (CallbackSource<'a>, RedirectMode, u64, CallbackError, bool);
            let lb = |url| CallbackSource::Loopback { url };
            let bridge = RedirectMode::Bridge;
            let loopback = RedirectMode::Loopback;
            let cases: Vec<Case<'_>> = vec![
                (deep(&long), bridge, 1, RouteError::TooLong.into(), true),
                (
                    deep("https://evil.example/oauth/callback?code=a&state=s-good"),
                    bridge,
                    1,
                    RouteError::ForeignScheme.into(),
                    true,
                ),
                (
                    deep("dev.kakaodesk.desktop://evil/callback?code=a&state=s-good"),
                    bridge,
                    1,
                    RouteError::WrongTarget.into(),
                    true,
                ),
                (
                    deep("dev.kakaodesk.desktop://oauth/callback?code=a"),
                    bridge,
                    1,
                    CallbackError::MissingState,
                    true,
                ),
                (
                    deep("dev.kakaodesk.desktop://oauth/callback?code=a&state="),
                    bridge,
                    1,
                    CallbackError::StateMismatch,
                    true,
                ),
                (
                    deep("dev.kakaodesk.desktop://oauth/callback?code=a&state=s-goo"),
                    bridge,
                    1,
                    CallbackError::StateMismatch,
                    true,
                ),
                (
                    deep("dev.kakaodesk.desktop://oauth/callback?code=a&state=S-GOOD"),
                    bridge,
                    1,
                    CallbackError::StateMismatch,
                    true,
                ),
                (
                    deep("dev.kakaodesk.desktop://oauth/callback?code=a&state=s-good&state=x"),
                    bridge,
                    1,
                    CallbackError::Repeated("state"),
                    true,
                ),
                (
                    deep("dev.kakaodesk.desktop://oauth/callback?code=a&code=b&state=s-good"),
                    bridge,
                    1,
                    CallbackError::Repeated("code"),
                    true,
                ),
                (
                    deep("dev.kakaodesk.desktop://oauth/callback?error=access_denied"),
                    bridge,
                    1,
                    CallbackError::MissingState,
                    true,
                ),
                (
                    deep("dev.kakaodesk.desktop://oauth/callback?code=a&state=s-good"),
                    loopback,
                    1,
                    CallbackError::WrongChannel,
                    true,
                ),
                (
                    lb("http://127.0.0.1:8765/oauth/callback?code=a&state=s-good"),
                    bridge,
                    1,
                    CallbackError::WrongChannel,
                    true,
                ),
                (
                    lb("http://127.0.0.1:8766/oauth/callback?code=a&state=s-good"),
                    loopback,
                    1,
                    RouteError::WrongTarget.into(),
                    true,
                ),
                (
                    lb("http://localhost:8765/oauth/callback?code=a&state=s-good"),
                    loopback,
                    1,
                    RouteError::WrongTarget.into(),
                    true,
                ),
                (
                    lb("http://127.0.0.1:8765/oauth/callback/x?code=a&state=s-good"),
                    loopback,
                    1,
                    RouteError::WrongTarget.into(),
                    true,
                ),
                (
                    lb("https://127.0.0.1:8765/oauth/callback?code=a&state=s-good"),
                    loopback,
                    1,
                    RouteError::WrongTarget.into(),
                    true,
                ),
                (
                    lb("http://127.0.0.1:8765/oauth/callback?code=a&state=s-good#x"),
                    loopback,
                    1,
                    RouteError::WrongTarget.into(),
                    true,
                ),
                (
                    lb("not a url"),
                    loopback,
                    1,
                    RouteError::Malformed.into(),
                    true,
                ),
                (
                    deep("dev.kakaodesk.desktop://oauth/callback?code=a&state=s-good"),
                    bridge,
                    600,
                    CallbackError::Expired,
                    false,
                ),
                (
                    deep("dev.kakaodesk.desktop://oauth/callback?code=a&state=forged"),
                    bridge,
                    900,
                    CallbackError::Expired,
                    false,
                ),
                (
                    deep(
                        "dev.kakaodesk.desktop://oauth/callback?error=access_denied&error_description=User%20denied%20access&state=s-good",
                    ),
                    bridge,
                    1,
                    CallbackError::Cancelled,
                    false,
                ),
                (
                    deep(
                        "dev.kakaodesk.desktop://oauth/callback?error=consent_required&state=s-good",
                    ),
                    bridge,
                    1,
                    CallbackError::Refused {
                        error: "consent_required".into(),
                        code: ErrorCode::ConsentRequired,
                    },
                    false,
                ),
                (
                    deep("dev.kakaodesk.desktop://oauth/callback?error=%3Cscript%3E&state=s-good"),
                    bridge,
                    1,
                    CallbackError::Refused {
                        error: "script".into(),
                        code: ErrorCode::InvalidCallback,
                    },
                    false,
                ),
                (
                    deep("dev.kakaodesk.desktop://oauth/callback?error=misconfigured&state=s-good"),
                    bridge,
                    1,
                    CallbackError::Refused {
                        error: "misconfigured".into(),
                        code: ErrorCode::KakaoConfig,
                    },
                    false,
                ),
                (
                    deep("dev.kakaodesk.desktop://oauth/callback?state=s-good"),
                    bridge,
                    1,
                    CallbackError::MissingCode,
                    false,
                ),
                (
                    deep("dev.kakaodesk.desktop://oauth/callback?code=&state=s-good"),
                    bridge,
                    1,
                    CallbackError::MissingCode,
                    false,
                ),
                (
                    deep("dev.kakaodesk.desktop://oauth/callback?code=a%20b&state=s-good"),
                    bridge,
                    1,
                    CallbackError::MissingCode,
                    false,
                ),
                (
                    deep("dev.kakaodesk.desktop://oauth/callback?code=a%0Ab&state=s-good"),
                    bridge,
                    1,
                    CallbackError::MissingCode,
                    false,
                ),
                (
                    deep(&code_too_long),
                    bridge,
                    1,
                    CallbackError::MissingCode,
                    false,
                ),
            ];
            for (source, mode, now, want, survives) in cases {
                let mut slot = pending(mode);
                let got = intake(source, &mut slot, at(now)).err();
                assert_eq!(
                    got.as_ref(),
                    Some(&want),
                    "{source:?} at {now}s must fail as {want:?}"
                );
                assert_eq!(
                    slot.is_some(),
                    survives,
                    "{want:?}: pending login survives = {survives}"
                );
                assert_eq!(
                    want.ends_login(),
                    !survives,
                    "{want:?}: ends_login agrees with the slot"
                );
            }
        }

        #[test]
        fn error_codes_follow_design_section_6() {
            assert_eq!(
                CallbackError::StateMismatch.code(),
                ErrorCode::StateMismatch
            );
            assert_eq!(CallbackError::MissingState.code(), ErrorCode::StateMismatch);
            assert_eq!(CallbackError::Expired.code(), ErrorCode::LoginTimeout);
            assert_eq!(CallbackError::Cancelled.code(), ErrorCode::LoginCancelled);
            assert_eq!(
                CallbackError::Route(RouteError::TooLong).code(),
                ErrorCode::InvalidCallback
            );
        }

        #[test]
        fn nothing_pending_refuses_even_a_well_formed_link() {
            let mut slot = None;
            let url = "dev.kakaodesk.desktop://oauth/callback?code=a&state=s-good";
            assert_eq!(
                intake(deep(url), &mut slot, at(1)).err(),
                Some(CallbackError::NotPending)
            );
        }
    }
}
