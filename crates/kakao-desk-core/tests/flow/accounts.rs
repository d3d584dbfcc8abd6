//! Several accounts on one device: logins add accounts, switching needs no
//! browser, logout ends only the account in use, removal revokes and
//! forgets, and a vault written before several accounts opens with nothing
//! lost.

use std::path::Path;

use kakao_desk_core::ErrorCode;
use kakao_desk_core::authorize::LoginOptions;
use kakao_desk_core::login::{AccountView, KakaoLogin, LoginSnapshot};
use kakao_desk_core::profile::KakaoId;
use kakao_desk_core::session::{SessionRecord, SessionSet, SetFormat};
use kakao_emulator::{Fault, FaultMode, fixture_ids};

use crate::rig::*;

const FIRST: i64 = fixture_ids::NINETEEN_DIGIT_ID;
const SECOND: i64 = fixture_ids::SOLAR_BIRTHDAY_WITH_YEAR;

/// Logs `user` in on the rig's login with "use another account".
async fn add_account(rig: &Rig, user: i64) -> TestResult {
    rig.emulator.set_auto_consent(Some(user))?;
    let options = LoginOptions {
        prompt: vec!["select_account".into()],
        ..LoginOptions::default()
    };
    let attempt = rig.login.begin_login(&options).await?;
    let url = rig.browser.last().ok_or("the browser opened")?;
    assert_eq!(
        query(url.as_str(), "prompt").as_deref(),
        Some("select_account"),
        "Kakao's account chooser is asked for"
    );
    let location = rig.authorize(&url).await?;
    rig.finish(attempt, &bridge_link(&location)).await??;
    Ok(())
}

/// A rig with both accounts signed in, the second in use.
async fn two_accounts() -> TestResult<Rig> {
    let rig = Rig::new().await?;
    rig.log_in().await?;
    add_account(&rig, SECOND).await?;
    Ok(rig)
}

fn listed(login: &KakaoLogin) -> Vec<(i64, bool, bool)> {
    login
        .accounts()
        .iter()
        .map(|a: &AccountView| (a.kakao_id.get(), a.signed_in, a.active))
        .collect()
}

/// `id` is listed logged out (its profile kept for a login) and its tokens
/// left the vault.
fn signed_out_here(rig: &Rig, id: i64) -> TestResult {
    assert!(
        listed(&rig.login).contains(&(id, false, false)),
        "{id} is listed logged out, its profile kept for a login"
    );
    assert!(
        rig.stored_set()?
            .sessions
            .iter()
            .all(|r| r.kakao_id.get() != id),
        "{id}'s tokens left the vault"
    );
    Ok(())
}

fn in_use(login: &KakaoLogin) -> Option<i64> {
    login.current_profile().map(|c| c.profile.id.get())
}

#[tokio::test]
async fn a_second_account_signs_in_beside_the_first_and_switching_needs_no_browser() -> TestResult {
    let rig = two_accounts().await?;
    assert_eq!(in_use(&rig.login), Some(SECOND), "the new login is in use");
    assert_eq!(
        listed(&rig.login),
        [(SECOND, true, true), (FIRST, true, false)],
        "the first account stays signed in"
    );
    let opened = rig.browser.opened();
    let tokens = rig.requests("/oauth/token").len();
    let authorizes = rig.requests("/oauth/authorize").len();

    rig.login.switch_account(KakaoId::new(FIRST))?;
    assert_eq!(in_use(&rig.login), Some(FIRST));
    let info = rig.login.check_session().await?;
    assert_eq!(
        info.id,
        Some(FIRST),
        "Kakao sees the first account's own token"
    );
    rig.login.switch_account(KakaoId::new(SECOND))?;
    assert_eq!(in_use(&rig.login), Some(SECOND));
    assert_eq!(
        rig.login.check_session().await?.id,
        Some(SECOND),
        "and back"
    );
    assert_eq!(rig.browser.opened(), opened, "no browser for a switch");
    assert_eq!(
        (
            rig.requests("/oauth/token").len(),
            rig.requests("/oauth/authorize").len()
        ),
        (tokens, authorizes),
        "no token issued, no login"
    );

    // A restart comes back to the account last in use, both signed in.
    let restarted = rig.open_login()?;
    let profile = restarted.restore_session().await?.ok_or("restored")?;
    assert_eq!(profile.kakao_id.get(), SECOND);
    assert_eq!(
        listed(&restarted),
        [(SECOND, true, true), (FIRST, true, false)]
    );
    let set = rig.stored_set()?;
    assert_eq!(set.sessions.len(), 2, "one sealed session per account");
    assert_eq!(set.active, Some(KakaoId::new(SECOND)));
    Ok(())
}

