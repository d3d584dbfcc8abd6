//! The authorization request ([RFC 6749 §4.1.1]): PKCE, `state`, `nonce`, the
//! authorize URL, and the pending login that waits for the callback.
//!
//! [RFC 6749 §4.1.1]: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::config::{Config, RedirectMode, RedirectUri};
use crate::profile::KakaoId;
use crate::random::{self, RandomError};
use crate::secret::{CsrfState, Nonce, PkceVerifier, SecretUrl};

/// How long the browser step may take. Kakao's authorization codes are
/// reported to live about as long (`docs/kakao-api.md` §1.3).
pub const LOGIN_DEADLINE: Duration = Duration::from_secs(10 * 60);

/// Random bytes in a PKCE verifier: 32 bytes give 43 base64url characters, the
/// minimum length and the entropy [RFC 7636 §4.1] recommends.
///
/// [RFC 7636 §4.1]: https://www.rfc-editor.org/rfc/rfc7636#section-4.1
const VERIFIER_BYTES: usize = 32;
/// Random bytes in `state` and `nonce` (128 bits each, base64url-encoded).
const TOKEN_BYTES: usize = 16;

/// A fresh PKCE verifier from the OS RNG ([RFC 7636 §4.1]).
///
/// [RFC 7636 §4.1]: https://www.rfc-editor.org/rfc/rfc7636#section-4.1
///
/// # Errors
/// [`RandomError`] when the OS RNG fails.
pub fn new_verifier() -> Result<PkceVerifier, RandomError> {
    random::token(VERIFIER_BYTES).map(PkceVerifier::new)
}

/// The S256 code challenge of a verifier: `BASE64URL(SHA256(ASCII(verifier)))`
/// ([RFC 7636 §4.2]).
///
/// [RFC 7636 §4.2]: https://www.rfc-editor.org/rfc/rfc7636#section-4.2
pub fn code_challenge(verifier: &PkceVerifier) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.secret().as_bytes()))
}

/// Options of one login attempt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginOptions {
    /// Kakao's `prompt` values (`login`, `none`, `create`, `select_account`),
    /// sent comma-separated.
    pub prompt: Vec<String>,
    /// Scopes for this attempt (additional consent); when empty the configured
    /// scopes are used.
    pub scopes: Vec<String>,
    /// The account this attempt is for (additional consent for the signed-in
    /// user): a callback that logs in another account is refused.
    pub for_account: Option<KakaoId>,
}

/// A login waiting for its callback. Taken (moved out) exactly once when a
/// callback with its `state` arrives, so a replayed link finds nothing.
#[derive(Debug)]
pub struct PendingLogin {
    pub(crate) verifier: PkceVerifier,
    pub(crate) state: CsrfState,
    pub(crate) nonce: Nonce,
    pub(crate) redirect_uri: RedirectUri,
    pub(crate) redirect_mode: RedirectMode,
    pub(crate) started_at: SystemTime,
    pub(crate) deadline: SystemTime,
    /// The authorize request asked for `openid`: the token answer must carry
    /// an id_token.
    pub(crate) expects_id_token: bool,
    /// The account the attempt is for ([`LoginOptions::for_account`]).
    pub(crate) for_account: Option<KakaoId>,
}

impl PendingLogin {
    /// When the login started.
    pub fn started_at(&self) -> SystemTime {
        self.started_at
    }

    /// When the login gives up waiting.
    pub fn deadline(&self) -> SystemTime {
        self.deadline
    }

    /// How the callback is expected to arrive.
    pub fn redirect_mode(&self) -> RedirectMode {
        self.redirect_mode
    }

    /// The redirect URI sent at authorize (and again at the token exchange).
    pub fn redirect_uri(&self) -> &RedirectUri {
        &self.redirect_uri
    }

    /// True once `now` is at or past the deadline.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        now >= self.deadline
    }

    /// The PKCE verifier to send with the token exchange.
    pub fn verifier(&self) -> &PkceVerifier {
        &self.verifier
    }

    /// The nonce the id_token must carry.
    pub fn nonce(&self) -> &Nonce {
        &self.nonce
    }

    /// True when the authorize request asked for `openid`, so the token
    /// answer must carry an id_token.
    pub fn expects_id_token(&self) -> bool {
        self.expects_id_token
    }
}

