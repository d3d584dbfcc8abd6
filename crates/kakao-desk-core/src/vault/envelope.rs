//! The sealed envelope: the only bytes of the session that reach storage.
//!
//! Layout, version 1 (all integers big-endian):
//!
//! | offset | size | field                                             |
//! |-------:|-----:|---------------------------------------------------|
//! | 0      | 4    | magic `KDVT`                                      |
//! | 4      | 1    | format version, `1`                               |
//! | 5      | 1    | algorithm, `1` = XChaCha20-Poly1305               |
//! | 6      | 1    | slot, `0` = A, `1` = B                            |
//! | 7      | 8    | generation                                        |
//! | 15     | 24   | nonce (random)                                    |
//! | 39     | n+16 | ciphertext of (record kind byte ‖ payload) ‖ tag   |
//!
//! The associated data is `kakao-desk vault` ‖ 0x00 ‖ u16 length ‖ app id ‖
//! the 39-byte header, so an envelope opens only for the app that sealed it,
//! in the slot and at the generation it was sealed for: one slot cannot be
//! swapped for the other, nor its generation edited to win.
//!
//! The AEAD key is not the vault key itself but HKDF-SHA256 of it (salt: the
//! app id, info: [`AEAD_KEY_INFO`]), so it is independent of every other key
//! derived from the vault key (the session JWT key among them).
//!
//! XChaCha20-Poly1305's 192-bit nonce is drawn at random for every seal;
//! collisions are negligible at any number of writes a desktop app makes.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;
use thiserror::Error;
use zeroize::Zeroizing;

use super::slot::{HEADER_LEN, NONCE_LEN, Slot, TAG_LEN};
use crate::secret::VaultKey;

/// The four bytes every envelope starts with.
pub const MAGIC: [u8; 4] = *b"KDVT";
/// The envelope format this version writes.
pub const FORMAT_VERSION: u8 = 1;
/// Algorithm id of XChaCha20-Poly1305.
pub const ALG_XCHACHA20_POLY1305: u8 = 1;
/// HKDF info of the envelope's AEAD key.
pub const AEAD_KEY_INFO: &[u8] = b"kakao-desk vault xchacha20poly1305 v1";

const AD_DOMAIN: &[u8] = b"kakao-desk vault\0";

/// What a sealed record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordKind {
    /// The caller's bytes.
    Data,
    /// "Signed out": written by `clear` so that no older slot can come back.
    Cleared,
}

impl RecordKind {
    fn byte(self) -> u8 {
        match self {
            Self::Cleared => 0,
            Self::Data => 1,
        }
    }
}

/// Why an envelope did not open. Deliberately coarse: which check failed
/// matters for logs, not for what happens next (the slot is ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum EnvelopeError {
    /// Shorter than a header and a tag, or not starting with the magic.
    #[error("not a vault envelope")]
    NotAnEnvelope,
    /// A format version this build does not know.
    #[error("unsupported vault format version {0}")]
    UnsupportedVersion(u8),
    /// An algorithm this build does not know.
    #[error("unsupported vault algorithm {0}")]
    UnsupportedAlgorithm(u8),
    /// Sealed for the other slot, or a generation that belongs to the other slot.
    #[error("envelope belongs to another slot")]
    WrongSlot,
    /// Authentication failed: another key, another app, or altered bytes.
    #[error("envelope does not authenticate")]
    Authentication,
    /// Sealing failed (the AEAD refused the input).
    #[error("sealing failed")]
    Seal,
}

/// An opened envelope.
pub(crate) struct Opened {
    pub(crate) generation: u64,
    pub(crate) kind: RecordKind,
    pub(crate) payload: Zeroizing<Vec<u8>>,
}

/// The AEAD bound to one app.
pub(crate) struct Sealer {
    cipher: XChaCha20Poly1305,
    app_id: String,
}