#[tokio::test]
async fn logging_in_again_replaces_that_accounts_session_and_keeps_one_each() -> TestResult {
    let rig = two_accounts().await?;
    add_account(&rig, FIRST).await?;
    assert_eq!(
        listed(&rig.login),
        [(FIRST, true, true), (SECOND, true, false)]
    );
    assert_eq!(rig.stored_set()?.sessions.len(), 2, "not three");
    Ok(())
}

#[tokio::test]
async fn logout_ends_only_the_account_in_use() -> TestResult {
    let rig = two_accounts().await?;
    rig.login.logout().await?;
    assert_eq!(rig.requests("/v1/user/logout").len(), 1);
    let LoginSnapshot::SignedOut { accounts, .. } = rig.login.snapshot() else {
        return Err("the login screen shows".into());
    };
    let states: Vec<(i64, bool)> = accounts
        .iter()
        .map(|a| (a.kakao_id.get(), a.signed_in))
        .collect();
    assert_eq!(
        states,
        [(FIRST, true), (SECOND, false)],
        "the other account is still one click away; the logged-out one is listed signed out"
    );
    let set = rig.stored_set()?;
    assert_eq!(set.active, None);
    assert_eq!(set.sessions.len(), 1);
    for slot in ["session-a", "session-b"] {
        let set = set_in_slot_alone(&rig.vault_dir(), slot)?;
        assert!(
            set.sessions.iter().all(|r| r.kakao_id.get() != SECOND),
            "{slot} keeps nothing of the account that logged out"
        );
    }
    rig.login.switch_account(KakaoId::new(FIRST))?;
    assert_eq!(rig.login.check_session().await?.id, Some(FIRST));
    assert_eq!(
        rig.login
            .switch_account(KakaoId::new(SECOND))
            .map_err(|e| e.code()),
        Err(ErrorCode::SessionExpired),
        "a logged-out account needs a login"
    );
    Ok(())
}

/// Opens what one slot file alone holds (as if the other had never been
/// written): the set a crash or a rollback to that slot would restore.
fn set_in_slot_alone(vault_dir: &Path, slot: &str) -> TestResult<SessionSet> {
    let alone = tempfile::tempdir()?;
    std::fs::copy(
        vault_dir.join(format!("{slot}.vault")),
        alone.path().join(format!("{slot}.vault")),
    )?;
    let bytes = vault_in(alone.path()).load()?.ok_or("the slot opens")?;
    Ok(SessionSet::from_bytes(&bytes)?.0)
}

#[tokio::test]
async fn removing_an_account_revokes_it_and_leaves_nothing_of_it() -> TestResult {
    let rig = two_accounts().await?;
    let first_refresh = rig
        .stored_set()?
        .sessions
        .iter()
        .find(|r| r.kakao_id.get() == FIRST)
        .map(|r| r.refresh_token.secret().to_owned())
        .ok_or("the first account is sealed")?;

    rig.login.remove_account(KakaoId::new(FIRST)).await?;
    assert_eq!(in_use(&rig.login), Some(SECOND), "the account in use stays");
    assert_eq!(
        listed(&rig.login),
        [(SECOND, true, true)],
        "and its profile is forgotten"
    );
    assert_eq!(
        rig.requests("/v1/user/logout").len(),
        1,
        "its tokens were revoked at Kakao"
    );
    let refused = rig.emulator.requests().to_path("/oauth/token").len();
    let reuse = http()?
        .post(format!("{}/oauth/token", rig.emulator.base_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", rig.emulator.client_id()),
            ("refresh_token", first_refresh.as_str()),
        ])
        .send()
        .await?;
    assert_eq!(
        reuse.status(),
        400,
        "the removed refresh token is dead at Kakao"
    );
    assert!(rig.requests("/oauth/token").len() > refused);
    for slot in ["session-a", "session-b"] {
        let set = set_in_slot_alone(&rig.vault_dir(), slot)?;
        assert!(
            set.sessions.iter().all(|r| r.kakao_id.get() != FIRST),
            "{slot} keeps nothing of the removed account"
        );
    }

    // The account in use can be removed too: signed out, forgotten.
    rig.login.remove_account(KakaoId::new(SECOND)).await?;
    assert!(!rig.login.is_signed_in());
    assert!(rig.login.accounts().is_empty());
    assert_eq!(rig.stored_set()?.sessions.len(), 0);
    assert!(
        rig.login.most_recent_profile()?.is_none(),
        "no \"continue as\" for a removed account"
    );
    Ok(())
}

