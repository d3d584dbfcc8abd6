//! What the callback targets share: an app configured for one redirect mode,
//! a pending login of it, and the properties every intake must keep.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use kakao_desk_core::authorize::{self, LoginOptions, PendingLogin};
use kakao_desk_core::callback::{Callback, CallbackError};
use kakao_desk_core::config::{Config, Resolution};

/// The app's deep-link scheme (as in `tauri.conf.json`).
pub const SCHEME: &str = "dev.kakaodesk.desktop";
/// The https bridge page Kakao redirects to in bridge mode.
pub const BRIDGE_URI: &str = "https://desk.example.com/kakao/callback";
/// The loopback redirect URI in loopback mode.
pub const LOOPBACK_URI: &str = "http://127.0.0.1:53682/oauth/callback";
/// Seeds write this where the pending login's real `state` goes, so the
/// fuzzer reaches the checks behind the state comparison.
pub const STATE_MARK: &[u8] = b"STATE";

/// The app in bridge mode and in loopback mode, resolved once.
pub static BRIDGE: LazyLock<Config> = LazyLock::new(|| config(BRIDGE_URI));
/// See [`BRIDGE`].
pub static LOOPBACK: LazyLock<Config> = LazyLock::new(|| config(LOOPBACK_URI));

/// The production configuration of an app whose redirect URI is `redirect`.
fn config(redirect: &str) -> Config {
    let vars: HashMap<&str, &str> = HashMap::from([
        ("KAKAO_CLIENT_ID", "fuzz-client"),
        ("KAKAO_REDIRECT_URI", redirect),
        ("KAKAO_SCOPES", "openid,profile_nickname"),
    ]);
    match Config::resolve_layers(|name| vars.get(name).map(|v| (*v).to_owned()), |_| None) {
        Ok(Resolution::Kakao(config)) => *config,
        other => panic!("fixture configuration: {other:?}"),
    }
}

/// A login in progress, begun at a fixed time.
pub struct Attempt {
    /// The slot intake takes the pending login from.
    pub slot: Option<PendingLogin>,
    /// The pending login's `state`, as the authorize URL carries it.
    pub state: String,
    /// When the callback arrives.
    pub now: SystemTime,
}

/// A pending login of `config`; `present` false empties the slot, `late`
/// lets the callback arrive after the deadline.
pub fn attempt(config: &Config, present: bool, late: bool) -> Attempt {
    let begun = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let request = authorize::begin(config, &LoginOptions::default(), begun).expect("OS RNG");
    let state = request
        .url
        .secret()
        .query_pairs()
        .find(|(name, _)| name == "state")
        .map(|(_, value)| value.into_owned())
        .expect("the authorize URL carries state");
    let now = if late {
        request.pending.deadline() + Duration::from_secs(1)
    } else {
        begun + Duration::from_secs(30)
    };
    Attempt {
        slot: present.then_some(request.pending),
        state,
        now,
    }
}

/// `input` with every [`STATE_MARK`] replaced by `state`.
pub fn with_state(input: &[u8], state: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() + state.len());
    let mut rest = input;
    while let Some(at) = rest.windows(STATE_MARK.len()).position(|w| w == STATE_MARK) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(state.as_bytes());
        rest = &rest[at + STATE_MARK.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// Runs `source` through intake twice and checks what must hold whatever the
/// input: the pending login is taken exactly when the callback is its own or
/// ends the login; a foreign or forged link leaves it in place; every error
/// has a stable code; and the same link again finds nothing pending.
pub fn check_intake(
    attempt: &mut Attempt,
    intake: impl Fn(&mut Option<PendingLogin>, SystemTime) -> Result<Callback, CallbackError>,
) {
    let had = attempt.slot.is_some();
    match intake(&mut attempt.slot, attempt.now) {
        Ok(callback) => {
            assert!(had, "a callback without a pending login");
            assert!(attempt.slot.is_none(), "the pending login was not taken");
            assert!(!callback.code.secret().is_empty());
        }
        Err(error) => {
            let _ = error.code();
            if error.ends_login() {
                assert!(attempt.slot.is_none(), "{error:?} ended nothing");
            } else {
                assert_eq!(attempt.slot.is_some(), had, "{error:?} took the login");
            }
        }
    }
    if attempt.slot.is_none() {
        let again = intake(&mut attempt.slot, attempt.now);
        assert!(again.is_err(), "a replayed callback was accepted");
    }
}
