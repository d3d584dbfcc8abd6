//! What every vault key source shares: the trait, its error, and a fresh
//! random key.

use std::io;

use thiserror::Error;
use zeroize::Zeroizing;

use crate::ErrorCode;
use crate::secret::{VAULT_KEY_LEN, VaultKey};

/// Whether a key was found or made by this call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    /// The key already existed (or another process created it first).
    Existing,
    /// This call created and stored the key.
    Created,
}

/// Why no key could be had.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// No usable OS keychain: no Secret Service on the session bus, a locked
    /// collection that cannot be unlocked, no platform support, …
    #[error("the OS keychain is unavailable: {0}")]
    KeychainUnavailable(String),
    /// The keychain holds an entry under our name that is not a 256-bit key.
    /// It is left alone (it might belong to a newer version).
    #[error("the keychain entry for the vault key is not a 256-bit key")]
    KeychainKeyMalformed,
    /// The key file's permissions let other users read or write it.
    #[error("the key file is accessible to other users (mode {mode:o}); refusing to use it")]
    KeyFileInsecure {
        /// The file's permission bits.
        mode: u32,
    },
    /// The key file is not a regular file holding exactly 32 bytes.
    #[error("the key file is not a 256-bit key")]
    KeyFileMalformed,
    /// The key file belongs to another user.
    #[error("the key file belongs to another user; refusing to use it")]
    KeyFileForeignOwner,
    /// Reading or creating the key file failed.
    #[error("the key file could not be read or created")]
    KeyFileIo(#[source] io::Error),
    /// The OS random generator failed.
    #[error("the OS random generator failed")]
    Random,
}

impl KeyError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::KeychainUnavailable(_) | Self::KeychainKeyMalformed => {
                ErrorCode::KeychainUnavailable
            }
            Self::KeyFileInsecure { .. }
            | Self::KeyFileMalformed
            | Self::KeyFileForeignOwner
            | Self::KeyFileIo(_) => ErrorCode::Storage,
            Self::Random => ErrorCode::Internal,
        }
    }
}

/// A source of the vault key.
pub trait KeySource: Send + Sync + std::fmt::Debug {
    /// The key, created on first use.
    ///
    /// # Errors
    /// A [`KeyError`]; the caller must not fall back to storing anything in
    /// plaintext.
    fn load_or_create(&self) -> Result<(VaultKey, KeyOrigin), KeyError>;
}

/// 256 fresh random bits from the OS.
///
/// # Errors
/// [`KeyError::Random`] if the OS generator fails.
pub fn random_vault_key() -> Result<VaultKey, KeyError> {
    let mut bytes = Zeroizing::new([0u8; VAULT_KEY_LEN]);
    crate::random::fill(bytes.as_mut_slice()).map_err(|_| KeyError::Random)?;
    Ok(VaultKey::from_bytes(*bytes))
}

pub(super) fn key_from_slice(bytes: &[u8]) -> Option<VaultKey> {
    let array: Zeroizing<[u8; VAULT_KEY_LEN]> = Zeroizing::new(bytes.try_into().ok()?);
    Some(VaultKey::from_bytes(*array))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_keys_differ() {
        let a = random_vault_key().unwrap();
        let b = random_vault_key().unwrap();
        assert_ne!(
            a.secret(),
            b.secret(),
            "256 random bits never repeat in practice"
        );
    }
}
