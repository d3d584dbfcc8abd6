//! Secret values: tokens, codes, verifiers, keys.
//!
//! Each secret is a newtype that
//! - prints `Name([redacted])` in `Debug` and has no `Display`, so it cannot
//!   reach a log line or a format string by accident;
//! - has no `Serialize`, so it cannot reach the webview or a plaintext file by
//!   accident (the vault serializes what it seals explicitly);
//! - is read through one accessor, `secret()`, which is easy to search for;
//! - wipes its memory on drop (`zeroize`).
//!
//! The PKCE verifier and the vault key are deliberately not `Clone`: each has
//! exactly one owner, and a copy is a leak waiting to happen.
//!
//! URLs that carry secrets in their query (the authorize URL with `state` and
//! `nonce`, a callback with the authorization code) are [`SecretUrl`]s, whose
//! `Debug` shows the parameter names only.

use url::Url;
use zeroize::{Zeroize, Zeroizing};

macro_rules! secret_string {
    ($(#[$meta:meta])* $name:ident $(, $derive:ident)?) => {
        $(#[$meta])*
        $(#[derive($derive)])?
        pub struct $name(Zeroizing<String>);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(Zeroizing::new(value.into()))
            }

            /// The secret itself.
            ///
            /// # Security
            /// Never log, display or persist the returned value in clear.
            pub fn secret(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret_string!(
    /// A Kakao access token (`Authorization: Bearer …`).
    AccessToken, Clone
);
secret_string!(
    /// A Kakao refresh token.
    RefreshToken, Clone
);
secret_string!(
    /// An OIDC id_token as received (a JWS compact serialization).
    IdToken, Clone
);
secret_string!(
    /// A one-time authorization code from the callback.
    AuthorizationCode
);
secret_string!(
    /// The PKCE code verifier (RFC 7636 §4.1). Single owner: not `Clone`.
    PkceVerifier
);
secret_string!(
    /// The anti-CSRF `state` of a pending login.
    CsrfState
);
secret_string!(
    /// The OIDC `nonce` of a pending login.
    Nonce
);
secret_string!(
    /// The app's own session token (a JWT; see `crate::session`).
    SessionJwt, Clone
);
secret_string!(
    /// The optional Kakao client secret (a desktop binary cannot really keep
    /// it, `docs/kakao-api.md` §3.1, but it must still never reach
    /// a log).
    ClientSecret, Clone
);

/// A URL whose query values are secrets. `Debug` prints it with every query
/// value replaced by `[redacted]` (names stay, for diagnosis) and without user
/// info or fragment; the URL itself is read through [`SecretUrl::secret`].
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(Url);

impl SecretUrl {
    /// Wraps a URL.
    pub fn new(url: Url) -> Self {
        Self(url)
    }

    /// The URL itself.
    ///
    /// # Security
    /// Its query holds secrets: never log or display it. Use
    /// [`SecretUrl::redacted`] for logs.
    pub fn secret(&self) -> &Url {
        &self.0
    }

    /// The URL with every query value replaced by `[redacted]`: safe to log.
    pub fn redacted(&self) -> String {
        let mut shown = self.0.clone();
        if self.0.query().is_some() {
            let names: Vec<String> = self.0.query_pairs().map(|(k, _)| k.into_owned()).collect();
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

    /// The names of the query parameters, in order, without their values.
    pub fn parameter_names(&self) -> Vec<String> {
        self.0.query_pairs().map(|(k, _)| k.into_owned()).collect()
    }
}

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl CsrfState {
    /// Compares with a received value in constant time, so the comparison leaks
    /// nothing about how much of a guess was right.
    pub fn matches(&self, received: &str) -> bool {
        constant_time_eq(self.secret().as_bytes(), received.as_bytes())
    }
}

impl Nonce {
    /// Compares with a claimed nonce in constant time.
    pub fn matches(&self, claimed: &str) -> bool {
        constant_time_eq(self.secret().as_bytes(), claimed.as_bytes())
    }
}

/// Length of the vault key in bytes (256 bits).
pub const VAULT_KEY_LEN: usize = 32;

/// The 256-bit key that seals the session vault. Lives in the OS keychain;
/// single owner (not `Clone`), wiped on drop.
pub struct VaultKey(Box<[u8; VAULT_KEY_LEN]>);

impl VaultKey {
    /// Wraps key bytes. The caller's copy should be wiped.
    pub fn from_bytes(bytes: [u8; VAULT_KEY_LEN]) -> Self {
        Self(Box::new(bytes))
    }

    /// The key material.
    ///
    /// # Security
    /// Never log, display or persist the returned bytes in clear.
    pub fn secret(&self) -> &[u8; VAULT_KEY_LEN] {
        &self.0
    }
}

impl Drop for VaultKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultKey([redacted])")
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let printed = format!(
            "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
            AccessToken::new("tok-AAA"),
            RefreshToken::new("tok-BBB"),
            IdToken::new("tok-CCC"),
            AuthorizationCode::new("tok-DDD"),
            PkceVerifier::new("tok-EEE"),
            CsrfState::new("tok-FFF"),
            Nonce::new("tok-GGG"),
            SessionJwt::new("tok-HHH"),
            ClientSecret::new("tok-III"),
            VaultKey::from_bytes([0x41; VAULT_KEY_LEN]),
        );
        assert!(
            !printed.contains("tok-"),
            "a secret leaked through Debug: {printed}"
        );
        assert!(
            !printed.contains("AAAA"),
            "key bytes leaked through Debug: {printed}"
        );
        assert_eq!(
            printed.matches("[redacted]").count(),
            10,
            "every secret says it is redacted"
        );
        assert!(
            printed.contains("AccessToken([redacted])"),
            "the type name stays for diagnosis"
        );
    }

    #[test]
    fn secret_urls_show_parameter_names_only() {
        let url = Url::parse(
            "dev.kakaodesk.desktop://user:pw@oauth/callback?code=SECRET1&state=SECRET2&x#SECRET3",
        )
        .expect("valid URL");
        let secret = SecretUrl::new(url.clone());
        let shown = format!("{secret:?}");
        assert!(
            !shown.contains("SECRET"),
            "values must not survive redaction: {shown}"
        );
        assert!(!shown.contains("pw"), "user info is dropped: {shown}");
        assert!(
            shown.contains("code=%5Bredacted%5D"),
            "names stay for diagnosis: {shown}"
        );
        assert_eq!(secret.redacted(), shown, "Debug is the redacted form");
        assert_eq!(secret.parameter_names(), ["code", "state", "x"]);
        assert_eq!(
            secret.secret(),
            &url,
            "the accessor returns the URL unchanged"
        );
    }

    #[test]
    fn the_accessor_returns_the_value() {
        assert_eq!(AccessToken::new("abc").secret(), "abc");
        assert_eq!(
            VaultKey::from_bytes([7; VAULT_KEY_LEN]).secret(),
            &[7; VAULT_KEY_LEN]
        );
    }

    #[test]
    fn state_and_nonce_compare_exactly() {
        let state = CsrfState::new("s-123");
        assert!(state.matches("s-123"));
        assert!(!state.matches("s-124"), "one different byte must not match");
        assert!(!state.matches("s-12"), "a prefix must not match");
        assert!(!state.matches(""), "empty must not match");
        assert!(Nonce::new("n").matches("n"));
        assert!(
            !Nonce::new("n").matches("N"),
            "comparison is case-sensitive"
        );
    }
}