#[tokio::test]
async fn switching_to_an_ended_session_wipes_it_and_asks_for_a_login() -> TestResult {
    let rig = two_accounts().await?;
    // 31 days unused: the first account's session has ended.
    rig.advance(std::time::Duration::from_secs(31 * 24 * 3600));
    let error = rig
        .login
        .switch_account(KakaoId::new(FIRST))
        .expect_err("an ended session does not open");
    assert_eq!(error.code(), ErrorCode::SessionExpired);
    assert_eq!(in_use(&rig.login), Some(SECOND), "nothing else changed");
    signed_out_here(&rig, FIRST)?;
    Ok(())
}

#[tokio::test]
async fn a_torn_write_of_the_set_loses_only_that_write() -> TestResult {
    let rig = Rig::new().await?;
    rig.log_in().await?;
    rig.login.refresh_if_needed().await?;
    let before = rig.stored_set()?;
    add_account(&rig, SECOND).await?;
    // The write that added the second account (the slot holding it), cut
    // short on disk.
    let mut newest = None;
    for slot in ["session-a", "session-b"] {
        if set_in_slot_alone(&rig.vault_dir(), slot)?
            .sessions
            .iter()
            .any(|r| r.kakao_id.get() == SECOND)
        {
            newest = Some(rig.vault_dir().join(format!("{slot}.vault")));
        }
    }
    let newest = newest.ok_or("a slot holds the second account")?;
    let bytes = std::fs::read(&newest)?;
    std::fs::write(&newest, &bytes[..bytes.len() / 2])?;
    let restarted = rig.open_login()?;
    let profile = restarted.restore_session().await?.ok_or("a session")?;
    assert_eq!(profile.kakao_id.get(), FIRST, "the set before that write");
    assert_eq!(
        listed(&restarted),
        [(FIRST, true, true), (SECOND, false, false)]
    );
    let after = rig.stored_set()?;
    assert_eq!(after.sessions.len(), before.sessions.len());
    assert!(same_session(&after.sessions[0], &before.sessions[0]));
    Ok(())
}

/// Both accounts signed in, the first in use, both access tokens expired
/// (six hours on), and the next token request answered a second late.
/// With `revoked`, the first account's tokens were revoked elsewhere
/// before (another device's logout).
async fn first_in_use_with_a_slow_refresh(revoked: bool) -> TestResult<Rig> {
    let mut setup = Setup::default();
    setup.emulator.hang_for = std::time::Duration::from_secs(1);
    let rig = Rig::with(setup).await?;
    rig.log_in().await?;
    add_account(&rig, SECOND).await?;
    rig.login.switch_account(KakaoId::new(FIRST))?;
    if revoked {
        let first = stored(&rig, FIRST)?;
        let answer = http()?
            .post(format!("{}/v1/user/logout", rig.emulator.base_url()))
            .bearer_auth(first.access_token.secret())
            .send()
            .await?;
        assert_eq!(answer.status(), 200, "revoked at Kakao");
    }
    rig.advance(std::time::Duration::from_secs(6 * 3600));
    rig.emulator
        .faults()
        .inject("/oauth/token", Fault::Hang, FaultMode::Once);
    Ok(rig)
}

