//! # kakao-emulator
//!
//! A local stand-in for Kakao's two login hosts, `kauth.kakao.com` (OAuth 2.0 and
//! OpenID Connect) and `kapi.kakao.com` (user APIs), served from one loopback port.
//!
//! Kakao's servers cannot be reached from the machines this project is built and
//! tested on, and people who want to try Kakao Desk have no Kakao app key. Every
//! test, benchmark and the app's demo mode therefore talk to this emulator. It is
//! only useful if it is faithful: a client that passes against it must work
//! against real Kakao, so it reproduces Kakao's response shapes, status codes,
//! error bodies and rules as recorded in the project's Kakao API reference
//! (`docs/kakao-api.md` at the repository root, sections 1–8).
//!
//! ## Public API (stable; other crates code against this)
//!
//! ```no_run
//! use std::time::Duration;
//! use kakao_emulator::{EmulatorConfig, Fault, FaultMode, fixture_ids};
//!
//! # async fn demo() -> Result<(), kakao_emulator::StartError> {
//! let emulator = kakao_emulator::start(EmulatorConfig {
//!     client_id: "0123456789abcdef0123456789abcdef".into(),
//!     redirect_uris: vec!["http://127.0.0.1:53682/oauth/callback".into()],
//!     auto_consent: Some(fixture_ids::NINETEEN_DIGIT_ID),
//!     ..EmulatorConfig::default()
//! })
//! .await?;
//!
//! let base = emulator.base_url().to_owned(); // "http://127.0.0.1:PORT", no trailing slash
//! let authorize = emulator.url("/oauth/authorize"); // base + path
//! // ... drive GET /oauth/authorize with redirects off, read `Location` ...
//!
//! // The request log: what reached which path (secrets masked).
//! assert!(emulator.requests().to_path("/oauth/token").is_empty());
//!
//! // Faults: one 500 on the token endpoint, then normal behaviour.
//! emulator.faults().inject("/oauth/token", Fault::ServerError, FaultMode::Once);
//!
//! // Time: move the emulator's clock past the access-token lifetime.
//! emulator.clock().advance(Duration::from_secs(6 * 3600));
//!
//! emulator.shutdown().await;
//! # let _ = (base, authorize);
//! # Ok(()) }
//! ```
//!
//! * [`EmulatorConfig`]: plain struct with public fields and a [`Default`] that is
//!   ready for demo mode (demo client id [`DEMO_CLIENT_ID`], no client secret,
//!   the default fixture users, 6 h access / 60 day refresh lifetimes, OIDC on,
//!   Kakao's token issuance limits on). Fill in what you need and
//!   `..EmulatorConfig::default()` the rest.
//! * [`start`]`(config).await -> Result<`[`RunningEmulator`]`, `[`StartError`]`>`
//!   binds `127.0.0.1:0` (or `config.host`/`config.port`, loopback only) and
//!   serves until [`RunningEmulator::shutdown`] or drop.
//! * [`RunningEmulator`]:
//!   * [`base_url`](RunningEmulator::base_url), [`url`](RunningEmulator::url),
//!     [`addr`](RunningEmulator::addr): where it listens. The same base URL is
//!     the "auth base URL" *and* the "API base URL" (one port serves both hosts)
//!     and is the OIDC issuer.
//!   * [`bridge_redirect_uri`](RunningEmulator::bridge_redirect_uri):
//!     `{base}/bridge/kakao/callback`, always registered as a redirect URI. It
//!     plays the publisher's https bridge page and forwards the query string to
//!     `{bridge_scheme}://oauth/callback?...`.
//!   * [`register_redirect_uri`](RunningEmulator::register_redirect_uri): add a
//!     redirect URI after start (e.g. a loopback listener whose port is known
//!     only later). Only `http`/`https` URIs are accepted, as on Kakao.
//!   * [`requests`](RunningEmulator::requests) -> [`RequestLog`]:
//!     [`all`](RequestLog::all), [`to_path`](RequestLog::to_path),
//!     [`clear`](RequestLog::clear). Each [`RecordedRequest`] has the method,
//!     path, query and form parameters (codes, tokens, verifiers, secrets and the
//!     `Authorization` value masked) and the response status.
//!   * [`faults`](RunningEmulator::faults) -> [`Faults`]:
//!     [`inject`](Faults::inject)`(path, `[`Fault`]`, `[`FaultMode`]`)`,
//!     [`clear`](Faults::clear). Faults: `ServerError` (kauth 500 KOE003, kapi 503 -9798), `Hang` (no answer
//!     until `config.hang_for` elapses or the emulator shuts down),
//!     `TruncatedJson` (the real answer cut in half), `KapiInternalError`
//!     (`400 {"msg":…,"code":-1}`), `InsufficientScope` (`403`, -402 with
//!     `required_scopes`).
//!   * [`clock`](RunningEmulator::clock) -> [`Clock`]: [`now`](Clock::now),
//!     [`advance`](Clock::advance), [`set`](Clock::set). Pass
//!     [`Clock::fixed`] in the config for exact `expires_in` values.
//!   * [`set_latency`](RunningEmulator::set_latency) (added before each answer),
//!     [`set_auto_consent`](RunningEmulator::set_auto_consent) (which fixture
//!     user `GET /oauth/authorize` logs in without a page; `None` = show the
//!     consent page).
//!   * [`shutdown`](RunningEmulator::shutdown)`.await`.
//! * [`Users`]: fixture users in the exact `/v2/user/me` shape:
//!   [`Users::default_fixtures`], [`Users::from_json`], [`Users::from_file`].
//!   The default set's ids are named in [`fixture_ids`]. Image URLs may use the
//!   placeholder `{base_url}`, replaced by the emulator's base URL. A user's
//!   `_withheld` object ([`WITHHELD`]) holds `kakao_account` values the
//!   account has but has not shared; agreeing to their item later
//!   (additional consent: authorize with `scope`) reveals them.
//! * Consent state per user: agreeing on the page (or by `--auto-consent`)
//!   to items an authorize request names turns their `*_needs_agreement`
//!   flags `false`; a linked user asked for new items sees a page with just
//!   those; declining changes nothing; `/v2/user/revoke/scopes` withdraws an
//!   optional item (required ones, the profile items, answer `403 -3`);
//!   unlink forgets the changes.
//! * [`app`]`(`[`EmulatorState`]`) -> axum::Router` for in-process `oneshot`
//!   tests without a socket; [`EmulatorState::new`] takes the config and the
//!   base URL the router should believe it is served from.
//!
//! ## Paths
//!
//! kauth: `GET /oauth/authorize` (consent page, or 302 with auto-consent),
//! `POST /oauth/authorize/consent` (the page's form), `POST /oauth/token`
//! (`authorization_code`, `refresh_token`), `POST /oauth/tokeninfo` (debug),
//! `GET /oauth/logout`,
//! `GET /.well-known/openid-configuration`, `GET /.well-known/jwks.json`.
//! kapi: `GET|POST /v2/user/me`, `GET /v1/user/access_token_info`,
//! `POST /v1/user/logout`, `POST /v1/user/unlink`, `GET|POST /v1/oidc/userinfo`,
//! `GET /v2/user/scopes`, `POST /v2/user/revoke/scopes`.
//! Emulator only: `GET /bridge/kakao/callback`, `GET /images/{file}`.
//!
//! ## Behaviour in brief
//!
//! * Every JSON answer has `Content-Type: application/json;charset=UTF-8`
//!   (discovery: `application/json;charset=utf-8`, as recorded). kauth errors are
//!   `{"error","error_description","error_code"}`, kapi errors `{"msg","code"}`.
//! * Fields a user has not consented to are omitted, never `null`; fixtures with
//!   `null` are refused at load.
//! * Authorize: exact `redirect_uri` match; `scope`/`prompt` split on comma,
//!   space or `+`; unknown parameters (`ka`, `agt`, …) ignored; a consent page
//!   (or 302 with auto-consent; a linked user with the browser session cookie
//!   skips the page; `prompt=login`/`select_account` force it; `prompt=none`
//!   gives `login_required` / `consent_required`). Cancel redirects with
//!   `error=access_denied&error_description=User%20denied%20access`.
//! * Token: single-use 10-minute codes (KOE320), `redirect_uri` repeated exactly
//!   (KOE303), S256 PKCE enforced when a challenge was sent, KOE101/KOE010,
//!   `expires_in` = lifetime − 1 s (21599 for 6 h), `scope` space-joined with
//!   `openid` when an `id_token` is issued. The `id_token` comes with a plain
//!   login of an app with OpenID Connect on, and with an authorize request
//!   that carried `scope` only when `openid` was in it (Kakao's rule for
//!   additional consent, `docs/kakao-api.md` §1.1, §7). The body must be
//!   `application/x-www-form-urlencoded` (see 18 below). Refresh returns a new refresh token
//!   only when under 30 days remain, and the old one then fails with KOE322.
//!   Per-user issuance limit (20 access / 10 min, 30 refresh / 60 min): KOE237.
//! * KOE205 is checked against the app's consent items
//!   ([`EmulatorConfig::consent_items`]; by default every item a fixture user
//!   has set up, plus `openid` when OpenID Connect is on), not against a list
//!   of every scope Kakao knows: `openid` with OpenID Connect off is KOE205.
//! * id_token: RS256, header `{kid, typ:"JWT", alg:"RS256"}`; `iss` = base URL
//!   (or [`EmulatorConfig::issuer`], e.g. Kakao's `https://kauth.kakao.com`),
//!   `aud` = client id, `sub` = id as a string, `iat`, `exp` = `iat` + access
//!   lifetime, `auth_time`, `nonce` only if sent, `nickname`/`picture` when
//!   consented, `email` only if valid and verified.
//! * kapi: bearer tokens only; `-401` with "this access token does not exist"
//!   or "…is already expired". `/v1/user/logout` revokes the access *and*
//!   refresh token; `/v1/user/unlink` revokes all of the user's tokens and
//!   forgets the consent.
//!
//! ## UNCONFIRMED facts and the choice made
//!
//! The reference marks these UNCONFIRMED; the emulator takes the stricter,
//! sane choice so a client that passes here also passes against Kakao.
//!
//! 1. *Authorize-time configuration errors* (KOE101 unknown `client_id`, KOE006
//!    unregistered `redirect_uri`, KOE201/KOE202 `response_type`, KOE205 unknown
//!    scope): an HTML error page, status 400, naming the code; never a redirect.
//!    `client_id` is validated at authorize (one report says Kakao does not).
//! 2. *PKCE*: `code_challenge_method` must be `S256` when a challenge is sent
//!    (`plain` or omitted: error page KOE001). A missing or wrong `code_verifier`
//!    is `400 invalid_grant` / `KOE320` / "PKCE verification failed." (a client
//!    must restart the login, as for any dead code). The verifier's character set
//!    is not checked (the iOS SDK sends standard base64). PKCE does not make
//!    `client_secret` optional. A verifier without a challenge is ignored.
//! 3. *Authorization code*: lives 10 minutes; any exchange attempt consumes it,
//!    even one that fails on `redirect_uri` or the verifier.
//! 4. *Client secret off but sent*: refused with KOE010 (safest: omit it); an
//!    empty value counts as not sent. The secret is read from the form body
//!    only (`client_secret_post`, the one method discovery lists); HTTP Basic
//!    is not read.
//! 5. *Statuses*: KOE322, KOE319 and KOE237 are HTTP 400 (KOE237 with
//!    `error: "invalid_request"`); KOE010/KOE101 are 401.
//! 6. *Refresh rotation*: the old refresh token is invalid as soon as a new one
//!    is issued. A refresh also ends the previous access token at once.
//! 7. *Refresh response*: no `scope` (clients keep the old scopes); a new
//!    `id_token` when the grant had one, with the original `auth_time` and no
//!    `nonce`.
//! 8. *Bearer logout*: revokes the access token and its refresh token.
//! 9. *Lifetimes*: REST-key access token 6 h, refresh token 60 days, both
//!    configurable; ID token = access token lifetime.
//! 10. *Redirect URIs*: `http` loopback with any explicit port can be registered;
//!     matching is exact (no RFC 8252 any-port matching); custom schemes cannot
//!     be registered ([`check_redirect_uri`]).
//! 11. *`grant_type`*: missing → `400 invalid_request` KOE001; unknown →
//!     `400 unsupported_grant_type` KOE001.
//! 12. *`WWW-Authenticate`* on token responses: `Bearer realm="oauth"` (its real
//!     value is not recorded).
//! 13. *kapi without an `Authorization` header*: `401 -401` "this access token
//!     does not exist" (not -2). A malformed `property_keys`, or one naming an
//!     unknown `kakao_account.` field, is `400 -2`.
//! 14. *Injected faults*: kapi `-1` is `400 {"msg":"internal error","code":-1}`
//!     (Kakao's wording unknown; the status is the reference's, §6); a kapi
//!     outage is `503 -9798`; a 500 on kauth is `server_error`/KOE003.
//! 15. *OIDC userinfo `gender`*: upper case (`"FEMALE"`), as the doc example.
//! 16. *Consent*: a linked user with a browser session skips the page unless
//!     `scope` asks for items not yet agreed; agreeing does not change fixture
//!     data (a fixture cannot gain a value it does not hold).
//! 17. *Issuance counting*: a code exchange counts one access and one refresh
//!     token; a refresh counts one access token, plus a refresh token when it
//!     rotates.
//! 18. *A token request that is not a form* (JSON, multipart, no
//!     `Content-Type`): Kakao documents only the form; the emulator answers
//!     `400 invalid_request` KOE001 before reading any parameter, so the code
//!     is not spent. `;charset=utf-8` after the media type is accepted.
//!
//! ## Deliberate differences from real Kakao
//!
//! * One plain-http loopback origin plays both hosts; every discovery URL is
//!   that origin, and so is the OIDC issuer unless the config names Kakao's
//!   (`issuer`), which a client then meets on loopback as in production.
//! * `secure_resource=true` upgrades foreign `http://` image URLs to https, but
//!   the emulator's own images stay `http://127.0.0.1` (no TLS here).
//! * The signing key is generated in memory once per process (never stored), so
//!   tokens verify only against that process's JWKS.
#![warn(missing_docs)]

mod assets;
mod clock;
mod config;
mod faults;
mod kapi;
mod kauth;
mod keys;
mod log;
mod middleware;
mod pages;
mod params;
mod response;
mod router;
mod server;
mod state;
mod store;
mod users;

pub use clock::Clock;
pub use config::{
    DEFAULT_BRIDGE_SCHEME, DEMO_CLIENT_ID, EmulatorConfig, IssuanceLimit, RedirectUriError,
    check_redirect_uri,
};
pub use faults::{Fault, FaultMode, Faults};
pub use log::{MASK, RecordedRequest, RequestLog};
pub use router::app;
pub use server::{RunningEmulator, start};
pub use state::{BRIDGE_PATH, EmulatorState, StartError};
pub use users::{BASE_URL_PLACEHOLDER, FixtureError, Users, WITHHELD, fixture_ids};
