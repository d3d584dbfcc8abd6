//! The session after login: single-flight refresh on -401, refresh-token
//! keeping and rotation, logout and unlink, and no token anywhere it must not
//! be.

mod common;

use std::time::Duration;

use common::*;
use kakao_desk_core::ErrorCode;
use kakao_emulator::{Fault, FaultMode};

/// Moves only the emulator's clock past the access token's 6 h lifetime: the
/// app still believes its token is fresh, so Kakao's -401 is the only signal.
fn expire_access_token_at_kakao(rig: &Rig) {
    rig.emulator
        .clock()
        .advance(Duration::from_secs(6 * 3600 + 1));
}

#[tokio::test]
async fn concurrent_minus_401_causes_exactly_one_refresh() {
    let rig = rig().await;
    rig.login().await;
    expire_access_token_at_kakao(&rig);
    let calls = (0..5).map(|_| rig.account.check_session());
    let results = futures_join_all(calls).await;
    for (i, result) in results.iter().enumerate() {
        assert!(
            result.is_ok(),
            "call {i} succeeds after the shared refresh: {:?}",
            result.as_ref().err()
        );
    }
    assert_eq!(
        rig.grants("refresh_token").len(),
        1,
        "five -401s, one refresh (single-flight)"
    );
    let info = rig.requests("/v1/user/access_token_info");
    assert_eq!(
        info.iter().filter(|r| r.status == 401).count(),
        5,
        "each call saw -401 once"
    );
    assert_eq!(
        info.iter().filter(|r| r.status == 200).count(),
        5,
        "and retried once with the new token"
    );
}

#[tokio::test]
async fn a_refresh_without_refresh_token_keeps_the_old_one() {
    let rig = rig().await;
    rig.login().await;
    let before = rig
        .stored_record()
        .unwrap_or_else(|| panic!("sealed at login"));
    rig.advance(Duration::from_secs(6 * 3600));
    assert!(
        rig.account
            .refresh_if_needed()
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        "expired → refreshed"
    );
    let after = rig
        .stored_record()
        .unwrap_or_else(|| panic!("sealed after refresh"));
    assert_ne!(
        after.access_token.secret(),
        before.access_token.secret(),
        "a new access token"
    );
    assert_eq!(
        after.refresh_token.secret(),
        before.refresh_token.secret(),
        "Kakao sent no refresh token (more than a month left): the old one is kept"
    );
    assert_eq!(
        after.refresh_expires_at, before.refresh_expires_at,
        "with its expiry"
    );
    assert!(
        after.access_expires_at > before.access_expires_at,
        "the new expiry is later"
    );
    assert!(
        !rig.account.refresh_if_needed().await.unwrap_or(true),
        "a fresh token is not refreshed again"
    );
    assert_eq!(
        rig.grants("refresh_token").len(),
        1,
        "never on a timer or at every call"
    );
}

#[tokio::test]
async fn a_rotated_refresh_token_is_sealed_before_use() {
    let mut setup = Setup::default();
    // 40-day refresh tokens are rotated once fewer than 30 days remain.
    setup.emulator.refresh_ttl = Duration::from_secs(40 * 24 * 3600);
    let rig = rig_with(setup).await;
    rig.login().await;
    let before = rig
        .stored_record()
        .unwrap_or_else(|| panic!("sealed at login"));
    rig.advance(Duration::from_secs(11 * 24 * 3600));
    rig.account
        .refresh_if_needed()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let after = rig
        .stored_record()
        .unwrap_or_else(|| panic!("sealed after refresh"));
    assert_ne!(
        after.refresh_token.secret(),
        before.refresh_token.secret(),
        "the rotated token is sealed"
    );
    assert!(
        after.refresh_expires_at > before.refresh_expires_at,
        "with its new expiry"
    );
    rig.advance(Duration::from_secs(6 * 3600));
    rig.account
        .refresh_if_needed()
        .await
        .unwrap_or_else(|e| panic!("the rotated token works: {e}"));
    let restarted = rig.open_account();
    restarted
        .restore_session()
        .await
        .unwrap_or_else(|e| panic!("restart after rotation: {e}"));
    restarted
        .check_session()
        .await
        .unwrap_or_else(|e| panic!("the sealed tokens are the live ones: {e}"));
}

#[tokio::test]
async fn logout_wipes_locally_even_when_kakao_fails() {
    let rig = rig().await;
    rig.login().await;
    rig.emulator
        .faults()
        .inject("/v1/user/logout", Fault::ServerError, FaultMode::Always);
    rig.account
        .logout()
        .await
        .unwrap_or_else(|e| panic!("logout never fails on Kakao's side: {e}"));
    assert_eq!(rig.requests("/v1/user/logout").len(), 1, "Kakao was asked");
    assert!(!rig.account.is_signed_in().await, "signed out");
    assert!(rig.stored_record().is_none(), "the vault is empty");
    assert!(
        rig.account.last_account().ok().flatten().is_some(),
        "the cached profile stays"
    );
    let restarted = rig.open_account();
    assert!(
        restarted.restore_session().await.ok().flatten().is_none(),
        "nothing to restore after logout"
    );
}

