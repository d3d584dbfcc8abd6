//! Day two in the real window: adding a consent item later (and declining
//! it), a -402 leading to the same flow, the offline badge clearing when
//! Kakao answers again, and the Korean and English wording of a lunar
//! leap-month birthday and of a user who shared no nickname.

use kakao_emulator::{Fault, FaultMode, fixture_ids};

use crate::login::{LUNAR_USER, SOLAR_USER, bridge_desktop, error_shown, log_in, screen, visible};
use crate::support::{click, text_of, wait_for, wait_for_text};

const NO_BIRTHDAY: i64 = fixture_ids::BIRTHDAY_NOT_CONSENTED;

/// The status line as it reads now (it may be empty).
async fn status_now(app: &fantoccini::Client) -> String {
    app.find(fantoccini::Locator::Css("[data-testid='status']"))
        .await
        .expect("the status line")
        .text()
        .await
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_adds_the_birthday_and_sees_it_without_logging_out() {
    let (emulator, desktop) =
        bridge_desktop("add_birthday", Some(NO_BIRTHDAY), "agree", None).await;
    let app = desktop.open_app(&[]).await;
    log_in(&app).await;
    assert!(
        !visible(&app, "[data-testid='profile-birthday']").await,
        "no birthday shared yet"
    );
    let offer = "[data-testid='add-consent'][data-scope='birthday']";
    wait_for_text(&app, offer, "Add birthday").await;
    desktop.screenshot(&app, "en-add-birthday").await;

    click(&app, offer).await;
    // The browser asks for just the birthday; the app comes back signed in.
    wait_for_text(&app, "[data-testid='profile-birthday']", "July 4, 1992").await;
    screen(&app, "signed_in").await;
    wait_for_text(&app, "[data-testid='status']", "Your birthday was added.").await;
    assert!(
        !visible(&app, offer).await,
        "nothing left to add once agreed"
    );
    let asked = emulator.requests().to_path("/oauth/authorize");
    let scope = asked
        .last()
        .and_then(|r| r.param("scope").map(str::to_owned))
        .unwrap_or_default();
    assert_eq!(scope, "openid,birthday,birthyear", "just the missing items");
    assert_eq!(
        emulator.requests().to_path("/v1/user/logout").len(),
        0,
        "the session was never ended"
    );
    desktop.screenshot(&app, "en-birthday-added").await;

    // Korean, with the same card.
    let switch = wait_for(&app, "[data-testid='language-switch']").await;
    switch.select_by_value("ko").await.expect("choose Korean");
    wait_for_text(&app, "[data-testid='profile-birthday']", "1992년 7월 4일").await;
    app.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn declining_the_birthday_keeps_the_session_and_says_so() {
    let (emulator, desktop) = bridge_desktop(
        "decline_birthday",
        Some(NO_BIRTHDAY),
        "cancel",
        Some(NO_BIRTHDAY),
    )
    .await;
    let app = desktop.open_app(&[]).await;
    log_in(&app).await;
    // From now on Kakao shows its consent page, where the user says no.
    emulator.set_auto_consent(None).expect("no auto-consent");
    let switch = wait_for(&app, "[data-testid='language-switch']").await;
    switch.select_by_value("ko").await.expect("choose Korean");
    let offer = "[data-testid='add-consent'][data-scope='birthday']";
    wait_for_text(&app, offer, "생일 추가하기").await;
    desktop.screenshot(&app, "ko-add-birthday").await;
    click(&app, offer).await;
    wait_for(&app, "[data-testid='consent-declined']:not([hidden])").await;
    screen(&app, "signed_in").await;
    assert!(
        text_of(&app, "[data-testid='consent-declined']")
            .await
            .starts_with("생일 제공에 동의하지 않아"),
        "the card says it was declined"
    );
    assert_eq!(
        text_of(&app, "[data-testid='profile-nickname']").await,
        "정비공개",
        "still signed in as before"
    );
    assert!(visible(&app, offer).await, "and it can be asked again");
    let status = status_now(&app).await;
    assert!(
        !status.contains("로그인했습니다"),
        "a declined consent is no new login: {status}"
    );
    assert!(
        !visible(&app, "[data-testid='error-message']").await,
        "nor an error telling the user to log in"
    );
    desktop.screenshot(&app, "ko-consent-declined").await;
    app.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_402_leads_to_the_consent_flow() {
    let (emulator, desktop) = bridge_desktop("consent_402", Some(SOLAR_USER), "agree", None).await;
    let app = desktop.open_app(&[]).await;
    log_in(&app).await;
    emulator
        .faults()
        .inject("/v2/user/me", Fault::InsufficientScope, FaultMode::Once);
    click(&app, "[data-testid='refresh-profile']").await;
    error_shown(&app, "consent_required").await;
    let offer = "[data-testid='add-consent'][data-scope='account_email']";
    wait_for_text(&app, offer, "Add email").await;
    desktop.screenshot(&app, "en-consent-required").await;
    click(&app, offer).await;
    // Back on the card once agreed: the offer is gone.
    wait_for(&app, "[data-testid='consent-offers'][hidden]").await;
    screen(&app, "signed_in").await;
    let asked = emulator.requests().to_path("/oauth/authorize");
    assert_eq!(
        asked
            .last()
            .and_then(|r| r.param("scope").map(str::to_owned))
            .as_deref(),
        Some("openid,account_email"),
        "the scopes the -402 named"
    );
    assert!(!visible(&app, offer).await, "agreed: nothing owed");
    app.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_offline_badge_clears_when_kakao_answers_again() {
    let (emulator, desktop) = bridge_desktop("offline_back", Some(SOLAR_USER), "agree", None).await;
    let app = desktop.open_app(&[]).await;
    log_in(&app).await;
    app.close().await.expect("close");

    // Kakao is down at the next start: the cached profile, with the badge.
    emulator.faults().inject(
        "/v1/user/access_token_info",
        Fault::ServerError,
        FaultMode::Always,
    );
    let app = desktop.open_app(&[]).await;
    screen(&app, "signed_in").await;
    wait_for(&app, "[data-testid='offline-badge']:not([hidden])").await;
    assert!(
        visible(&app, "[data-testid='retry-connection']").await,
        "with a retry"
    );
    desktop.screenshot(&app, "en-offline-retry").await;

    // Kakao is back: the retry asks at once and the badge goes.
    emulator.faults().clear_all();
    click(&app, "[data-testid='retry-connection']").await;
    wait_for(&app, "[data-testid='offline-badge'][hidden]").await;
    assert!(!visible(&app, "[data-testid='retry-connection']").await);
    app.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lunar_leap_month_and_a_missing_nickname_read_right_in_both_languages() {
    let (_emulator, desktop) = bridge_desktop("wording", Some(LUNAR_USER), "agree", None).await;
    let app = desktop.open_app(&[]).await;
    log_in(&app).await;
    let switch = wait_for(&app, "[data-testid='language-switch']").await;
    switch.select_by_value("ko").await.expect("choose Korean");
    wait_for_text(
        &app,
        "[data-testid='profile-birthday']",
        "음력 1985년 윤4월 15일",
    )
    .await;
    desktop.screenshot(&app, "ko-lunar-leap-month").await;
    app.close().await.expect("close");

    let (_emulator, desktop) = bridge_desktop(
        "no_nickname",
        Some(fixture_ids::NO_PROFILE_CONSENT),
        "agree",
        None,
    )
    .await;
    let app = desktop.open_app(&[]).await;
    log_in(&app).await;
    wait_for_text(&app, "[data-testid='profile-nickname']", "Kakao user").await;
    wait_for_text(&app, "[data-testid='status']", "Logged in as Kakao user.").await;
    let switch = wait_for(&app, "[data-testid='language-switch']").await;
    switch.select_by_value("ko").await.expect("choose Korean");
    wait_for_text(&app, "[data-testid='profile-nickname']", "카카오 사용자").await;
    wait_for_text(
        &app,
        "[data-testid='status']",
        "카카오 사용자 님으로 로그인했습니다.",
    )
    .await;
    assert!(
        visible(&app, "[data-testid='add-consent'][data-scope='profile']").await,
        "and the card offers to add the nickname and photo"
    );
    desktop.screenshot(&app, "ko-no-nickname").await;
    app.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn consent_from_another_account_is_refused_and_said() {
    let (emulator, desktop) =
        bridge_desktop("consent_other_account", Some(NO_BIRTHDAY), "agree", None).await;
    let app = desktop.open_app(&[]).await;
    log_in(&app).await;
    // The browser is signed in to someone else by now.
    emulator
        .set_auto_consent(Some(SOLAR_USER))
        .expect("a fixture user");
    click(&app, "[data-testid='add-consent'][data-scope='birthday']").await;
    error_shown(&app, "wrong_account").await;
    screen(&app, "signed_in").await;
    assert_eq!(
        text_of(&app, "[data-testid='profile-nickname']").await,
        "정비공개",
        "the signed-in account stays"
    );
    let status = status_now(&app).await;
    assert!(!status.contains("added"), "nothing was added: {status}");
    desktop.screenshot(&app, "en-wrong-account").await;
    app.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shared_birthday_is_withdrawn_from_the_card() {
    let (emulator, desktop) = bridge_desktop("withdraw", Some(SOLAR_USER), "agree", None).await;
    let app = desktop.open_app(&[]).await;
    log_in(&app).await;
    wait_for_text(
        &app,
        "[data-testid='profile-birthday']",
        "November 30, 1990",
    )
    .await;
    click(
        &app,
        "[data-testid='withdraw-consent'][data-scope='birthday']",
    )
    .await;
    wait_for_text(
        &app,
        "[data-testid='add-consent'][data-scope='birthday']",
        "Add birthday",
    )
    .await;
    assert!(
        !visible(&app, "[data-testid='profile-birthday']").await,
        "the card no longer shows it"
    );
    wait_for_text(
        &app,
        "[data-testid='status']",
        "You no longer share your birthday. You can add it again any time.",
    )
    .await;
    assert_eq!(
        emulator.requests().to_path("/v2/user/revoke/scopes").len(),
        1,
        "withdrawn at Kakao"
    );
    desktop.screenshot(&app, "en-withdrawn").await;
    app.close().await.expect("close");
}
