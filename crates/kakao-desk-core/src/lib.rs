//! # kakao-desk-core
//!
//! Kakao Login for a desktop app, with no dependency on Tauri or any GUI toolkit,
//! so it compiles and tests without WebKit and can be reused by any Rust desktop
//! shell.
//!
//! ## The flow this crate implements
//!
//! The shell owns one [`login::KakaoLogin`] (configuration, HTTP client,
//! clock, system browser, profile cache, vault) and calls its methods;
//! everything below happens inside it.
//!
//! 0. **Configure.** [`config::Config::resolve_layers_with`] reads `KAKAO_*` from the
//!    runtime environment, then the build's values, then the production
//!    defaults (the only place that names Kakao's hosts); no app key means demo
//!    mode against the bundled emulator ([`config::Config::demo`]).
//! 1. **Begin.** [`login::KakaoLogin::begin_login`] creates a login attempt
//!    ([`authorize`]: PKCE S256 verifier, `state`, `nonce`, a 10-minute
//!    deadline by the injected [`clock`]) and opens Kakao's authorize page in
//!    the *system* [`browser`]. A new attempt replaces the one in progress.
//! 2. **Callback.** Kakao redirects the browser to a registered redirect URI.
//!    The URL reaches the app either as a deep link of the app's private-use
//!    scheme (forwarded by an https bridge page; the shell routes it with
//!    [`callback::check_deep_link`] and hands the typed link to
//!    [`login::KakaoLogin::complete_login`]) or through the one-shot
//!    [`loopback`] receiver. [`login::KakaoLogin::await_callback`] waits for
//!    it, up to the deadline. One pure function, [`callback::intake`], turns
//!    the URL into a typed callback or a typed error; the pending login is
//!    taken exactly once, so a duplicate or replayed link sends no token
//!    request.
//! 3. **Exchange and verify.** The [`kakao`] client exchanges the code with the
//!    PKCE verifier; [`oidc`] verifies the `id_token` (RS256, JWKS cached by
//!    `kid`, `iss`/`aud`/`exp`/`nonce`), whose nickname the UI can paint at
//!    once; then `/v2/user/me` is fetched.
//! 4. **Keep.** The [`profile`] is normalised (the [`birthday`] parsed to a
//!    real date) and upserted into the SQLite [`cache`] with its thumbnail; the
//!    [`session`] (an HS256 session JWT keyed by HKDF of the vault key, plus
//!    Kakao's tokens with absolute expiries) is sealed into the [`vault`], whose
//!    key lives in the OS keychain.
//! 5. **Restore.** At the next start [`login::KakaoLogin::restore_session`]
//!    opens the vault, validates the session JWT and shows the cached profile,
//!    with no network; [`login::KakaoLogin::verify_session`] then asks Kakao
//!    once, which shows the offline badge when Kakao cannot be reached. Tokens
//!    refresh only when Kakao answers -401 or they are about to expire, once
//!    for all concurrent callers.
//! 6. **Leave.** [`login::KakaoLogin::logout`] revokes at Kakao and wipes the
//!    local session even if Kakao fails; [`login::KakaoLogin::unlink`] also
//!    removes the cached profile.
//!
//! [`login::KakaoLogin::snapshot`] is the whole state a window draws. Every
//! failure a user can meet maps to one stable [`ErrorCode`] with a Korean and
//! an English message; secrets live in the [`secret`] newtypes, which never
//! print, serialize or log. What the code relies on about Kakao's behaviour is
//! written down in `docs/kakao-api.md` at the repository root.
#![warn(missing_docs)]

pub mod authorize;
pub mod backend;
pub mod birthday;
pub mod browser;
pub mod cache;
pub mod callback;
pub mod clock;
pub mod config;
pub mod doctor;
pub mod error;
mod jwt;
pub mod kakao;
pub mod login;
pub mod loopback;
pub mod oidc;
pub mod profile;
pub mod random;
pub mod secret;
pub mod session;
pub mod vault;

pub use error::{ErrorCode, Language};
pub use jwt::install_crypto as install_jwt_crypto;