/// A login ready for the browser: the pending login to keep and the URL to
/// open. `Debug` redacts the URL's `state` and `nonce`.
#[derive(Debug)]
pub struct AuthorizeRequest {
    /// The pending login to keep until the callback.
    pub pending: PendingLogin,
    /// The authorize URL to open in the system browser.
    pub url: SecretUrl,
}

/// Creates a pending login and its authorize URL
/// ([RFC 6749 §4.1.1], [RFC 7636 §4.3], `docs/kakao-api.md` §1.1).
///
/// [RFC 6749 §4.1.1]: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1
/// [RFC 7636 §4.3]: https://www.rfc-editor.org/rfc/rfc7636#section-4.3
///
/// # Errors
/// [`RandomError`] when the OS RNG fails.
pub fn begin(
    config: &Config,
    options: &LoginOptions,
    now: SystemTime,
) -> Result<AuthorizeRequest, RandomError> {
    let pending = PendingLogin {
        verifier: new_verifier()?,
        state: CsrfState::new(random::token(TOKEN_BYTES)?),
        nonce: Nonce::new(random::token(TOKEN_BYTES)?),
        redirect_uri: config.redirect_uri.clone(),
        redirect_mode: config.redirect_mode,
        started_at: now,
        deadline: now + LOGIN_DEADLINE,
        expects_id_token: config.oidc
            || requested_scopes(config, options)
                .iter()
                .any(|s| s == "openid"),
        for_account: options.for_account,
    };
    let url = SecretUrl::new(authorize_url(config, &pending, options));
    Ok(AuthorizeRequest { pending, url })
}

/// The scopes an authorize request asks for: this attempt's, else the
/// configured ones.
fn requested_scopes<'a>(config: &'a Config, options: &'a LoginOptions) -> &'a [String] {
    if options.scopes.is_empty() {
        &config.scopes
    } else {
        &options.scopes
    }
}

