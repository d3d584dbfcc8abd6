//! Additional consent, a -402, and a fresh profile: through the same login
//! path, keeping the session, and without tokens the user did not need.

use std::time::Duration;

use kakao_desk_core::login::{ConsentNote, ConsentOutcome, LoginSnapshot, Recheck};
use kakao_desk_core::{ErrorCode, login::ConsentOffer};
use kakao_emulator::{Fault, FaultMode, fixture_ids};

use crate::rig::*;

const NO_BIRTHDAY: i64 = fixture_ids::BIRTHDAY_NOT_CONSENTED;

/// A rig whose auto-consent user has not agreed to the birthday.
async fn rig_without_birthday() -> TestResult<Rig> {
    let mut setup = Setup::default();
    setup.emulator.auto_consent = Some(NO_BIRTHDAY);
    Rig::with(setup).await
}

fn card(rig: &Rig) -> TestResult<(Vec<ConsentOffer>, Option<ConsentNote>)> {
    match rig.login.snapshot() {
        LoginSnapshot::SignedIn {
            consent_offers,
            consent_note,
            ..
        } => Ok((consent_offers, consent_note)),
        other => Err(format!("signed in expected: {other:?}").into()),
    }
}

#[tokio::test]
async fn adding_the_birthday_asks_for_just_it_and_keeps_the_session() -> TestResult {
    let rig = rig_without_birthday().await?;
    let first = rig.log_in().await?;
    assert_eq!(first.birthday, None);
    let (offered, _) = card(&rig)?;
    assert_eq!(
        offered,
        vec![ConsentOffer {
            id: "birthday".into(),
            scopes: vec!["birthday".into(), "birthyear".into()],
        }],
        "the card offers the birthday, with its year"
    );

    let attempt = rig.login.begin_consent("birthday").await?;
    let url = rig.browser.last().ok_or("the browser was opened")?;
    let scope = query(url.as_str(), "scope").ok_or("a scope")?;
    assert_eq!(
        scope, "openid,birthday,birthyear",
        "just the items, openid kept"
    );
    for secure in ["code_challenge", "state", "nonce"] {
        assert!(
            query(url.as_str(), secure).is_some(),
            "{secure}: the same secure path"
        );
    }
    assert!(
        rig.login.is_signed_in(),
        "signed in while the browser is open"
    );

    let location = rig.authorize(&url).await?;
    let profile = rig.finish(attempt, &bridge_link(&location)).await??;
    let birthday = profile.birthday.ok_or("the birthday is there now")?;
    assert_eq!(birthday.date, "1992-07-04");
    assert_eq!(profile.kakao_id, first.kakao_id, "the same account");
    let (offered, note) = card(&rig)?;
    assert!(offered.is_empty(), "nothing left to add: {offered:?}");
    assert_eq!(
        note,
        Some(ConsentNote {
            offer: "birthday".into(),
            outcome: ConsentOutcome::Added,
        }),
        "the card can say it was added"
    );
    // The cache has it, so a restart shows it offline.
    let restarted = rig.open_login()?;
    let restored = restarted.restore_session().await?.ok_or("restored")?;
    assert_eq!(
        restored.birthday.map(|b| b.date).as_deref(),
        Some("1992-07-04")
    );
    assert_eq!(
        rig.grants("authorization_code").len(),
        2,
        "one code per consent"
    );
    Ok(())
}

#[tokio::test]
async fn declining_keeps_everything_and_the_card_says_so() -> TestResult {
    let rig = rig_without_birthday().await?;
    rig.log_in().await?;
    let before = rig.stored_record()?.ok_or("a session")?;
    let attempt = rig.login.begin_consent("birthday").await?;
    let url = rig.browser.last().ok_or("opened")?;
    let state = query(url.as_str(), "state").ok_or("state")?;
    // The user presses "cancel" on Kakao's page.
    let outcome = rig
        .finish(
            attempt,
            &link_for(
                &state,
                "error=access_denied&error_description=User%20denied%20access",
            ),
        )
        .await?;
    let refused = outcome.err().ok_or("a decline is no success")?;
    assert!(refused.is_consent_declined(), "no error to show: {refused}");
    assert!(rig.login.is_signed_in(), "still signed in");
    let (offered, note) = card(&rig)?;
    assert_eq!(
        note.map(|n| (n.offer, n.outcome)),
        Some(("birthday".to_owned(), ConsentOutcome::Declined)),
        "the card says it was declined"
    );
    assert_eq!(offered.len(), 1, "and still offers it");
    let after = rig.stored_record()?.ok_or("the session is kept")?;
    assert_eq!(
        after.session_jwt.secret(),
        before.session_jwt.secret(),
        "the vault is untouched"
    );
    assert_eq!(
        rig.grants("authorization_code").len(),
        1,
        "no code was exchanged"
    );

    // Asking again clears the note.
    let _again = rig.login.begin_consent("birthday").await?;
    rig.login.cancel_login();
    assert_eq!(card(&rig)?.1, None);
    Ok(())
}

