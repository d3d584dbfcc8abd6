//! The session after login: single-flight refresh on -401, refresh-token
//! keeping and rotation, logout and unlink, and no token anywhere it must not
//! be.

use std::time::Duration;

use kakao_desk_core::ErrorCode;
use kakao_emulator::{Fault, FaultMode};

use crate::rig::*;

/// Moves only the emulator's clock past the access token's 6 h lifetime: the
/// app still believes its token is fresh, so Kakao's -401 is the only signal.
fn expire_access_token_at_kakao(rig: &Rig) {
    rig.emulator
        .clock()
        .advance(Duration::from_secs(6 * 3600 + 1));
}

#[tokio::test]
async fn concurrent_minus_401_causes_exactly_one_refresh() -> TestResult {
    let rig = Rig::new().await?;
    rig.log_in().await?;
    expire_access_token_at_kakao(&rig);
    let calls = (0..5).map(|_| rig.login.check_session());
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
    Ok(())
}

#[tokio::test]
async fn a_refresh_without_refresh_token_keeps_the_old_one() -> TestResult {
    let rig = Rig::new().await?;
    rig.log_in().await?;
    let before = rig.stored_record()?.ok_or("sealed at login")?;
    rig.advance(Duration::from_secs(6 * 3600));
    assert!(rig.login.refresh_if_needed().await?, "expired → refreshed");
    let after = rig.stored_record()?.ok_or("sealed after refresh")?;
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
        !rig.login.refresh_if_needed().await.unwrap_or(true),
        "a fresh token is not refreshed again"
    );
    assert_eq!(
        rig.grants("refresh_token").len(),
        1,
        "never on a timer or at every call"
    );
    Ok(())
}

#[tokio::test]
async fn a_rotated_refresh_token_is_sealed_before_use() -> TestResult {
    let mut setup = Setup::default();
    // 40-day refresh tokens are rotated once fewer than 30 days remain.
    setup.emulator.refresh_ttl = Duration::from_secs(40 * 24 * 3600);
    let rig = Rig::with(setup).await?;
    rig.log_in().await?;
    let before = rig.stored_record()?.ok_or("sealed at login")?;
    rig.advance(Duration::from_secs(11 * 24 * 3600));
    rig.login.refresh_if_needed().await?;
    let after = rig.stored_record()?.ok_or("sealed after refresh")?;
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
    rig.login
        .refresh_if_needed()
        .await
        .map_err(|e| format!("the rotated token works: {e}"))?;
    let restarted = rig.open_login()?;
    restarted
        .restore_session()
        .await
        .map_err(|e| format!("restart after rotation: {e}"))?;
    restarted
        .check_session()
        .await
        .map_err(|e| format!("the sealed tokens are the live ones: {e}"))?;
    Ok(())
}

#[tokio::test]
async fn logout_wipes_locally_even_when_kakao_fails() -> TestResult {
    let rig = Rig::new().await?;
    rig.log_in().await?;
    rig.emulator
        .faults()
        .inject("/v1/user/logout", Fault::ServerError, FaultMode::Always);
    rig.login
        .logout()
        .await
        .map_err(|e| format!("logout never fails on Kakao's side: {e}"))?;
    assert_eq!(
        rig.requests("/v1/user/logout").len(),
        2,
        "Kakao was asked, and asked again once after its temporary fault"
    );
    assert!(!rig.login.is_signed_in(), "signed out");
    assert!(rig.stored_record()?.is_none(), "the vault is empty");
    assert!(
        rig.login.most_recent_profile().ok().flatten().is_some(),
        "the cached profile stays"
    );
    let restarted = rig.open_login()?;
    assert!(
        restarted.restore_session().await.ok().flatten().is_none(),
        "nothing to restore after logout"
    );
    Ok(())
}

#[tokio::test]
async fn logout_with_an_expired_access_token_refreshes_first_so_the_refresh_token_dies_too()
-> TestResult {
    let rig = Rig::new().await?;
    rig.log_in().await?;
    let sealed = rig.stored_record()?.ok_or("sealed at login")?;
    rig.advance(Duration::from_secs(7 * 3600));
    rig.login.logout().await?;
    assert_eq!(
        rig.grants("refresh_token").len(),
        1,
        "an expired access token is refreshed before the logout"
    );
    let logout = rig.requests("/v1/user/logout");
    assert_eq!(
        logout.iter().map(|r| r.status).collect::<Vec<_>>(),
        [200],
        "Kakao accepted the logout with a live token"
    );
    let client = kakao_desk_core::kakao::KakaoClient::new(&rig.config, rig.client)?;
    let after = client.refresh(&sealed.refresh_token).await;
    assert_eq!(
        after.err().map(|e| e.code()),
        Some(ErrorCode::SessionExpired),
        "the refresh token is dead at Kakao after logout, not left alive for whoever copied it"
    );
    assert!(!rig.login.is_signed_in(), "signed out");
    Ok(())
}

