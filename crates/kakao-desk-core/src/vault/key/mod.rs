//! Where the vault key comes from.
//!
//! The key is 256 random bits, created once, and never silently replaced: a
//! new key would make every existing vault unreadable. So a key source
//! creates a key only when it *knows* there is none (the keychain answered "no
//! such entry", the key file does not exist) and, after creating one, reads
//! back what actually landed and adopts it, in case another process won a
//! race. Any other failure is an error, never a reason to make a new key.
//!
//! When no keychain is available there is **no plaintext fallback**: the
//! error maps to `keychain_unavailable`, the app keeps the session in memory
//! only, and the user may opt in to a [`KeyFileSource`] explicitly.
//!
//! One file per source: [`keychain`] (the OS keychain, the default),
//! [`file`] (an opt-in key file) and [`memory`] (tests, and sessions kept for
//! one run); what they share is in [`source`].

mod file;
mod keychain;
mod memory;
mod source;

pub use file::KeyFileSource;
pub use keychain::{KEYCHAIN_ACCOUNT, KeychainKeySource};
pub use memory::MemoryKeySource;
pub use source::{KeyError, KeyOrigin, KeySource, random_vault_key};
