//! What the emulated Kakao app looks like: keys, registered URIs, lifetimes.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use crate::{Clock, Users};

/// The default `client_id` (REST API key) of the emulated app: 32 lowercase
/// hex characters like a real key (it spells "kakao-desk-demo" in hex), so
/// clients that check the format accept it.
pub const DEMO_CLIENT_ID: &str = "6b616b616f2d6465736b2d64656d6f00";

/// The default deep-link scheme the bridge page forwards to.
pub const DEFAULT_BRIDGE_SCHEME: &str = "dev.kakaodesk.desktop";

/// Everything configurable about an emulator. `Default` is ready for demo mode.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// Address to bind; must be a loopback address. Default `127.0.0.1`.
    pub host: IpAddr,
    /// Port to bind; `0` (default) picks a free one.
    pub port: u16,
    /// The app's REST API key. Default [`DEMO_CLIENT_ID`].
    pub client_id: String,
    /// The client secret, if "Client Secret" is on for the key. Default off.
    pub client_secret: Option<String>,
    /// Registered redirect URIs, matched exactly; `http`/`https` only.
    /// `{base}/bridge/kakao/callback` is always registered in addition.
    pub redirect_uris: Vec<String>,
    /// Registered logout redirect URIs for `GET /oauth/logout` (else KOE007).
    pub logout_redirect_uris: Vec<String>,
    /// App name shown on the consent page.
    pub app_name: String,
    /// `app_id` reported by `/v1/user/access_token_info`.
    pub app_id: i64,
    /// "OpenID Connect 활성화": when on (default), a code exchange returns an
    /// `id_token` — for an authorize request that carried a `scope`
    /// (additional consent) only when `openid` was in it, as Kakao documents
    /// (`docs/kakao-api.md` §1.1, §7). When off, `openid` is not a consent
    /// item of the app (KOE205).
    pub openid: bool,
    /// Consent items configured for the app: what an authorize `scope` may
    /// name, else KOE205 (`docs/kakao-api.md` §1.3). `None`: every item some
    /// fixture user has configured, plus `openid` when [`Self::openid`] is on.
    pub consent_items: Option<Vec<String>>,
    /// Consent items the app's console makes required: a user cannot
    /// withdraw them (`/v2/user/revoke/scopes` answers -3). `None`: the
    /// profile items (`profile`, `profile_nickname`, `profile_image`).
    pub required_items: Option<Vec<String>>,
    /// The `iss` of id_tokens and the `issuer` of discovery. `None`: the
    /// emulator's base URL. `Some("https://kauth.kakao.com")` makes the
    /// emulator claim Kakao's literal issuer while it runs on loopback, so a
    /// client's issuer check meets the production value.
    pub issuer: Option<String>,
    /// The fixture users. Default [`Users::default_fixtures`].
    pub users: Users,
    /// Log this user in at `GET /oauth/authorize` without showing a page.
    pub auto_consent: Option<i64>,
    /// Access token (and id_token) lifetime. Default 6 h, as for REST keys.
    pub access_ttl: Duration,
    /// Refresh token lifetime. Default 60 days.
    pub refresh_ttl: Duration,
    /// Added before every answer.
    pub latency: Duration,
    /// How long a [`Fault::Hang`](crate::Fault::Hang) holds a request
    /// (ended early by shutdown). Default 10 minutes, past any sane client timeout.
    pub hang_for: Duration,
    /// Scheme the bridge page forwards to: `<scheme>://oauth/callback?...`.
    pub bridge_scheme: String,
    /// Kakao's per-user token issuance limit (KOE237); `None` disables it.
    pub issuance_limit: Option<IssuanceLimit>,
    /// The emulator's clock. Keep a clone to move time from a test.
    pub clock: Clock,
    /// Also write the request log here, one JSON object per line.
    pub log_file: Option<PathBuf>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            client_id: DEMO_CLIENT_ID.to_owned(),
            client_secret: None,
            redirect_uris: Vec::new(),
            logout_redirect_uris: Vec::new(),
            app_name: "Kakao Desk".to_owned(),
            app_id: 1_234_567,
            openid: true,
            consent_items: None,
            required_items: None,
            issuer: None,
            users: Users::default_fixtures(),
            auto_consent: None,
            access_ttl: Duration::from_secs(6 * 3600),
            refresh_ttl: Duration::from_secs(60 * 24 * 3600),
            latency: Duration::ZERO,
            hang_for: Duration::from_secs(600),
            bridge_scheme: DEFAULT_BRIDGE_SCHEME.to_owned(),
            issuance_limit: Some(IssuanceLimit::default()),
            clock: Clock::system(),
            log_file: None,
        }
    }
}

/// Kakao's per-user token issuance quota (`docs/kakao-api.md` §8). Default: 20 access
/// tokens per 10 minutes and 30 refresh tokens per 60 minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IssuanceLimit {
    /// Access tokens allowed per `access_window`.
    pub access_tokens: usize,
    /// Window for `access_tokens`.
    pub access_window: Duration,
    /// Refresh tokens allowed per `refresh_window`.
    pub refresh_tokens: usize,
    /// Window for `refresh_tokens`.
    pub refresh_window: Duration,
}

impl Default for IssuanceLimit {
    fn default() -> Self {
        Self {
            access_tokens: 20,
            access_window: Duration::from_secs(10 * 60),
            refresh_tokens: 30,
            refresh_window: Duration::from_secs(60 * 60),
        }
    }
}

/// A redirect URI Kakao would not let the developer register.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("redirect URI {uri:?} cannot be registered: {reason}")]
pub struct RedirectUriError {
    /// The refused URI.
    pub uri: String,
    /// Why.
    pub reason: &'static str,
}

/// Checks a redirect URI the way the Kakao console does: an absolute `http`
/// or `https` URL with a host and no fragment. A bare custom scheme
/// (`myapp://callback`) is refused; that is why desktop apps need a bridge page
/// or a loopback listener.
///
/// # Errors
/// [`RedirectUriError`] naming the rule that failed.
pub fn check_redirect_uri(uri: &str) -> Result<(), RedirectUriError> {
    let refuse = |reason| RedirectUriError {
        uri: uri.to_owned(),
        reason,
    };
    let parsed = url::Url::parse(uri).map_err(|_| refuse("not an absolute URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(refuse(
            "only http and https redirect URIs can be registered",
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(refuse("no host"));
    }
    if parsed.fragment().is_some() {
        return Err(refuse("a fragment is not allowed"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_redirect_uris_register() {
        assert_eq!(
            check_redirect_uri("http://127.0.0.1:53682/oauth/callback"),
            Ok(()),
            "loopback http with a port is accepted in practice (Kakao's FAQ example)"
        );
        assert_eq!(
            check_redirect_uri("https://example.com/kakao/callback"),
            Ok(()),
            "https is fine"
        );
        for bad in [
            "dev.kakaodesk.desktop://oauth/callback",
            "kakao123://oauth",
            "/relative",
            "https://x.com/#f",
        ] {
            assert!(
                check_redirect_uri(bad).is_err(),
                "{bad} must be refused: Kakao REST keys take only http(s) redirect URIs"
            );
        }
    }
}
