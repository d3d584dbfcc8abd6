//! Deep-link routing and callback intake: any string the OS hands the app as
//! a launch argument or an opened URL, with a pending login present or
//! absent, on time or late, waiting on the deep link or on loopback.
//!
//! Input: one flag byte (bit 0: a login is pending, bit 1: it is late, bit 2:
//! it waits on loopback), then the URL. `STATE` in the URL stands for the
//! pending login's real `state`.

#![no_main]

#[path = "common.rs"]
mod common;

use kakao_desk_core::callback::{self, CallbackSource};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&flags, rest)) = input.split_first() else {
        return;
    };
    let config = if flags & 4 == 0 {
        &*common::BRIDGE
    } else {
        &*common::LOOPBACK
    };
    let mut attempt = common::attempt(config, flags & 1 == 1, flags & 2 == 2);
    let raw = common::with_state(rest, &attempt.state);
    let Ok(raw) = std::str::from_utf8(&raw) else {
        return;
    };
    match callback::check_deep_link(raw, common::SCHEME) {
        Ok(link) => {
            let _ = format!("{link:?}");
            common::check_intake(&mut attempt, |slot, now| {
                callback::intake(CallbackSource::DeepLink(&link), slot, now)
            });
        }
        Err(error) => {
            let _ = error.code();
        }
    }
});
