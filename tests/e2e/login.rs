//! End-to-end tests of the whole login in a real WebKitGTK window: a click,
//! the system browser (a script standing in for it, see
//! `fake-browser.py`), Kakao (the emulator), a deep link into the
//! running app through a second process or the loopback receiver, and the
//! profile on screen; then restarts, refresh, logout and unlink.
//!
//! The emulator runs inside the test process, so the tests can read its
//! request log, stop it, and move its clock.

use std::path::Path;
use std::time::Duration;

use crate::support::{
    BridgeSite, Desktop, DesktopOptions, PageBrowser, app_scheme, browser_env, click, text_of,
    wait_for, wait_for_text,
};
use base64::Engine as _;
use fantoccini::{Client, Locator};
use kakao_emulator::{EmulatorConfig, RunningEmulator};

/// Fixture users (crates/kakao-emulator/fixtures/users.json).
pub(crate) const SOLAR_USER: i64 = 3_095_134_389; // 박양력, 1990-11-30 solar
pub(crate) const LUNAR_USER: i64 = 4_000_000_002; // 최음력, lunar leap month 04-15, 1985

/// Kakao's id_token issuer, as its discovery document names it.
const KAKAO_ISSUER: &str = "https://kauth.kakao.com";

pub(crate) async fn emulator(
    redirect_uris: Vec<String>,
    auto_consent: Option<i64>,
) -> RunningEmulator {
    kakao_emulator::start(EmulatorConfig {
        bridge_scheme: app_scheme(),
        redirect_uris,
        auto_consent,
        ..EmulatorConfig::default()
    })
    .await
    .expect("the emulator starts")
}

/// The app configured for the emulator as if it were Kakao (not demo mode).
/// `mode`: `bridge` (the emulator's bridge page forwards to the app's scheme)
/// or `loopback`; it must be said, since the emulator's bridge page is itself
/// on a loopback host.
pub(crate) fn kakao_env(
    emulator: &RunningEmulator,
    redirect_uri: &str,
    mode: &str,
) -> Vec<(String, String)> {
    vec![
        ("KAKAO_CLIENT_ID".into(), emulator.client_id().to_owned()),
        ("KAKAO_AUTH_BASE_URL".into(), emulator.base_url().to_owned()),
        ("KAKAO_API_BASE_URL".into(), emulator.base_url().to_owned()),
        ("KAKAO_REDIRECT_URI".into(), redirect_uri.to_owned()),
        ("KAKAO_REDIRECT_MODE".into(), mode.to_owned()),
    ]
}

pub(crate) fn desktop(test: &str, lang: &str, env: Vec<(String, String)>) -> Desktop {
    Desktop::start(
        test,
        DesktopOptions {
            lang: lang.into(),
            env,
            ..DesktopOptions::default()
        },
    )
}

/// The emulator (auto-consent for `user`, if any) and a desktop whose app
/// talks to it in bridge mode, with the fake browser doing `action` on
/// Kakao's pages (`agree`, `cancel`, `ignore`).
pub(crate) async fn bridge_desktop(
    test: &str,
    user: Option<i64>,
    action: &str,
    browser_user: Option<i64>,
) -> (RunningEmulator, Desktop) {
    let emulator = emulator(Vec::new(), user).await;
    let mut env = kakao_env(&emulator, &emulator.bridge_redirect_uri(), "bridge");
    env.extend(browser_env(test, action, browser_user));
    let desktop = desktop(test, "en_US.UTF-8", env);
    (emulator, desktop)
}

/// Waits until the page shows the error with `code`.
pub(crate) async fn error_shown(app: &Client, code: &str) {
    wait_for(
        app,
        &format!("[data-testid='error-message'][data-error-code='{code}']"),
    )
    .await;
}

pub(crate) async fn screen(app: &Client, name: &str) {
    wait_for(app, &format!("body[data-screen='{name}']")).await;
}

pub(crate) async fn log_in(app: &Client) {
    screen(app, "signed_out").await;
    click(app, "[data-testid='login-button']").await;
    screen(app, "signed_in").await;
}

pub(crate) async fn attr(app: &Client, css: &str, name: &str) -> Option<String> {
    app.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .attr(name)
        .await
        .expect("attribute")
}