fn stored(rig: &Rig, id: i64) -> TestResult<SessionRecord> {
    rig.stored_set()?
        .sessions
        .into_iter()
        .find(|r| r.kakao_id.get() == id)
        .ok_or_else(|| format!("{id} is sealed").into())
}

#[tokio::test]
async fn a_refresh_that_returns_after_a_switch_goes_to_its_own_account() -> TestResult {
    let rig = first_in_use_with_a_slow_refresh(false).await?;
    let first_before = stored(&rig, FIRST)?;
    let second_before = stored(&rig, SECOND)?;
    let login = rig.login.clone();
    let refreshing = tokio::spawn(async move { login.refresh_if_needed().await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    rig.login.switch_account(KakaoId::new(SECOND))?;
    assert!(refreshing.await??, "the refresh happened");
    assert_eq!(in_use(&rig.login), Some(SECOND), "the switch stands");
    let first = stored(&rig, FIRST)?;
    assert_ne!(
        first.access_token.secret(),
        first_before.access_token.secret(),
        "the new tokens were sealed into the first account's session"
    );
    let second = stored(&rig, SECOND)?;
    assert_eq!(
        (second.access_token.secret(), second.refresh_token.secret()),
        (
            second_before.access_token.secret(),
            second_before.refresh_token.secret()
        ),
        "and nothing of them into the account in use (its session only slid with the switch)"
    );
    // Back to the first: its fresh token works, no refresh needed.
    let refreshes = rig.grants("refresh_token").len();
    rig.login.switch_account(KakaoId::new(FIRST))?;
    assert_eq!(rig.login.check_session().await?.id, Some(FIRST));
    assert_eq!(rig.grants("refresh_token").len(), refreshes);
    Ok(())
}

#[tokio::test]
async fn a_refresh_that_returns_after_switching_away_and_back_is_kept() -> TestResult {
    let rig = first_in_use_with_a_slow_refresh(false).await?;
    let before = stored(&rig, FIRST)?;
    let login = rig.login.clone();
    let refreshing = tokio::spawn(async move { login.refresh_if_needed().await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    rig.login.switch_account(KakaoId::new(SECOND))?;
    rig.login.switch_account(KakaoId::new(FIRST))?;
    refreshing.await??;
    let after = stored(&rig, FIRST)?;
    assert_ne!(
        after.access_token.secret(),
        before.access_token.secret(),
        "the live session of the same account, same refresh token, took the new tokens"
    );
    let refreshes = rig.grants("refresh_token").len();
    assert_eq!(rig.login.check_session().await?.id, Some(FIRST));
    assert_eq!(
        rig.grants("refresh_token").len(),
        refreshes,
        "no second refresh: the first one's tokens are in use"
    );
    Ok(())
}

#[tokio::test]
async fn a_refresh_refused_after_a_switch_ends_only_its_own_account() -> TestResult {
    let rig = first_in_use_with_a_slow_refresh(true).await?;
    let login = rig.login.clone();
    let refreshing = tokio::spawn(async move { login.refresh_if_needed().await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    rig.login.switch_account(KakaoId::new(SECOND))?;
    let outcome = refreshing.await?;
    assert!(
        outcome.as_ref().is_err_and(|e| e.is_superseded()),
        "nothing for the user to hear about an account not in use: {outcome:?}"
    );
    assert_eq!(in_use(&rig.login), Some(SECOND), "the account in use stays");
    signed_out_here(&rig, FIRST)?;
    assert_eq!(rig.login.check_session().await?.id, Some(SECOND));
    Ok(())
}

/// The vault and cache a build from before several accounts wrote
/// (`tests/fixtures/vault-v1`, one session of the 19-digit account sealed
/// at T0 with the rig's key), copied into a data directory.
fn old_data_dir() -> TestResult<tempfile::TempDir> {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vault-v1");
    let dir = tempfile::tempdir()?;
    std::fs::create_dir(dir.path().join("vault"))?;
    std::fs::copy(
        fixture.join("vault/session-a.vault"),
        dir.path().join("vault/session-a.vault"),
    )?;
    std::fs::copy(fixture.join("profile.db"), dir.path().join("profile.db"))?;
    Ok(dir)
}

fn same_session(a: &SessionRecord, b: &SessionRecord) -> bool {
    a.kakao_id == b.kakao_id
        && a.session_jwt.secret() == b.session_jwt.secret()
        && a.access_token.secret() == b.access_token.secret()
        && a.refresh_token.secret() == b.refresh_token.secret()
        && a.access_expires_at == b.access_expires_at
        && a.refresh_expires_at == b.refresh_expires_at
        && a.id_token.as_ref().map(|t| t.secret()) == b.id_token.as_ref().map(|t| t.secret())
        && a.scopes == b.scopes
}

#[tokio::test]
async fn a_vault_from_before_several_accounts_opens_with_nothing_lost() -> TestResult {
    let dir = old_data_dir()?;
    let old_vault = vault_in(&dir.path().join("vault"));
    let old_bytes = old_vault.load()?.ok_or("the fixture holds a session")?;
    let (_, format) = SessionSet::from_bytes(&old_bytes)?;
    assert_eq!(format, SetFormat::Single, "the fixture is the old layout");
    let old = SessionRecord::from_bytes(&old_bytes)?;

    let rig = Rig::with(Setup {
        data_dir: Some(dir.path().to_owned()),
        ..Setup::default()
    })
    .await?;
    let profile = rig
        .login
        .restore_session()
        .await?
        .ok_or("the old session is restored")?;
    assert_eq!(profile.kakao_id.to_string(), NINETEEN);
    assert!(profile.nickname.is_some(), "its cached profile shows");
    assert_eq!(listed(&rig.login), [(FIRST, true, true)]);

    let new_bytes = old_vault.load()?.ok_or("still a session")?;
    let (set, format) = SessionSet::from_bytes(&new_bytes)?;
    assert_eq!(format, SetFormat::Current, "rewritten in the new layout");
    assert_eq!(set.active, Some(old.kakao_id));
    assert_eq!(set.sessions.len(), 1);
    assert!(
        same_session(&set.sessions[0], &old),
        "every token and expiry carried over unchanged"
    );
    let alone = set_in_slot_alone(&dir.path().join("vault"), "session-a")?;
    assert!(
        dir.path().join("vault/session-b.vault").exists() && alone.sessions.len() == 1,
        "the new layout went to the other slot; the old one is untouched until the next write"
    );
    let old_bytes_still = std::fs::read(dir.path().join("vault/session-a.vault"))?;
    assert_eq!(
        old_bytes_still,
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/vault-v1/vault/session-a.vault")
        )?,
        "byte for byte"
    );

    // A crash before the new slot reached the disk: the old layout alone
    // still restores.
    std::fs::remove_file(dir.path().join("vault/session-b.vault"))?;
    let again = rig.open_login()?;
    assert!(again.restore_session().await?.is_some(), "nothing lost");
    Ok(())
}

#[tokio::test]
async fn a_call_answered_after_a_switch_is_nobodys() -> TestResult {
    let mut setup = Setup::default();
    setup.emulator.hang_for = std::time::Duration::from_secs(1);
    let rig = Rig::with(setup).await?;
    rig.log_in().await?;
    add_account(&rig, SECOND).await?;
    rig.login.switch_account(KakaoId::new(FIRST))?;
    // The first account's check is slow and ends in Kakao's outage.
    rig.emulator
        .faults()
        .inject("/v1/user/access_token_info", Fault::Hang, FaultMode::Once);
    let login = rig.login.clone();
    let checking = tokio::spawn(async move { login.check_session().await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    rig.login.switch_account(KakaoId::new(SECOND))?;
    let outcome = checking.await?;
    assert!(
        outcome.as_ref().is_err_and(|e| e.is_superseded()),
        "the answer was the first account's, not the second's: {outcome:?}"
    );
    assert!(
        !rig.login.is_offline(),
        "no badge set for the account in use"
    );
    assert_eq!(in_use(&rig.login), Some(SECOND));
    Ok(())
}