#[tokio::test]
async fn only_offers_on_the_card_can_be_asked_for() -> TestResult {
    let rig = rig_without_birthday().await?;
    let before_login = rig.login.begin_consent("birthday").await;
    assert_eq!(
        before_login.err().map(|e| e.code()),
        Some(ErrorCode::SessionExpired)
    );
    rig.log_in().await?;
    let opened = rig.browser.opened();
    let foreign = rig.login.begin_consent("phone_number").await;
    assert_eq!(foreign.err().map(|e| e.code()), Some(ErrorCode::Internal));
    assert_eq!(
        rig.browser.opened(),
        opened,
        "no browser for an offer not made"
    );
    Ok(())
}

#[tokio::test]
async fn consent_given_by_another_account_is_refused_and_its_tokens_revoked() -> TestResult {
    let rig = rig_without_birthday().await?;
    let me = rig.log_in().await?;
    let attempt = rig.login.begin_consent("birthday").await?;
    // The browser is signed in to another Kakao account meanwhile.
    rig.emulator
        .set_auto_consent(Some(fixture_ids::NINETEEN_DIGIT_ID))?;
    let url = rig.browser.last().ok_or("opened")?;
    let location = rig.authorize(&url).await?;
    let outcome = rig.finish(attempt, &bridge_link(&location)).await?;
    assert_eq!(
        outcome.err().map(|e| e.code()),
        Some(ErrorCode::WrongAccount)
    );
    assert_eq!(
        rig.login.current_profile().map(|c| c.profile.id),
        Some(me.kakao_id),
        "the signed-in account stays"
    );
    assert_eq!(
        rig.requests("/v1/user/logout").len(),
        1,
        "the other account's fresh tokens are revoked"
    );
    assert_eq!(card(&rig)?.0.len(), 1, "the birthday is still offered");
    Ok(())
}

#[tokio::test]
async fn a_402_offers_the_scopes_it_names() -> TestResult {
    let rig = Rig::new().await?;
    rig.log_in().await?;
    assert!(
        card(&rig)?.0.is_empty(),
        "this account has agreed to everything"
    );
    rig.emulator
        .faults()
        .inject("/v2/user/me", Fault::InsufficientScope, FaultMode::Once);
    let refused = rig.login.refresh_profile().await;
    assert_eq!(
        refused.err().map(|e| e.code()),
        Some(ErrorCode::ConsentRequired)
    );
    let (offered, _) = card(&rig)?;
    assert_eq!(
        offered,
        vec![ConsentOffer {
            id: "account_email".into(),
            scopes: vec!["account_email".into()],
        }],
        "the card offers what the -402 named"
    );
    assert!(rig.login.is_signed_in(), "a -402 is no reason to sign out");

    let attempt = rig.login.begin_consent("account_email").await?;
    let url = rig.browser.last().ok_or("opened")?;
    assert_eq!(
        query(url.as_str(), "scope").as_deref(),
        Some("openid,account_email")
    );
    let location = rig.authorize(&url).await?;
    rig.finish(attempt, &bridge_link(&location)).await??;
    assert!(card(&rig)?.0.is_empty(), "agreed: nothing owed any more");
    Ok(())
}

#[tokio::test]
async fn a_stale_profile_is_read_again_without_a_new_token() -> TestResult {
    let rig = Rig::new().await?;
    rig.log_in().await?;
    let logged_in = rig.login.current_profile().ok_or("a profile")?;
    let max_age = Duration::from_secs(24 * 3600);
    assert!(
        !rig.login.refresh_stale_profile(max_age).await?,
        "fresh: not read"
    );
    assert_eq!(
        rig.requests("/v2/user/me").len(),
        1,
        "only the login's read"
    );

    rig.advance(Duration::from_secs(3600));
    assert!(
        rig.login
            .refresh_stale_profile(Duration::from_secs(1800))
            .await?,
        "stale: read"
    );
    assert_eq!(rig.requests("/v2/user/me").len(), 2);
    assert_eq!(
        rig.requests("/oauth/token").len(),
        1,
        "no token beyond the login's"
    );
    let refreshed = rig.login.current_profile().ok_or("a profile")?;
    assert_eq!(
        refreshed.last_login_at, logged_in.last_login_at,
        "a read is not a login"
    );
    assert!(refreshed.fetched_at > logged_in.fetched_at);
    assert!(
        !rig.login
            .refresh_stale_profile(Duration::from_secs(1800))
            .await?,
        "just read: not again"
    );

    // Offline: the badge, not an error the user must dismiss.
    rig.emulator
        .faults()
        .inject("/v2/user/me", Fault::ServerError, FaultMode::Always);
    let down = rig.login.refresh_profile().await;
    assert!(down.is_err());
    assert!(matches!(
        rig.login.snapshot(),
        LoginSnapshot::SignedIn { offline: true, .. }
    ));
    rig.emulator.faults().clear_all();
    rig.login.refresh_profile().await?;
    assert!(
        matches!(
            rig.login.snapshot(),
            LoginSnapshot::SignedIn { offline: false, .. }
        ),
        "Kakao answering again clears the badge"
    );
    Ok(())
}

