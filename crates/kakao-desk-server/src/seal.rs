//! Sealing secrets at rest: Kakao's tokens and the signing keys.
//!
//! One 32-byte sealing key (a file, or KDS_SEALING_KEY_FILE) is the root;
//! HKDF-SHA256 derives one XChaCha20-Poly1305 key per purpose from it, so a
//! sealed Kakao token can never be opened as a signing key or the reverse.
//! Each value is sealed with a fresh random 192-bit nonce and the row's id
//! as associated data: a ciphertext copied to another row does not open.
//! Layout: `version (1) || nonce (24) || ciphertext + tag`.

use std::io::Write as _;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;
use thiserror::Error;
use zeroize::Zeroizing;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// What a sealer is for (its HKDF `info`).
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    /// Kakao's tokens of a session.
    KakaoTokens,
    /// The access-token signing keys.
    SigningKeys,
}

impl Purpose {
    fn info(self) -> &'static [u8] {
        match self {
            Self::KakaoTokens => b"kakao-desk-server/v1/kakao-tokens",
            Self::SigningKeys => b"kakao-desk-server/v1/signing-keys",
        }
    }
}

/// Why sealing or opening failed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SealError {
    /// The key file is missing, unreadable or not 32 bytes of base64.
    #[error("the sealing key {0}")]
    Key(String),
    /// The value was not sealed by this key for this row (or is damaged).
    #[error("a sealed value does not open with the sealing key")]
    Open,
    /// No randomness.
    #[error("the system random source failed")]
    Random,
}

/// The root sealing key.
pub struct SealingKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

impl SealingKey {
    /// A key from its bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Reads the base64 key in `path`.
    ///
    /// # Errors
    /// [`SealError::Key`].
    pub fn read(path: &Path) -> Result<Self, SealError> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| SealError::Key(format!("{} cannot be read: {e}", path.display())))?,
        );
        let bytes = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| SealError::Key(format!("{} is not base64", path.display())))?,
        );
        let bytes: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| SealError::Key(format!("{} does not hold 32 bytes", path.display())))?;
        Ok(Self::from_bytes(bytes))
    }

    /// Reads the key in `path`, creating it (owner-only, never overwriting)
    /// when there is none.
    ///
    /// # Errors
    /// [`SealError`].
    pub fn read_or_create(path: &Path) -> Result<Self, SealError> {
        if path.exists() {
            return Self::read(path);
        }
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut()).map_err(|_| SealError::Random)?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(path).and_then(|mut file| {
            file.write_all(Zeroizing::new(STANDARD.encode(bytes.as_ref())).as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()
        });
        match written {
            Ok(()) => {
                tracing::warn!(path = %path.display(), "created a new sealing key: back it up, without it the sessions in the database cannot be opened");
                Ok(Self::from_bytes(*bytes))
            }
            // Another process made it first.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::read(path),
            Err(e) => Err(SealError::Key(format!(
                "{} cannot be created: {e}",
                path.display()
            ))),
        }
    }

    /// The sealer for `purpose`.
    pub fn sealer(&self, purpose: Purpose) -> Sealer {
        let mut key = Zeroizing::new([0u8; 32]);
        // A 32-byte output is always within HKDF-SHA256's limit.
        let _ = Hkdf::<Sha256>::new(None, self.0.as_ref()).expand(purpose.info(), key.as_mut());
        Sealer(XChaCha20Poly1305::new(&(*key).into()))
    }
}

/// Seals and opens values for one purpose.
#[derive(Clone)]
pub struct Sealer(XChaCha20Poly1305);

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// Seals `plaintext`, bound to `row` (the associated data).
    ///
    /// # Errors
    /// [`SealError::Random`].
    pub fn seal(&self, plaintext: &[u8], row: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| SealError::Random)?;
        let sealed = self
            .0
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: row,
                },
            )
            .map_err(|_| SealError::Open)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens what [`Self::seal`] sealed for `row`.
    ///
    /// # Errors
    /// [`SealError::Open`].
    pub fn open(&self, sealed: &[u8], row: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let Some((&VERSION, rest)) = sealed.split_first() else {
            return Err(SealError::Open);
        };
        if rest.len() < NONCE_LEN {
            return Err(SealError::Open);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::Open)?;
        self.0
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: row,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SealError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_for_its_row_purpose_and_key() {
        let key = SealingKey::from_bytes([7; 32]);
        let tokens = key.sealer(Purpose::KakaoTokens);
        let sealed = tokens.seal(b"secret", b"row-1").expect("seals");
        assert!(!sealed.windows(6).any(|w| w == b"secret"), "no plaintext");
        assert_eq!(
            tokens.open(&sealed, b"row-1").expect("opens").as_slice(),
            b"secret"
        );
        assert_eq!(tokens.open(&sealed, b"row-2"), Err(SealError::Open));
        assert_eq!(
            key.sealer(Purpose::SigningKeys).open(&sealed, b"row-1"),
            Err(SealError::Open),
            "another purpose's key"
        );
        assert_eq!(
            SealingKey::from_bytes([8; 32])
                .sealer(Purpose::KakaoTokens)
                .open(&sealed, b"row-1"),
            Err(SealError::Open)
        );
        let mut damaged = sealed.clone();
        *damaged.last_mut().expect("bytes") ^= 1;
        assert_eq!(tokens.open(&damaged, b"row-1"), Err(SealError::Open));
        assert_eq!(tokens.open(&sealed[..10], b"row-1"), Err(SealError::Open));
        assert_ne!(
            tokens.seal(b"secret", b"row-1").expect("seals"),
            sealed,
            "a fresh nonce each time"
        );
    }

    #[test]
    fn the_key_file_is_made_once_owner_only_and_then_read() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("sealing.key");
        let made = SealingKey::read_or_create(&path).expect("made");
        let again = SealingKey::read_or_create(&path).expect("read");
        assert_eq!(made.0.as_ref(), again.0.as_ref(), "never overwritten");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o077, 0, "owner-only: {mode:o}");
        }
        std::fs::write(&path, "c2hvcnQ=\n").expect("write");
        assert!(matches!(SealingKey::read(&path), Err(SealError::Key(_))));
    }
}
