//! The loopback receiver's request parsing, from the raw bytes a browser (or
//! anything else on the machine) sends to the listening socket, through the
//! path check and callback intake, as `loopback::Listener::serve` does.
//!
//! Input: one flag byte (bit 0: a login is pending, bit 1: it is late, bit 2:
//! it waits on the deep link instead), then the request head. `STATE` stands
//! for the pending login's real `state`.

#![no_main]

#[path = "common.rs"]
mod common;

use kakao_desk_core::callback::{self, CallbackSource};
use kakao_desk_core::loopback;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&flags, rest)) = input.split_first() else {
        return;
    };
    let config = if flags & 4 == 0 {
        &*common::LOOPBACK
    } else {
        &*common::BRIDGE
    };
    let mut attempt = common::attempt(config, flags & 1 == 1, flags & 2 == 2);
    let head = common::with_state(rest, &attempt.state);
    let Some(target) = loopback::request_target(&head) else {
        return;
    };
    assert!(target.starts_with('/') && !target.contains(' '));
    assert!(head.starts_with(b"GET "));
    if target.split('?').next() != Some("/oauth/callback") {
        return; // answered 404 without reaching intake
    }
    let url = format!("http://127.0.0.1:53682{target}");
    common::check_intake(&mut attempt, |slot, now| {
        callback::intake(CallbackSource::Loopback { url: &url }, slot, now)
    });
});
