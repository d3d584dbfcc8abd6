//! Beginning a login and taking in its callback.

use std::hint::black_box;

use criterion::{BatchSize, Criterion};
use kakao_desk_core::authorize::{LoginOptions, PendingLogin, begin};
use kakao_desk_core::callback::{CallbackError, CallbackSource, check_deep_link, intake};

use crate::{SCHEME, production_config, query_value, t0};

/// An authorization code of the length Kakao issues (about 90 characters).
const CODE: &str =
    "tX3QhYp8W0k2n1aZ_cVbR5uL9sDfGj4eKmNoPq7rStUvWxYz0123456789-AbCdEfGhIjKlMnOpQrStUvWxYz01234";

/// `authorize::begin`: 32 bytes from the OS RNG for the verifier and 16 each for
/// `state` and `nonce`, the S256 challenge, and the authorize URL.
pub fn begin_authorize_url(c: &mut Criterion) {
    let config = production_config();
    let options = LoginOptions::default();
    let now = t0();
    let first = begin(&config, &options, now).unwrap_or_else(|e| panic!("begin: {e}"));
    assert!(
        first
            .url
            .secret()
            .query_pairs()
            .any(|(k, v)| k == "code_challenge_method" && v == "S256"),
        "the measured URL must be a PKCE S256 authorize URL"
    );

    let mut group = c.benchmark_group("login");
    group.bench_function("begin_authorize_url", |b| {
        b.iter(|| begin(black_box(&config), black_box(&options), black_box(now)));
    });
    group.finish();
}

/// `callback::intake` of the deep link the bridge page opens: a genuine one
/// (the pending login is taken, so each iteration gets a fresh one, built
/// outside the measurement), and a forged one with the right route but a
/// wrong `state`: the hostile link that gets furthest (route and query
/// parsed, `state` compared in constant time) before it is refused, leaving
/// the pending login in its slot.
pub fn callback_intake(c: &mut Criterion) {
    // What the app does with a URL handed to it: route it, then take it in.
    let take = |raw: &str, slot: &mut Option<PendingLogin>, now| {
        let link = check_deep_link(raw, SCHEME).map_err(CallbackError::from)?;
        intake(CallbackSource::DeepLink(&link), slot, now)
    };
    let config = production_config();
    let now = t0();
    let fresh = || -> (Option<PendingLogin>, String) {
        let start =
            begin(&config, &LoginOptions::default(), now).unwrap_or_else(|e| panic!("begin: {e}"));
        let state = query_value(start.url.secret().as_str(), "state");
        let link = format!("{SCHEME}://oauth/callback?code={CODE}&state={state}");
        (Some(start.pending), link)
    };

    let (mut slot, link) = fresh();
    let genuine = take(&link, &mut slot, now);
    assert!(
        genuine.is_ok() && slot.is_none(),
        "a genuine link must yield its callback and take the pending login: {genuine:?}"
    );

    let (mut waiting, _) = fresh();
    let forged = format!("{SCHEME}://oauth/callback?code={CODE}&state=forged-state-0123456789");
    let refused = take(&forged, &mut waiting, now);
    assert!(
        matches!(refused, Err(CallbackError::StateMismatch)) && waiting.is_some(),
        "a forged state must be refused and leave the login pending: {refused:?}"
    );

    let mut group = c.benchmark_group("callback");
    group.bench_function("intake_genuine", |b| {
        b.iter_batched_ref(
            fresh,
            |(slot, link)| take(black_box(link), slot, black_box(now)),
            BatchSize::SmallInput,
        );
    });
    group.bench_function("intake_forged_state", |b| {
        b.iter(|| take(black_box(&forged), &mut waiting, black_box(now)));
    });
    group.finish();
    assert!(
        waiting.is_some(),
        "no forged link may have taken the pending login"
    );
}