pub(crate) async fn visible(app: &Client, css: &str) -> bool {
    match app.find(Locator::Css(css)).await {
        Ok(element) => element.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

pub(crate) fn token_requests(emulator: &RunningEmulator, grant: &str) -> usize {
    emulator
        .requests()
        .to_path("/oauth/token")
        .iter()
        .filter(|r| r.param("grant_type") == Some(grant))
        .count()
}

/// How many vault slots hold an envelope.
pub(crate) fn sealed_slots(data_dir: &Path) -> usize {
    ["session-a.json", "session-b.json"]
        .iter()
        .filter(|name| {
            std::fs::read(data_dir.join(name))
                .ok()
                .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
                .is_some_and(|v| v.get("envelope").is_some())
        })
        .count()
}

/// The vault's slots hold only sealed envelopes, and nothing in the data dir
/// looks like a token field.
fn assert_vault_sealed(data_dir: &Path) {
    let mut slots = 0;
    for entry in std::fs::read_dir(data_dir).expect("data dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read");
        let text = String::from_utf8_lossy(&bytes);
        for field in [
            "access_token",
            "refresh_token",
            "id_token",
            "session_jwt",
            "bearer",
        ] {
            assert!(
                !text.contains(field),
                "{name} must not hold {field} in clear"
            );
        }
        if name.starts_with("session-") && name.ends_with(".json") {
            let value: serde_json::Value = serde_json::from_slice(&bytes).expect("slot JSON");
            if let Some(envelope) = value.get("envelope").and_then(|v| v.as_str()) {
                let sealed = base64::engine::general_purpose::STANDARD
                    .decode(envelope)
                    .expect("base64 envelope");
                assert_eq!(&sealed[..4], b"KDVT", "{name} holds a vault envelope");
                slots += 1;
            }
        }
    }
    assert!(
        slots >= 1,
        "the session was saved in at least one vault slot"
    );
    assert!(
        data_dir.join("profile.db").exists(),
        "the profile cache is a real SQLite file"
    );
    assert_private(data_dir);
}

/// The data directory is the user's alone (0700), and so is every file of
/// the app's in it (0600): vault slots, settings, the profile cache.
fn assert_private(data_dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(data_dir), 0o700, "the data directory is private");
    let mut checked = 0;
    for entry in std::fs::read_dir(data_dir).expect("data dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let ours = name.starts_with("session-")
            || name == "settings.json"
            || name.starts_with("profile.db");
        if ours && path.is_file() {
            assert_eq!(mode(&path), 0o600, "{name} is readable by the user only");
            checked += 1;
        }
    }
    assert!(checked >= 3, "the slots, settings and cache were checked");
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_mode_logs_in_through_the_consent_page_and_a_deep_link() {
    // No KAKAO_CLIENT_ID: the app starts its bundled emulator; the browser
    // script agrees on the consent page, follows the bridge page and launches
    // the app with the deep link, as the OS would.
    let desktop = desktop(
        "demo_bridge",
        "ko_KR.UTF-8",
        browser_env("demo", "agree", Some(SOLAR_USER)),
    );
    let app = desktop.open_app(&[]).await;
    screen(&app, "signed_out").await;
    assert!(
        visible(&app, "[data-testid='demo-banner']").await,
        "demo mode says so"
    );
    desktop.screenshot(&app, "ko-login").await;

    click(&app, "[data-testid='login-button']").await;
    screen(&app, "signed_in").await;
    assert_eq!(
        text_of(&app, "[data-testid='profile-nickname']").await,
        "박양력"
    );
    assert_eq!(
        text_of(&app, "[data-testid='profile-birthday']").await,
        "1990년 11월 30일",
        "the birthday is a real date, formatted for Korean"
    );
    let avatar = attr(&app, "[data-testid='profile-avatar']", "src")
        .await
        .unwrap_or_default();
    assert!(
        avatar.starts_with("data:image/"),
        "the avatar comes from the cached bytes, not the network: {avatar:.40}"
    );
    desktop.screenshot(&app, "ko-profile").await;
    app.close().await.expect("close");
    assert_vault_sealed(&desktop.app_data_dir());
}

#[tokio::test(flavor = "multi_thread")]
async fn loopback_mode_logs_in_through_the_loopback_receiver() {
    let port = crate::support::free_port();
    let redirect = format!("http://127.0.0.1:{port}/oauth/callback");
    // The emulator claims Kakao's own issuer while it runs on loopback, so the
    // app's issuer check meets the production value here.
    let emulator = kakao_emulator::start(EmulatorConfig {
        bridge_scheme: app_scheme(),
        redirect_uris: vec![redirect.clone()],
        auto_consent: Some(LUNAR_USER),
        issuer: Some(KAKAO_ISSUER.to_owned()),
        ..EmulatorConfig::default()
    })
    .await
    .expect("the emulator starts");
    let mut env = kakao_env(&emulator, &redirect, "loopback");
    env.push(("KAKAO_OIDC_ISSUER".into(), KAKAO_ISSUER.into()));
    env.extend(browser_env("loopback", "agree", None));
    let desktop = desktop("loopback", "en_US.UTF-8", env);
    let app = desktop.open_app(&[]).await;
    assert!(
        !visible(&app, "[data-testid='demo-banner']").await,
        "a configured app is not a demo"
    );

    log_in(&app).await;
    assert_eq!(
        text_of(&app, "[data-testid='profile-nickname']").await,
        "최음력"
    );
    assert_eq!(
        text_of(&app, "[data-testid='profile-birthday']").await,
        "April 15, 1985 (lunar, leap month)"
    );
    assert_eq!(
        token_requests(&emulator, "authorization_code"),
        1,
        "one code exchange"
    );
    let exchange = &emulator.requests().to_path("/oauth/token")[0];
    assert_eq!(
        exchange.param("redirect_uri"),
        Some(redirect.as_str()),
        "the loopback URI was used"
    );
    // One fetch of the keys, or two when the link came while the prefetch's
    // request was in flight (it is dropped, and verification fetches them):
    // a loaded machine makes the second case (seen in CI).
    let key_fetches = emulator.requests().to_path("/.well-known/jwks.json").len();
    assert!(
        exchange.param("grant_type").is_some() && (1..=2).contains(&key_fetches),
        "the id_token (issuer {KAKAO_ISSUER}) was verified with the emulator's keys ({key_fetches} fetches)"
    );
    desktop.screenshot(&app, "en-profile").await;
    // The About view names the log folder.
    click(&app, "[data-testid='about'] summary").await;
    assert_eq!(
        text_of(&app, "[data-testid='log-dir']").await,
        desktop.app_log_dir().display().to_string(),
        "the About view names the log folder"
    );
    desktop.screenshot(&app, "en-about").await;
    app.close().await.expect("close");
    assert_vault_sealed(&desktop.app_data_dir());

    // The log file holds the login, and no code or token the emulator issued.
    let logged = desktop.app_log_files();
    assert!(
        logged.contains("login started") && logged.contains("mode=Loopback"),
        "the whole login is in the log file:\n{logged}"
    );
    let secrets = emulator.issued_secrets();
    assert!(
        secrets.len() >= 3,
        "a code, an access and a refresh token were issued"
    );
    for secret in &secrets {
        assert!(
            !logged.contains(secret.as_str()),
            "the log file holds a secret the emulator issued:\n{logged}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_real_bridge_page_brings_the_login_back_to_this_build() {
    // The bridge site as a publisher deploys it, on a local static server;
    // the debug build's page forwards to the debug scheme. The page runs in
    // WebKitGTK's MiniBrowser (the fake browser hands it over).
    let site = BridgeSite::start();
    let page = site.page(true);
    let emulator = emulator(vec![page.clone()], Some(SOLAR_USER)).await;
    let webdriver_port = crate::support::free_port();
    let mut env = kakao_env(&emulator, &page, "bridge");
    let browser = browser_env("real-bridge", "agree", None);
    let log_path = browser
        .iter()
        .find(|(k, _)| k == "E2E_BROWSER_LOG")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    env.extend(browser);
    env.push((
        "E2E_BRIDGE_WEBDRIVER".into(),
        format!("http://127.0.0.1:{webdriver_port}"),
    ));
    let desktop = desktop("real-bridge", "ko_KR.UTF-8", env);
    let _engine = PageBrowser::start_on(&desktop, webdriver_port);
    let app = desktop.open_app(&[]).await;
    log_in(&app).await;
    assert_eq!(
        text_of(&app, "[data-testid='profile-nickname']").await,
        "박양력"
    );
    let exchange = &emulator.requests().to_path("/oauth/token")[0];
    assert_eq!(
        exchange.param("redirect_uri"),
        Some(page.as_str()),
        "the bridge site's debug page was the redirect URI"
    );
    let browser_log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        browser_log.contains(&format!("real bridge page -> {}://", app_scheme())),
        "the page, run by WebKit, forwarded to this build's scheme:\n{browser_log}"
    );
    desktop.screenshot(&app, "ko-profile-via-bridge-page").await;
    app.close().await.expect("close");
    assert_vault_sealed(&desktop.app_data_dir());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_login_stuck_on_kakaos_error_page_offers_the_configuration_check() {
    // The redirect URI is not registered: Kakao shows KOE006 in the browser
    // and never comes back, so the app would only wait.
    let emulator = emulator(Vec::new(), Some(SOLAR_USER)).await;
    let unregistered = format!("{}/kakao/callback/", emulator.base_url());
    let mut env = kakao_env(&emulator, &unregistered, "bridge");
    env.extend(browser_env("trouble", "agree", None));
    let desktop = desktop("trouble", "ko_KR.UTF-8", env);
    let app = desktop.open_app(&[]).await;
    screen(&app, "signed_out").await;
    click(&app, "[data-testid='login-button']").await;
    screen(&app, "waiting").await;
    assert!(
        !visible(&app, "[data-testid='trouble']").await,
        "a login that has just started offers no troubleshooting yet"
    );
    wait_for(&app, "[data-testid='trouble']:not([hidden])").await;
    click(&app, "[data-testid='check-setup']").await;
    let finding = wait_for(&app, "[data-finding-id='redirect_not_registered']").await;
    let text = finding.text().await.expect("text");
    assert!(
        text.starts_with("KOE006") && text.contains(&unregistered),
        "the finding names the fix in Korean: {text}"
    );
    desktop.screenshot(&app, "ko-trouble").await;

    let switch = wait_for(&app, "[data-testid='language-switch']").await;
    switch.select_by_value("en").await.expect("choose English");
    wait_for_text(&app, "#trouble-title", "Having trouble?").await;
    click(&app, "[data-testid='check-setup']").await;
    wait_for_text(
        &app,
        "[data-finding-id='redirect_not_registered']",
        &kakao_desk_core::doctor::Finding::RedirectNotRegistered {
            uri: unregistered.clone(),
        }
        .message(kakao_desk_core::Language::En),
    )
    .await;
    desktop.screenshot(&app, "en-trouble").await;
    assert!(
        emulator.requests().to_path("/oauth/token").is_empty(),
        "the check exchanged nothing"
    );
    click(&app, "[data-testid='cancel-login']").await;
    screen(&app, "signed_out").await;
    assert!(
        !visible(&app, "[data-testid='trouble']").await,
        "gone with the attempt"
    );
    app.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_without_kakao_shows_the_cached_profile_offline() {
    let (emulator, desktop) =
        bridge_desktop("restart_offline", Some(SOLAR_USER), "agree", None).await;
    let app = desktop.open_app(&[]).await;
    log_in(&app).await;
    app.close().await.expect("close");

    emulator.shutdown().await;
    let app = desktop.open_app(&[]).await;
    screen(&app, "signed_in").await;
    assert_eq!(
        text_of(&app, "[data-testid='profile-nickname']").await,
        "박양력"
    );
    let avatar = attr(&app, "[data-testid='profile-avatar']", "src")
        .await
        .unwrap_or_default();
    assert!(
        avatar.starts_with("data:image/"),
        "the avatar shows from the cache"
    );
    wait_for(&app, "[data-testid='offline-badge']:not([hidden])").await;
    desktop.screenshot(&app, "offline").await;
    app.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_on_the_consent_page_says_login_cancelled() {
    let (emulator, desktop) =
        bridge_desktop("consent_cancel", None, "cancel", Some(SOLAR_USER)).await;
    let app = desktop.open_app(&[]).await;
    screen(&app, "signed_out").await;
    click(&app, "[data-testid='login-button']").await;
    error_shown(&app, "login_cancelled").await;
    screen(&app, "signed_out").await;
    assert_eq!(
        token_requests(&emulator, "authorization_code"),
        0,
        "nothing was exchanged"
    );
    app.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_while_waiting_then_a_late_or_forged_callback_changes_nothing() {
    // The browser opens but the user does nothing there.
    let (emulator, desktop) =
        bridge_desktop("cancel_and_forged", Some(SOLAR_USER), "ignore", None).await;
    let app = desktop.open_app(&[]).await;
    screen(&app, "signed_out").await;
    click(&app, "[data-testid='login-button']").await;
    screen(&app, "waiting").await;
    assert!(visible(&app, "[data-testid='login-waiting']").await);
    let left = text_of(&app, "[data-testid='time-left']").await;
    assert!(
        left.starts_with("9:") || left == "10:00",
        "about ten minutes are left: {left}"
    );

    // A forged link (a state that is not ours) while waiting: refused, no
    // token request, still waiting.
    let forged = format!(
        "{}://oauth/callback?code=forged-code&state=not-the-state",
        app_scheme()
    );
    assert!(desktop.launch_second_instance(&[&forged]).success());
    error_shown(&app, "state_mismatch").await;
    screen(&app, "waiting").await;
    assert_eq!(
        emulator.requests().to_path("/oauth/token").len(),
        0,
        "a forged callback must send nothing to the token endpoint"
    );
    desktop.screenshot(&app, "forged-while-waiting").await;

    // Cancel: back to the login screen; a late callback is refused.
    click(&app, "[data-testid='cancel-login']").await;
    screen(&app, "signed_out").await;
    let late = format!("{}://oauth/callback?code=late&state=late", app_scheme());
    assert!(desktop.launch_second_instance(&[&late]).success());
    error_shown(&app, "invalid_callback").await;
    screen(&app, "signed_out").await;
    assert_eq!(
        emulator.requests().to_path("/oauth/token").len(),
        0,
        "still nothing exchanged"
    );
    app.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_access_token_refreshes_and_a_dead_refresh_token_signs_out() {
    let (emulator, desktop) = bridge_desktop("refresh", Some(SOLAR_USER), "agree", None).await;
    let app = desktop.open_app(&[]).await;
    log_in(&app).await;
    app.close().await.expect("close");

    // Seven hours later for Kakao: the access token (6 h) has expired.
    emulator.clock().advance(Duration::from_secs(7 * 3600));
    let app = desktop.open_app(&[]).await;
    screen(&app, "signed_in").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while token_requests(&emulator, "refresh_token") == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the app should refresh after -401"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !visible(&app, "[data-testid='offline-badge']").await,
        "a transparent refresh is not an outage"
    );
    screen(&app, "signed_in").await;
    app.close().await.expect("close");

    // Ninety days later: the refresh token is dead too.
    emulator
        .clock()
        .advance(Duration::from_secs(90 * 24 * 3600));
    let app = desktop.open_app(&[]).await;
    error_shown(&app, "session_expired").await;
    screen(&app, "signed_out").await;
    assert!(
        text_of(&app, "#continue-text").await.contains("박양력"),
        "the login screen offers to continue as the cached account"
    );
    desktop.screenshot(&app, "session-expired").await;
    app.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_empties_the_vault_and_unlink_forgets_the_profile() {
    let (emulator, desktop) =
        bridge_desktop("logout_unlink", Some(SOLAR_USER), "agree", None).await;
    let app = desktop.open_app(&[]).await;
    log_in(&app).await;

    click(&app, "[data-testid='logout-button']").await;
    screen(&app, "signed_out").await;
    assert_eq!(
        emulator.requests().to_path("/v1/user/logout").len(),
        1,
        "Kakao was told"
    );
    assert!(
        text_of(&app, "#continue-text").await.contains("박양력"),
        "the cache stays after logout"
    );
    app.close().await.expect("close");
    assert_eq!(
        sealed_slots(&desktop.app_data_dir()),
        0,
        "logout empties the vault"
    );
    let app = desktop.open_app(&[]).await;
    screen(&app, "signed_out").await;

    log_in(&app).await;
    click(&app, "[data-testid='unlink-button']").await;
    click(&app, "[data-testid='unlink-confirm']").await;
    screen(&app, "signed_out").await;
    assert_eq!(
        emulator.requests().to_path("/v1/user/unlink").len(),
        1,
        "Kakao was told"
    );
    assert!(
        !visible(&app, "#continue-as").await,
        "after unlink the device forgets the account"
    );
    app.close().await.expect("close");
    let app = desktop.open_app(&[]).await;
    screen(&app, "signed_out").await;
    assert!(
        !visible(&app, "#continue-as").await,
        "and it stays forgotten after a restart"
    );
    app.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_profile_screen_in_english_and_korean() {
    let (_emulator, desktop) =
        bridge_desktop("profile_languages", Some(SOLAR_USER), "agree", None).await;
    let app = desktop.open_app(&[]).await;
    log_in(&app).await;
    assert_eq!(
        text_of(&app, "[data-testid='profile-birthday']").await,
        "November 30, 1990"
    );
    wait_for_text(&app, "[data-testid='logout-button']", "Log out").await;
    desktop.screenshot(&app, "profile-en").await;

    let switch = wait_for(&app, "[data-testid='language-switch']").await;
    switch.select_by_value("ko").await.expect("choose Korean");
    wait_for_text(&app, "[data-testid='logout-button']", "로그아웃").await;
    assert_eq!(
        text_of(&app, "[data-testid='profile-birthday']").await,
        "1990년 11월 30일"
    );
    desktop.screenshot(&app, "profile-ko").await;
    click(&app, "[data-testid='about'] summary").await;
    wait_for_text(&app, "[data-testid='about-title']", "정보").await;
    assert!(
        text_of(&app, "[data-testid='log-dir']")
            .await
            .ends_with("/logs"),
        "the log folder is named in Korean too"
    );
    desktop.screenshot(&app, "about-ko").await;
    app.close().await.expect("close");
}