#[tokio::test]
async fn unlink_wipes_the_session_and_the_cached_profile() {
    let rig = rig().await;
    rig.login().await;
    rig.emulator
        .faults()
        .inject("/v1/user/unlink", Fault::ServerError, FaultMode::Always);
    let error = rig.account.unlink().await.err();
    assert_eq!(
        error.map(|e| e.code()),
        Some(ErrorCode::KakaoTemporary),
        "Kakao failed twice (one retry)"
    );
    assert!(
        rig.account.is_signed_in().await,
        "a failed unlink keeps the session"
    );
    assert!(
        rig.account.last_account().ok().flatten().is_some(),
        "and the cached profile"
    );
    rig.emulator.faults().clear("/v1/user/unlink");
    rig.account
        .unlink()
        .await
        .unwrap_or_else(|e| panic!("unlink: {e}"));
    assert!(!rig.account.is_signed_in().await, "signed out");
    assert!(rig.stored_record().is_none(), "vault wiped");
    assert!(
        rig.account.last_account().ok().flatten().is_none(),
        "the cached profile is removed too"
    );
}

#[tokio::test]
async fn no_token_leaks_into_files_logs_or_the_public_profile() {
    let logs = CapturedLogs::default();
    let _guard = logs.install();
    let rig = rig().await;
    let link = rig.browser_callback().await;
    let code = url::Url::parse(&link)
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "code")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default();
    let profile = rig
        .account
        .complete_login(&link, |_| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let first = rig.stored_record().unwrap_or_else(|| panic!("sealed"));
    rig.advance(Duration::from_secs(6 * 3600));
    rig.account
        .refresh_if_needed()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let second = rig.stored_record().unwrap_or_else(|| panic!("sealed"));
    let public = serde_json::to_string(&profile).unwrap_or_default();
    let current = rig
        .account
        .current_profile()
        .map(|c| serde_json::to_string(&c.profile.to_public()));
    rig.account.logout().await.unwrap_or_else(|e| panic!("{e}"));

    let mut secrets = vec![
        code,
        first.access_token.secret().to_owned(),
        first.refresh_token.secret().to_owned(),
        first.session_jwt.secret().to_owned(),
        second.access_token.secret().to_owned(),
    ];
    secrets.extend(first.id_token.as_ref().map(|t| t.secret().to_owned()));
    assert!(
        secrets.iter().all(|s| s.len() >= 16),
        "every secret is long enough to search for"
    );

    let files = files_under(rig.data_dir());
    assert!(!files.is_empty(), "the data dir holds the cache at least");
    let log_text = logs.text();
    assert!(
        log_text.contains("login complete"),
        "the capture did see this crate's logs"
    );
    for secret in &secrets {
        for file in &files {
            let bytes = std::fs::read(file).unwrap_or_default();
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a token is in {file:?}"
            );
        }
        assert!(
            !log_text.contains(secret.as_str()),
            "a token reached the logs"
        );
        assert!(
            !public.contains(secret.as_str()),
            "a token reached the public profile"
        );
        assert!(
            !current
                .as_ref()
                .is_some_and(|c| c.as_ref().is_ok_and(|c| c.contains(secret.as_str()))),
            "a token reached the cached public profile"
        );
    }
}

/// Joins futures on the current task (no extra dependency).
async fn futures_join_all<F: Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

#[tokio::test]
async fn a_flipped_vault_byte_signs_out_cleanly_and_keeps_the_cache() {
    let rig = rig().await;
    rig.login().await;
    let slots = files_under(&rig.data_dir().join("vault"));
    assert!(!slots.is_empty(), "the login sealed at least one slot");
    for slot in &slots {
        let mut bytes = std::fs::read(slot).unwrap_or_else(|e| panic!("{e}"));
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        std::fs::write(slot, bytes).unwrap_or_else(|e| panic!("{e}"));
    }
    let restarted = rig.open_account();
    let error = restarted.restore_session().await.err();
    assert_eq!(
        error.map(|e| e.code()),
        Some(ErrorCode::SessionExpired),
        "a clean sign-out, not a crash"
    );
    assert!(!restarted.is_signed_in().await, "signed out");
    assert!(
        restarted.last_account().ok().flatten().is_some(),
        "the profile cache is untouched"
    );
    assert!(
        restarted.restore_session().await.ok().flatten().is_none(),
        "the damaged slots were moved aside: the next start begins clean"
    );
}