/// The authorize URL of a pending login.
fn authorize_url(config: &Config, pending: &PendingLogin, options: &LoginOptions) -> url::Url {
    let mut url = config.auth_base_url.endpoint("/oauth/authorize");
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("client_id", &config.client_id)
            .append_pair("redirect_uri", pending.redirect_uri.as_str())
            .append_pair("response_type", "code")
            .append_pair("code_challenge", &code_challenge(&pending.verifier))
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", pending.state.secret())
            .append_pair("nonce", pending.nonce.secret());
        if !options.prompt.is_empty() {
            query.append_pair("prompt", &options.prompt.join(","));
        }
        let scopes = requested_scopes(config, options);
        if !scopes.is_empty() {
            // Kakao issues an id_token for a request with `scope` only when
            // `openid` is in it (`docs/kakao-api.md` §1.1).
            let openid = config.oidc && !scopes.iter().any(|s| s == "openid");
            let joined = if openid {
                format!("openid,{}", scopes.join(","))
            } else {
                scopes.join(",")
            };
            query.append_pair("scope", &joined);
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::config::Resolution;

    fn config(extra: &[(&str, &str)]) -> Config {
        let mut vars: HashMap<String, String> = HashMap::from([
            ("KAKAO_CLIENT_ID".to_owned(), "client-123".to_owned()),
            (
                "KAKAO_REDIRECT_URI".to_owned(),
                "http://127.0.0.1:8765/oauth/callback".to_owned(),
            ),
        ]);
        for (k, v) in extra {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        match Config::resolve_layers(move |n| vars.get(n).cloned(), |_| None) {
            Ok(Resolution::Kakao(config)) => *config,
            other => panic!("test config must resolve: {other:?}"),
        }
    }

    #[test]
    fn s256_matches_rfc7636_appendix_b() {
        // https://www.rfc-editor.org/rfc/rfc7636#appendix-B
        let verifier = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            code_challenge(&verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "the challenge must be the RFC's test vector or Kakao rejects the exchange"
        );
    }

    #[test]
    fn random_values_are_long_unique_and_url_safe() {
        let a = new_verifier().expect("OS RNG");
        let b = new_verifier().expect("OS RNG");
        assert_eq!(a.secret().len(), 43, "RFC 7636 §4.1: 43..=128 characters");
        assert_ne!(a.secret(), b.secret(), "each login gets a fresh verifier");
        let unreserved = |c: char| c.is_ascii_alphanumeric() || "-._~".contains(c);
        assert!(
            a.secret().chars().all(unreserved),
            "verifier uses the unreserved set only"
        );
        assert_eq!(
            random::token(TOKEN_BYTES).expect("OS RNG").len(),
            22,
            "128-bit state/nonce"
        );
    }

    #[test]
    fn authorize_url_carries_every_parameter() {
        let config = config(&[("KAKAO_SCOPES", "openid profile_nickname")]);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let start = begin(&config, &LoginOptions::default(), now).expect("begin");
        let url = start.url.secret();
        assert_eq!(
            url.as_str().split('?').next(),
            Some("https://kauth.kakao.com/oauth/authorize")
        );
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["client_id"], "client-123", "client_id is the REST key");
        assert_eq!(
            q["redirect_uri"], "http://127.0.0.1:8765/oauth/callback",
            "exact redirect URI"
        );
        assert_eq!(
            q["response_type"], "code",
            "Kakao only supports the code flow"
        );
        assert_eq!(
            q["code_challenge_method"], "S256",
            "plain PKCE is never offered"
        );
        assert_eq!(
            q["code_challenge"],
            code_challenge(&start.pending.verifier),
            "challenge of our verifier"
        );
        assert!(
            start.pending.state.matches(&q["state"]),
            "state is the pending login's"
        );
        assert!(
            start.pending.nonce.matches(&q["nonce"]),
            "nonce is the pending login's"
        );
        assert_eq!(
            q["scope"], "openid,profile_nickname",
            "configured scopes, comma-separated"
        );
        assert!(!q.contains_key("prompt"), "no prompt unless asked");
        assert!(
            !url.as_str().contains(start.pending.verifier.secret()),
            "the verifier never leaves"
        );
        let printed = format!("{start:?}");
        assert!(
            !printed.contains(&q["state"]) && !printed.contains(&q["nonce"]),
            "Debug hides state and nonce: {printed}"
        );
        assert_eq!(
            start.pending.deadline(),
            now + LOGIN_DEADLINE,
            "ten minutes from the injected now"
        );
    }

    #[test]
    fn options_override_prompt_and_scope() {
        let config = config(&[("KAKAO_SCOPES", "profile_nickname")]);
        let options = LoginOptions {
            prompt: vec!["login".into(), "select_account".into()],
            scopes: vec!["account_email".into(), "openid".into()],
            ..LoginOptions::default()
        };
        let start = begin(&config, &options, SystemTime::UNIX_EPOCH).expect("begin");
        let q: HashMap<String, String> = start.url.secret().query_pairs().into_owned().collect();
        assert_eq!(
            q["prompt"], "login,select_account",
            "prompt values are comma-separated"
        );
        assert_eq!(
            q["scope"], "account_email,openid",
            "per-login scopes replace the configured ones"
        );
    }

    #[test]
    fn with_oidc_on_a_scope_always_carries_openid() {
        let query = |extra: &[(&str, &str)]| -> (Option<String>, bool) {
            let start = begin(
                &config(extra),
                &LoginOptions::default(),
                SystemTime::UNIX_EPOCH,
            )
            .expect("begin");
            let q: HashMap<String, String> =
                start.url.secret().query_pairs().into_owned().collect();
            (q.get("scope").cloned(), start.pending.expects_id_token())
        };
        assert_eq!(
            query(&[("KAKAO_SCOPES", "account_email,birthday")]),
            (Some("openid,account_email,birthday".to_owned()), true),
            "OIDC on (the default): openid joins the scope, or Kakao sends no id_token"
        );
        assert_eq!(
            query(&[]),
            (None, true),
            "a plain login sends no scope and still expects the id_token"
        );
        assert_eq!(
            query(&[("KAKAO_SCOPES", "account_email"), ("KAKAO_OIDC", "false")]),
            (Some("account_email".to_owned()), false),
            "OIDC off: no openid added, no id_token expected"
        );
        assert_eq!(
            query(&[
                ("KAKAO_SCOPES", "account_email,openid"),
                ("KAKAO_OIDC", "off")
            ]),
            (Some("account_email,openid".to_owned()), true),
            "asking for openid explicitly expects an id_token"
        );
    }
}
