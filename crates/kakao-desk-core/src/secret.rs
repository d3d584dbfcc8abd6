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
    /// The app's own session token (a JWT, DESIGN §4).
    SessionJwt, Clone
);
secret_string!(
    /// The optional Kakao client secret (DESIGN §5: a desktop binary cannot
    /// really keep it, but it must still never reach a log).
    ClientSecret, Clone
);

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
            "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
            AccessToken::new("tok-AAA"),
            RefreshToken::new("tok-BBB"),
            IdToken::new("tok-CCC"),
            AuthorizationCode::new("tok-DDD"),
            PkceVerifier::new("tok-EEE"),
            CsrfState::new("tok-FFF"),
            Nonce::new("tok-GGG"),
            SessionJwt::new("tok-HHH"),
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
            9,
            "every secret says it is redacted"
        );
        assert!(
            printed.contains("AccessToken([redacted])"),
            "the type name stays for diagnosis"
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
