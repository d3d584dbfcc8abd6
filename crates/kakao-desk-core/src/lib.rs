//! # kakao-desk-core
//!
//! Kakao Login for a desktop app, with no dependency on Tauri or any GUI toolkit,
//! so it compiles and tests without WebKit and can be reused by any Rust desktop
//! shell.
//!
//! ## The flow this crate implements
//!
//! 1. **Begin.** The shell asks for a new login. The core creates a pending login
//!    (PKCE S256 verifier, `state`, `nonce`, a deadline) and the Kakao authorize
//!    URL, which the shell opens in the *system* browser.
//! 2. **Callback.** Kakao redirects the browser to a registered redirect URI. The
//!    URL reaches the app either as a deep link of the app's private-use scheme
//!    (forwarded by an https bridge page) or through a one-shot loopback listener.
//!    One pure function, [`callback`], turns that URL into a typed callback or a
//!    typed error; the pending login is taken exactly once.
//! 3. **Exchange and verify.** The code is exchanged for tokens, the OIDC
//!    `id_token` is verified against Kakao's JWKS, and `/v2/user/me` is fetched.
//! 4. **Keep.** The profile is normalised (birthday parsed to a real date) and
//!    cached in SQLite; the session (a session JWT plus Kakao's tokens) is sealed
//!    with an AEAD whose key lives in the OS keychain.
//! 5. **Restore.** At the next start the session is opened from the vault and the
//!    cached profile is shown with no network; tokens refresh only when Kakao
//!    answers -401 or they are about to expire.
//!
//! Every failure a user can meet maps to one stable [`ErrorCode`] with a Korean
//! and an English message.
#![warn(missing_docs)]

pub mod account;
pub mod birthday;
pub mod cache;
pub mod callback;
pub mod clock;
pub mod config;
pub mod error;
pub mod kakao;
pub mod login;
pub mod loopback;
pub mod oidc;
pub mod profile;
pub mod secret;
pub mod session;
pub mod vault;

pub use error::{ErrorCode, Language};
