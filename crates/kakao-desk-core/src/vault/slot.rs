//! The unit of vault storage: the two slots and the size bounds of what one
//! holds. A leaf both the envelope codec and the storages build on.

/// The largest plaintext the vault seals. A session record is a few
/// kilobytes; this only stops a bug from writing megabytes into the store.
pub const MAX_PLAINTEXT_LEN: usize = 1024 * 1024;
/// Length of the random XChaCha20-Poly1305 nonce.
pub const NONCE_LEN: usize = 24;
/// Length of the Poly1305 tag.
pub const TAG_LEN: usize = 16;
/// Bytes before the ciphertext: magic, version, algorithm, slot, generation,
/// nonce.
pub const HEADER_LEN: usize = 4 + 1 + 1 + 1 + 8 + NONCE_LEN;
/// The largest envelope the vault writes: header, record kind byte, the
/// largest plaintext, tag. A storage never needs to read more.
pub const MAX_ENVELOPE_LEN: usize = HEADER_LEN + 1 + MAX_PLAINTEXT_LEN + TAG_LEN;

/// One of the vault's two slots. Writes alternate between them (odd
/// generations go to `A`, even ones to `B`), so the newest complete envelope
/// always survives a write that is cut short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    /// Holds odd generations.
    A,
    /// Holds even generations.
    B,
}

impl Slot {
    /// Both slots.
    pub const ALL: [Slot; 2] = [Slot::A, Slot::B];

    /// A stable name for the slot (`session-a`, `session-b`), usable as a file
    /// stem or a store key.
    pub fn name(self) -> &'static str {
        match self {
            Self::A => "session-a",
            Self::B => "session-b",
        }
    }

    /// The slot a generation is written to.
    pub fn for_generation(generation: u64) -> Self {
        if generation % 2 == 1 {
            Self::A
        } else {
            Self::B
        }
    }

    /// The wire id of the slot inside an envelope.
    pub(crate) fn wire_id(self) -> u8 {
        match self {
            Self::A => 0,
            Self::B => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_alternate_between_slots() {
        assert_eq!(Slot::for_generation(1), Slot::A);
        assert_eq!(Slot::for_generation(2), Slot::B);
        assert_eq!(
            Slot::for_generation(3),
            Slot::A,
            "consecutive writes never share a slot"
        );
        assert_ne!(
            Slot::A.name(),
            Slot::B.name(),
            "slots must be independent records"
        );
    }
}
