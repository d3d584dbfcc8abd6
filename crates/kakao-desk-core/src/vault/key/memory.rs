//! A vault key that lives only in this process.

use std::sync::Mutex;

use zeroize::Zeroizing;

use super::source::{KeyError, KeyOrigin, KeySource, random_vault_key};
use crate::secret::{VAULT_KEY_LEN, VaultKey};

/// A key that lives only in this process: tests, and sessions deliberately
/// kept in memory.
#[derive(Debug, Default)]
pub struct MemoryKeySource {
    key: Mutex<Option<Zeroizing<[u8; VAULT_KEY_LEN]>>>,
}

impl MemoryKeySource {
    /// No key yet; the first call creates a random one.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fixed key (tests).
    pub fn with_key(bytes: [u8; VAULT_KEY_LEN]) -> Self {
        Self {
            key: Mutex::new(Some(Zeroizing::new(bytes))),
        }
    }
}

impl KeySource for MemoryKeySource {
    fn load_or_create(&self) -> Result<(VaultKey, KeyOrigin), KeyError> {
        let mut slot = self.key.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bytes) = slot.as_ref() {
            return Ok((VaultKey::from_bytes(**bytes), KeyOrigin::Existing));
        }
        let key = random_vault_key()?;
        *slot = Some(Zeroizing::new(*key.secret()));
        Ok((key, KeyOrigin::Created))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_source_creates_once() {
        let source = MemoryKeySource::new();
        let (first, origin) = source.load_or_create().unwrap();
        assert_eq!(origin, KeyOrigin::Created);
        let (second, origin) = source.load_or_create().unwrap();
        assert_eq!(
            origin,
            KeyOrigin::Existing,
            "the second call finds the first key"
        );
        assert_eq!(first.secret(), second.secret(), "never replaced");
    }
}
