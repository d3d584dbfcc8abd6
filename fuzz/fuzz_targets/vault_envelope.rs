//! The vault envelope decoder: any bytes in either slot file (torn writes,
//! flipped bits, files from another app or version, garbage), and the
//! session record decoder behind it.
//!
//! Input: one flag byte (bit 0: slot A holds bytes, bit 1: slot B does; bit
//! 7: the rest is a decrypted session record instead), a big-endian u16
//! length of slot A's bytes, then slot A's bytes and slot B's.

#![no_main]

use std::sync::LazyLock;

use kakao_desk_core::session::SessionRecord;
use kakao_desk_core::vault::{
    KeySource, MemoryKeySource, MemoryVaultStorage, Slot, Vault, VaultStorage,
};
use libfuzzer_sys::fuzz_target;

/// The key and app id the seeds were sealed with (`examples/make_seeds.rs`).
const KEY: [u8; 32] = [7; 32];
const APP_ID: &str = "dev.kakaodesk.desktop";

/// The seeds were sealed with [`KEY`]: the two-slot seed must open, or the
/// fuzzer would never get past the tag.
static SEEDS_OPEN: LazyLock<()> = LazyLock::new(|| {
    let seed = include_bytes!("../seeds/vault_envelope/two-slots");
    let (a, b) = slots(&seed[1..]);
    assert!(
        matches!(open(Some(a), Some(b)).load(), Ok(Some(_))),
        "the seeds do not open"
    );
});

fn slots(rest: &[u8]) -> (&[u8], &[u8]) {
    match rest {
        [hi, lo, slots @ ..] => {
            slots.split_at(usize::from(u16::from_be_bytes([*hi, *lo])).min(slots.len()))
        }
        _ => (&[], &[]),
    }
}

fn open(a: Option<&[u8]>, b: Option<&[u8]>) -> Vault {
    let storage = MemoryVaultStorage::new();
    for (slot, bytes) in [(Slot::A, a), (Slot::B, b)] {
        if let Some(bytes) = bytes {
            storage.write(slot, bytes).expect("memory");
        }
    }
    let (key, _) = MemoryKeySource::with_key(KEY)
        .load_or_create()
        .expect("key");
    Vault::new(APP_ID, key, Box::new(storage))
}

fuzz_target!(|input: &[u8]| {
    LazyLock::force(&SEEDS_OPEN);
    let [flags, rest @ ..] = input else {
        return;
    };
    if flags & 0x80 != 0 {
        let _ = SessionRecord::from_bytes(rest);
        return;
    }
    let (a, b) = slots(rest);
    let vault = open((flags & 1 != 0).then_some(a), (flags & 2 != 0).then_some(b));
    match vault.load() {
        Ok(Some(plaintext)) => {
            let _ = SessionRecord::from_bytes(&plaintext);
        }
        Ok(None) => {}
        Err(error) => {
            let _ = error.code();
        }
    }
    // Whatever the slots held, the vault recovers: the next save is what the
    // next load returns.
    vault
        .save(b"the next session")
        .expect("save after any slot contents");
    let loaded = vault.load().expect("load after save");
    assert_eq!(
        loaded.as_deref().map(Vec::as_slice),
        Some(&b"the next session"[..])
    );
});