#[tokio::test]
async fn unlink_wipes_the_session_and_the_cached_profile() -> TestResult {
    let rig = Rig::new().await?;
    rig.log_in().await?;
    rig.emulator
        .faults()
        .inject("/v1/user/unlink", Fault::ServerError, FaultMode::Always);
    let error = rig.login.unlink().await.err();
    assert_eq!(
        error.map(|e| e.code()),
        Some(ErrorCode::KakaoTemporary),
        "Kakao failed twice (one retry)"
    );
    assert!(
        rig.login.is_signed_in(),
        "a failed unlink keeps the session"
    );
    assert!(
        rig.login.most_recent_profile().ok().flatten().is_some(),
        "and the cached profile"
    );
    rig.emulator.faults().clear("/v1/user/unlink");
    rig.login
        .unlink()
        .await
        .map_err(|e| format!("unlink: {e}"))?;
    assert!(!rig.login.is_signed_in(), "signed out");
    assert!(rig.stored_record()?.is_none(), "vault wiped");
    assert!(
        rig.login.most_recent_profile().ok().flatten().is_none(),
        "the cached profile is removed too"
    );
    Ok(())
}

/// Where the leak scenario's child process keeps its findings.
const LEAK_DIR: &str = "KAKAO_DESK_LEAK_CHILD_DIR";

/// The scenario runs in a child process of its own (this test binary, re-run
/// for [`leak_scenario_child`] only) whose one global subscriber writes every
/// log line of every thread to a file: the capture sees all of this login's
/// logs and nothing of any other test, and no other test's logging can make
/// tracing skip a line, whether the tests run as threads of one process
/// (`cargo test`) or one process each (nextest).
#[test]
fn no_token_leaks_into_files_logs_or_the_public_profile() -> TestResult {
    let out = tempfile::tempdir()?;
    let child = std::process::Command::new(std::env::current_exe()?)
        .args(child_test("session::leak_scenario_child"))
        .env(LEAK_DIR, out.path())
        .output()?;
    assert!(
        child.status.success() && out.path().join("secrets").exists(),
        "the scenario must run to its end\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );
    let read = |name: &str| std::fs::read_to_string(out.path().join(name));
    let secrets: Vec<String> = read("secrets")?.lines().map(str::to_owned).collect();
    let public = read("public.json")?;
    let current = read("current.json")?;
    let log_text = read("log")?;
    let files = files_under(&out.path().join("data"))?;
    assert_eq!(
        secrets.len(),
        6,
        "code, two access tokens, refresh token, session JWT, id_token"
    );
    assert!(
        secrets.iter().all(|s| s.len() >= 16),
        "every secret is long enough to search for"
    );
    assert!(!files.is_empty(), "the data dir holds the cache at least");
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
            !current.contains(secret.as_str()),
            "a token reached the cached public profile"
        );
    }
    Ok(())
}