impl Sealer {
    pub(crate) fn new(key: &VaultKey, app_id: &str) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(app_id.as_bytes()), key.secret());
        let mut okm = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's 255 × 32 limit: this cannot fail.
        let _ = hkdf.expand(AEAD_KEY_INFO, okm.as_mut_slice());
        let cipher = XChaCha20Poly1305::new(&(*okm).into());
        Self {
            cipher,
            app_id: app_id.to_owned(),
        }
    }

    fn associated_data(&self, header: &[u8]) -> Vec<u8> {
        let app = self.app_id.as_bytes();
        let app_len = u16::try_from(app.len()).unwrap_or(u16::MAX);
        let mut ad = Vec::with_capacity(AD_DOMAIN.len() + 2 + app.len() + header.len());
        ad.extend_from_slice(AD_DOMAIN);
        ad.extend_from_slice(&app_len.to_be_bytes());
        ad.extend_from_slice(&app[..usize::from(app_len)]);
        ad.extend_from_slice(header);
        ad
    }

    pub(crate) fn seal(
        &self,
        generation: u64,
        kind: RecordKind,
        payload: &[u8],
        nonce: [u8; NONCE_LEN],
    ) -> Result<Vec<u8>, EnvelopeError> {
        let slot = Slot::for_generation(generation);
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(&MAGIC);
        header.push(FORMAT_VERSION);
        header.push(ALG_XCHACHA20_POLY1305);
        header.push(slot.wire_id());
        header.extend_from_slice(&generation.to_be_bytes());
        header.extend_from_slice(&nonce);
        let mut plaintext = Zeroizing::new(Vec::with_capacity(payload.len() + 1));
        plaintext.push(kind.byte());
        plaintext.extend_from_slice(payload);
        let ad = self.associated_data(&header);
        let ciphertext = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &plaintext,
                    aad: &ad,
                },
            )
            .map_err(|_| EnvelopeError::Seal)?;
        header.extend_from_slice(&ciphertext);
        Ok(header)
    }

    pub(crate) fn open(&self, slot: Slot, envelope: &[u8]) -> Result<Opened, EnvelopeError> {
        if envelope.len() < HEADER_LEN + TAG_LEN + 1 || envelope[0..4] != MAGIC {
            return Err(EnvelopeError::NotAnEnvelope);
        }
        let (header, ciphertext) = envelope.split_at(HEADER_LEN);
        if header[4] != FORMAT_VERSION {
            return Err(EnvelopeError::UnsupportedVersion(header[4]));
        }
        if header[5] != ALG_XCHACHA20_POLY1305 {
            return Err(EnvelopeError::UnsupportedAlgorithm(header[5]));
        }
        let mut generation = [0u8; 8];
        generation.copy_from_slice(&header[7..15]);
        let generation = u64::from_be_bytes(generation);
        if header[6] != slot.wire_id() || Slot::for_generation(generation) != slot {
            return Err(EnvelopeError::WrongSlot);
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&header[15..HEADER_LEN]);
        let ad = self.associated_data(header);
        let plaintext = Zeroizing::new(
            self.cipher
                .decrypt(
                    &XNonce::from(nonce),
                    Payload {
                        msg: ciphertext,
                        aad: &ad,
                    },
                )
                .map_err(|_| EnvelopeError::Authentication)?,
        );
        let kind = match plaintext.first() {
            Some(1) => RecordKind::Data,
            Some(0) => RecordKind::Cleared,
            // Authenticated, so written by a newer build with a record kind we
            // do not know: treat as not openable rather than guess.
            _ => return Err(EnvelopeError::UnsupportedVersion(header[4])),
        };
        Ok(Opened {
            generation,
            kind,
            payload: Zeroizing::new(plaintext[1..].to_vec()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::VAULT_KEY_LEN;

    const APP: &str = "dev.kakaodesk.test";

    fn test_key() -> VaultKey {
        let mut key = [0u8; VAULT_KEY_LEN];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::try_from(i).unwrap();
        }
        VaultKey::from_bytes(key)
    }

    /// Sealed once by `Sealer::seal(3, Data, b"pinned session record", [0x42; 24])`
    /// with key 00 01 … 1f and app id `dev.kakaodesk.test`, and reproduced
    /// byte for byte by an independent implementation (Python: HKDF from
    /// `hmac`, HChaCha20 by hand, ChaCha20-Poly1305 from `cryptography`), so
    /// the layout table in the module docs is the truth. If this test fails,
    /// the wire format changed: existing users' vaults would no longer open.
    /// Bump `FORMAT_VERSION` and keep a reader for version 1 instead.
    const PINNED_ENVELOPE: &str = concat!(
        "4b44565401010000000000000000034242424242424242424242424242424242424242424242",
        "4291cc9671c8353b711d92efcaade701401466a3a47495d317f31f8099520abbf8b46da7d31896",
    );

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn wire_format_is_stable() {
        let sealer = Sealer::new(&test_key(), APP);
        let fresh = sealer
            .seal(3, RecordKind::Data, b"pinned session record", [0x42; 24])
            .unwrap();
        let pinned = unhex(PINNED_ENVELOPE);
        assert_eq!(&pinned[0..4], b"KDVT", "magic");
        assert_eq!(pinned[4], 1, "format version 1");
        assert_eq!(pinned[5], 1, "XChaCha20-Poly1305");
        assert_eq!(pinned[6], 0, "generation 3 lives in slot A");
        assert_eq!(
            &pinned[7..15],
            &3u64.to_be_bytes(),
            "generation, big-endian"
        );
        assert_eq!(&pinned[15..39], &[0x42; 24], "nonce");
        assert_eq!(
            pinned.len(),
            HEADER_LEN + 1 + b"pinned session record".len() + TAG_LEN,
            "header, kind byte, payload, tag"
        );
        let opened = sealer
            .open(Slot::A, &pinned)
            .expect("an envelope sealed by an earlier build must still open");
        assert_eq!(&opened.payload[..], b"pinned session record");
        assert_eq!(opened.generation, 3);
        assert_eq!(opened.kind, RecordKind::Data);
        assert_eq!(
            fresh, pinned,
            "sealing is deterministic given key, nonce and input"
        );
    }

    #[test]
    fn any_flipped_bit_is_refused() {
        let sealer = Sealer::new(&test_key(), APP);
        let envelope = sealer
            .seal(5, RecordKind::Data, b"secret", [7; 24])
            .unwrap();
        for i in 0..envelope.len() {
            let mut bad = envelope.clone();
            bad[i] ^= 0x01;
            assert!(
                sealer.open(Slot::A, &bad).is_err(),
                "byte {i} altered must not open: header and ciphertext are both authenticated"
            );
        }
        assert!(
            sealer
                .open(Slot::A, &envelope[..envelope.len() - 1])
                .is_err(),
            "a torn (truncated) write must not open"
        );
    }

    #[test]
    fn envelopes_are_bound_to_app_slot_and_key() {
        let sealer = Sealer::new(&test_key(), APP);
        let envelope = sealer
            .seal(5, RecordKind::Data, b"secret", [7; 24])
            .unwrap();
        assert_eq!(
            sealer.open(Slot::B, &envelope).err(),
            Some(EnvelopeError::WrongSlot),
            "a slot-A envelope copied into slot B must not open"
        );
        let other_app = Sealer::new(&test_key(), "dev.other.app");
        assert_eq!(
            other_app.open(Slot::A, &envelope).err(),
            Some(EnvelopeError::Authentication),
            "another app with the same key must not open it"
        );
        let other_key = Sealer::new(&VaultKey::from_bytes([9; VAULT_KEY_LEN]), APP);
        assert_eq!(
            other_key.open(Slot::A, &envelope).err(),
            Some(EnvelopeError::Authentication),
            "another key must not open it"
        );
        // Rewrite the generation to another odd one (same slot): AD catches it.
        let mut bumped = envelope.clone();
        bumped[7..15].copy_from_slice(&7u64.to_be_bytes());
        assert_eq!(
            sealer.open(Slot::A, &bumped).err(),
            Some(EnvelopeError::Authentication),
            "an edited generation must not make an old envelope win"
        );
    }
}
