//! Randomness from the operating system: the one place the core draws the
//! unguessable values a login and a session need (PKCE verifiers, `state`,
//! `nonce`, session ids, vault nonces and keys).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use thiserror::Error;

use crate::ErrorCode;

/// The OS random number generator failed: nothing safe can be generated.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the operating system's random number generator failed")]
pub struct RandomError;

impl RandomError {
    /// The stable error code the user sees.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::Internal
    }
}

/// Fills `bytes` from the OS RNG.
///
/// # Errors
/// [`RandomError`] when the OS RNG fails.
pub fn fill(bytes: &mut [u8]) -> Result<(), RandomError> {
    getrandom::fill(bytes).map_err(|_| RandomError)
}

/// `n` bytes from the OS RNG, base64url without padding.
///
/// # Errors
/// [`RandomError`] when the OS RNG fails.
pub fn token(n: usize) -> Result<String, RandomError> {
    let mut bytes = zeroize::Zeroizing::new(vec![0_u8; n]);
    fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(&*bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_url_safe_unpadded_and_fresh() {
        let a = token(16).expect("OS RNG");
        let b = token(16).expect("OS RNG");
        assert_eq!(
            a.len(),
            22,
            "16 bytes are 22 base64url characters without padding"
        );
        assert_ne!(a, b, "128 random bits never repeat in practice");
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "base64url alphabet only: {a}"
        );
    }
}