/// The child: a login, a refresh and a logout with every log line going to
/// `$KAKAO_DESK_LEAK_CHILD_DIR/log`, then every secret that went by and the
/// public views, as files beside it, for the parent to look through.
#[test]
#[ignore = "child process of no_token_leaks_into_files_logs_or_the_public_profile"]
fn leak_scenario_child() -> TestResult {
    let Some(out) = std::env::var_os(LEAK_DIR).map(std::path::PathBuf::from) else {
        return Ok(());
    };
    LogFile::install_globally(&out.join("log"))?;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let rig = Rig::with(Setup {
                data_dir: Some(out.join("data")),
                ..Setup::default()
            })
            .await?;
            let (attempt, link) = rig.browser_callback().await?;
            let code = query(&link, "code").unwrap_or_default();
            let profile = rig.finish(attempt, &link).await??;
            let first = rig.stored_record()?.ok_or("sealed")?;
            rig.advance(Duration::from_secs(6 * 3600));
            rig.login.refresh_if_needed().await?;
            let second = rig.stored_record()?.ok_or("sealed")?;
            std::fs::write(out.join("public.json"), serde_json::to_string(&profile)?)?;
            let current = rig
                .login
                .current_profile()
                .map(|c| serde_json::to_string(&c.profile.to_public()))
                .transpose()?;
            std::fs::write(out.join("current.json"), current.unwrap_or_default())?;
            rig.login.logout().await?;
            let mut secrets = vec![
                code,
                first.access_token.secret().to_owned(),
                first.refresh_token.secret().to_owned(),
                first.session_jwt.secret().to_owned(),
                second.access_token.secret().to_owned(),
            ];
            secrets.extend(first.id_token.as_ref().map(|t| t.secret().to_owned()));
            std::fs::write(out.join("secrets"), secrets.join("\n"))?;
            TestResult::Ok(())
        })
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
async fn a_flipped_vault_byte_signs_out_cleanly_and_keeps_the_cache() -> TestResult {
    let rig = Rig::new().await?;
    rig.log_in().await?;
    let slots = files_under(&rig.vault_dir())?;
    assert!(!slots.is_empty(), "the login sealed at least one slot");
    for slot in &slots {
        let mut bytes = std::fs::read(slot)?;
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        std::fs::write(slot, bytes)?;
    }
    let restarted = rig.open_login()?;
    let error = restarted.restore_session().await.err();
    assert_eq!(
        error.map(|e| e.code()),
        Some(ErrorCode::SessionExpired),
        "a clean sign-out, not a crash"
    );
    assert!(!restarted.is_signed_in(), "signed out");
    assert!(
        restarted.most_recent_profile().ok().flatten().is_some(),
        "the profile cache is untouched"
    );
    assert!(
        restarted.restore_session().await.ok().flatten().is_none(),
        "the damaged slots were moved aside: the next start begins clean"
    );
    Ok(())
}

/// The `exp` of the sealed session JWT (its payload read without a key).
fn sealed_session_end(rig: &Rig) -> TestResult<u64> {
    use base64::Engine as _;
    let record = rig.stored_record()?.ok_or("a sealed session")?;
    let payload = record
        .session_jwt
        .secret()
        .split('.')
        .nth(1)
        .ok_or("a JWT has a payload")?
        .to_owned();
    let claims: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload)?)?;
    Ok(claims["exp"].as_u64().ok_or("exp")?)
}

const DAY: u64 = 24 * 3600;

#[tokio::test]
async fn the_session_slides_with_use_up_to_the_refresh_tokens_expiry() -> TestResult {
    let rig = Rig::new().await?;
    rig.log_in().await?;
    assert_eq!(
        sealed_session_end(&rig)?,
        T0 + 30 * DAY,
        "30 days from the login"
    );

    // Used again on day 20: the end moves to day 50.
    rig.advance(Duration::from_secs(20 * DAY));
    let app = rig.open_login()?;
    app.restore_session().await?.ok_or("restored on day 20")?;
    assert_eq!(
        sealed_session_end(&rig)?,
        T0 + 50 * DAY,
        "30 days from the use"
    );

    // Day 45: a fixed 30-day session would have ended on day 30.
    rig.advance(Duration::from_secs(25 * DAY));
    let app = rig.open_login()?;
    app.restore_session()
        .await?
        .ok_or("a user who comes back stays signed in")?;
    let refresh_end = kakao_desk_core::clock::unix_seconds(
        rig.stored_record()?.ok_or("sealed")?.refresh_expires_at,
    );
    assert!(
        (T0 + 59 * DAY..=T0 + 60 * DAY).contains(&u64::try_from(refresh_end)?),
        "Kakao's refresh token lives 60 days"
    );
    assert_eq!(
        i64::try_from(sealed_session_end(&rig)?)?,
        refresh_end,
        "never past the refresh token, which nothing could renew"
    );

    // A restart an hour later does not rewrite the vault.
    let before = rig.stored_record()?.ok_or("sealed")?;
    rig.advance(Duration::from_secs(60));
    rig.open_login()?
        .restore_session()
        .await?
        .ok_or("restored")?;
    let after = rig.stored_record()?.ok_or("sealed")?;
    assert_eq!(before.session_jwt.secret(), after.session_jwt.secret());

    // Unused for longer than that: the session is over.
    rig.advance(Duration::from_secs(16 * DAY));
    let late = rig.open_login()?.restore_session().await;
    assert_eq!(
        late.err().map(|e| e.code()),
        Some(ErrorCode::SessionExpired)
    );
    Ok(())
}