/// Signed in, and Kakao down at the last check: the offline badge.
async fn offline_rig() -> TestResult<Rig> {
    let rig = Rig::new().await?;
    rig.log_in().await?;
    rig.emulator.faults().inject(
        "/v1/user/access_token_info",
        Fault::ServerError,
        FaultMode::Always,
    );
    assert!(rig.login.check_session().await.is_err());
    assert!(matches!(
        rig.login.snapshot(),
        LoginSnapshot::SignedIn { offline: true, .. }
    ));
    Ok(rig)
}

#[tokio::test]
async fn a_recheck_that_finds_the_session_gone_says_so() -> TestResult {
    let rig = offline_rig().await?;
    // Kakao comes back, but the refresh token has died meanwhile.
    rig.emulator.faults().clear_all();
    rig.advance(Duration::from_secs(61 * 24 * 3600));
    let outcome = rig
        .login
        .recheck_while_offline_after([Duration::ZERO], Duration::from_secs(3600))
        .await;
    match outcome {
        Recheck::Ended(Some(error)) => assert_eq!(error.code(), ErrorCode::SessionExpired),
        other => return Err(format!("the user must hear the session ended: {other:?}").into()),
    }
    assert!(!rig.login.is_signed_in());
    Ok(())
}

#[tokio::test]
async fn a_recheck_that_reaches_kakao_clears_the_badge() -> TestResult {
    let rig = offline_rig().await?;
    let still_down = rig
        .login
        .recheck_while_offline_after([Duration::ZERO; 2], Duration::from_secs(3600))
        .await;
    assert!(matches!(still_down, Recheck::GaveUp), "{still_down:?}");
    rig.emulator.faults().clear_all();
    let back = rig
        .login
        .recheck_while_offline_after([Duration::ZERO], Duration::from_secs(3600))
        .await;
    assert!(matches!(back, Recheck::Reachable(None)), "{back:?}");
    assert!(matches!(
        rig.login.snapshot(),
        LoginSnapshot::SignedIn { offline: false, .. }
    ));
    Ok(())
}

#[tokio::test]
async fn a_shared_birthday_can_be_withdrawn_and_added_back() -> TestResult {
    let mut setup = Setup::default();
    setup.emulator.auto_consent = Some(fixture_ids::SOLAR_BIRTHDAY_WITH_YEAR);
    let rig = Rig::with(setup).await?;
    let first = rig.log_in().await?;
    assert!(first.birthday.is_some());
    let tokens_before = rig.requests("/oauth/token").len();

    let withdrawn = rig.login.withdraw_consent("birthday").await?;
    assert_eq!(withdrawn.birthday, None, "the card drops the birthday");
    let revoked = rig.requests("/v2/user/revoke/scopes");
    assert_eq!(revoked.len(), 1);
    assert_eq!(
        revoked[0].param("scopes"),
        Some(r#"["birthyear","birthday"]"#),
        "the item with its year, as Kakao lists them"
    );
    assert_eq!(
        rig.requests("/oauth/token").len(),
        tokens_before,
        "no new token"
    );
    let (offered, _) = card(&rig)?;
    assert_eq!(
        offered.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        ["birthday"],
        "and offers to add it back"
    );
    // A restart shows the withdrawn state too.
    let restarted = rig.open_login()?;
    let restored = restarted.restore_session().await?.ok_or("restored")?;
    assert_eq!(restored.birthday, None);

    let attempt = rig.login.begin_consent("birthday").await?;
    let url = rig.browser.last().ok_or("opened")?;
    let location = rig.authorize(&url).await?;
    let back = rig.finish(attempt, &bridge_link(&location)).await??;
    assert_eq!(back.birthday.map(|b| b.date).as_deref(), Some("1990-11-30"));

    let unknown = rig.login.withdraw_consent("profile_nickname").await;
    assert_eq!(unknown.err().map(|e| e.code()), Some(ErrorCode::Internal));
    Ok(())
}

#[tokio::test]
async fn a_required_item_is_not_withdrawn() -> TestResult {
    let mut setup = Setup::default();
    setup.emulator.auto_consent = Some(fixture_ids::SOLAR_BIRTHDAY_WITH_YEAR);
    setup.emulator.required_items = Some(vec!["account_email".into()]);
    let rig = Rig::with(setup).await?;
    rig.log_in().await?;
    let refused = rig.login.withdraw_consent("account_email").await;
    assert_eq!(
        refused.err().map(|e| e.code()),
        Some(ErrorCode::NotRevocable)
    );
    assert!(
        rig.requests("/v2/user/revoke/scopes").is_empty(),
        "nothing was sent to withdraw"
    );
    assert!(
        rig.login
            .current_profile()
            .is_some_and(|c| c.profile.email.is_some()),
        "the email stays"
    );
    Ok(())
}
