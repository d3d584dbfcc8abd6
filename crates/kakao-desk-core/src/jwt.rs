//! The JWT library's crypto backend, chosen once for the process.
//!
//! jsonwebtoken 11 needs a crypto provider; this build enables only its
//! RustCrypto backend, but another crate in the same binary may enable a
//! second one, and then the library refuses to guess. Everything in the core
//! that signs or verifies a JWT (the session token, id_tokens) calls
//! [`install_crypto`] first.

use std::sync::Once;

/// Selects jsonwebtoken's RustCrypto backend for the process, once.
pub(crate) fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
    });
}
