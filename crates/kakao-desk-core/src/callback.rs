//! Callback intake: the one place where a URL from outside becomes trusted input.
//!
//! A login callback reaches the app as `<scheme>://oauth/callback?code=…&state=…`
//! (deep link, forwarded by the https bridge page) or as
//! `http://127.0.0.1:<port>/oauth/callback?…` (loopback receiver). Anything can
//! launch the app with a URL of its scheme, so every URL is hostile until
//! [`check_deep_link`] has accepted its shape. Values in the query (the
//! authorization code above all) are secrets: [`redact`] is the only form that
//! may be logged.

use thiserror::Error;
use url::Url;

use crate::ErrorCode;

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
        self.url.query_pairs().map(|(k, _)| k.into_owned()).collect()
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
        assert!(upper.is_ok(), "schemes are case-insensitive (RFC 3986 §3.1)");
    }

    #[test]
    fn refuses_hostile_urls() {
        let long = format!("{SCHEME}://oauth/callback?code={}", "a".repeat(MAX_CALLBACK_LEN));
        let cases: &[(&str, RouteError)] = &[
            (&long, RouteError::TooLong),
            ("", RouteError::Malformed),
            ("not a url", RouteError::Malformed),
            ("://oauth/callback", RouteError::Malformed),
            ("https://oauth/callback?code=a", RouteError::ForeignScheme),
            ("javascript:alert(1)", RouteError::ForeignScheme),
            ("dev.kakaodesk.desktop.debug://oauth/callback?code=a", RouteError::ForeignScheme),
            ("dev.kakaodesk.desktop://evil/callback?code=a", RouteError::WrongTarget),
            ("dev.kakaodesk.desktop://oauth/callback/extra?code=a", RouteError::WrongTarget),
            ("dev.kakaodesk.desktop://oauth/?code=a", RouteError::WrongTarget),
            ("dev.kakaodesk.desktop:oauth/callback?code=a", RouteError::WrongTarget),
            ("dev.kakaodesk.desktop://user:pw@oauth/callback?code=a", RouteError::WrongTarget),
            ("dev.kakaodesk.desktop://oauth:8080/callback?code=a", RouteError::WrongTarget),
            ("dev.kakaodesk.desktop://oauth/callback?code=a#frag", RouteError::WrongTarget),
        ];
        for (raw, want) in cases {
            assert_eq!(
                check_deep_link(raw, SCHEME).as_ref().map_err(Clone::clone).err(),
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
        assert!(!shown.contains("SECRET"), "values must not survive redaction: {shown}");
        assert!(shown.contains("code=%5Bredacted%5D"), "names stay for diagnosis: {shown}");
        let link = check_deep_link(url.as_str(), SCHEME).expect("genuine");
        assert!(
            !format!("{link:?}").contains("SECRET"),
            "Debug must print the redacted form only"
        );
    }
}
