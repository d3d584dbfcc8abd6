//! End-to-end tests of the app shell in a real WebKitGTK window (Xvfb,
//! tauri-driver + WebKitWebDriver, a private D-Bus session with an unlocked
//! gnome-keyring). See `support.rs` for the harness.

use crate::support::{Desktop, DesktopOptions, app_scheme, wait_for, wait_for_text};
use fantoccini::Locator;

fn options(lang: &str) -> DesktopOptions {
    DesktopOptions {
        lang: lang.into(),
        ..DesktopOptions::default()
    }
}

#[tokio::test]
async fn login_screen_speaks_the_system_language() {
    for (lang, button, html_lang) in [
        ("ko_KR.UTF-8", "카카오 로그인", "ko"),
        ("en_US.UTF-8", "Login with Kakao", "en"),
    ] {
        let desktop = Desktop::start(&format!("login_screen_{html_lang}"), options(lang));
        let app = desktop.open_app(&[]).await;

        assert_eq!(
            app.title().await.expect("title"),
            "Kakao Desk",
            "the window title names the app"
        );
        wait_for_text(&app, "[data-testid='login-button'] span", button).await;
        let root_lang = app
            .find(Locator::Css("html"))
            .await
            .expect("html")
            .attr("lang")
            .await
            .expect("lang attribute");
        assert_eq!(
            root_lang.as_deref(),
            Some(html_lang),
            "LANG={lang} must pick the page language"
        );
        desktop.screenshot(&app, "login").await;
        app.close().await.expect("close session");
    }
}

#[tokio::test]
async fn language_switch_applies_at_once_and_is_remembered() {
    let desktop = Desktop::start("language_switch", options("en_US.UTF-8"));
    let app = desktop.open_app(&[]).await;
    wait_for_text(
        &app,
        "[data-testid='login-button'] span",
        "Login with Kakao",
    )
    .await;

    let switch = wait_for(&app, "[data-testid='language-switch']").await;
    switch.select_by_value("ko").await.expect("choose Korean");
    wait_for_text(&app, "[data-testid='login-button'] span", "카카오 로그인").await;
    desktop.screenshot(&app, "switched-to-korean").await;
    app.close().await.expect("close session");

    let settings = std::fs::read_to_string(desktop.app_data_dir().join("settings.json"))
        .expect("the choice is written to settings.json in the app data dir");
    assert!(
        settings.contains("\"ko\""),
        "the remembered language is Korean: {settings}"
    );

    // A new start in an English session keeps the user's choice.
    let app = desktop.open_app(&[]).await;
    wait_for_text(&app, "[data-testid='login-button'] span", "카카오 로그인").await;
    app.close().await.expect("close session");
}

#[tokio::test]
async fn a_second_instance_hands_its_link_to_the_running_app_and_exits() {
    let desktop = Desktop::start("second_instance_link", options("en_US.UTF-8"));
    let app = desktop.open_app(&[]).await;

    let link = format!(
        "{}://oauth/callback?code=e2e-secret-code-4711&state=e2e-state",
        app_scheme()
    );
    let status = desktop.launch_second_instance(&[&link]);
    assert!(
        status.success(),
        "the second process must exit cleanly after the hand-off: {status}"
    );

    // No login is waiting, so the running instance refuses the link — which
    // proves it arrived.
    let error = wait_for(
        &app,
        "[data-testid='error-message'][data-error-code='invalid_callback']",
    )
    .await;
    assert!(
        !error.text().await.expect("text").is_empty(),
        "the user is told"
    );
    let page = app.source().await.expect("page source");
    assert!(
        !page.contains("e2e-secret-code-4711"),
        "the code must never reach the webview"
    );
    desktop.screenshot(&app, "link-received").await;
    app.close().await.expect("close session");

    let log = desktop.app_log();
    assert!(
        log.contains("login callback received"),
        "the running instance logs the link (redacted)"
    );
    assert!(
        !log.contains("e2e-secret-code-4711"),
        "the code must never be logged"
    );
}

#[tokio::test]
async fn a_cold_start_link_waits_for_the_ui() {
    let desktop = Desktop::start("cold_start_link", options("en_US.UTF-8"));
    let link = format!("{}://oauth/callback?code=cold-secret&state=s", app_scheme());
    // The link is taken in `setup`, before WebKit has loaded the page and
    // before the vault is open; its outcome must still reach the page.
    let app = desktop.open_app(&[&link]).await;
    wait_for(
        &app,
        "[data-testid='error-message'][data-error-code='invalid_callback']",
    )
    .await;
    // The page cannot reach the launch URL another way: the deep-link
    // plugin keeps none, and the page may neither ask it nor listen for
    // app-wide events.
    let reached = app
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const { core, event } = window.__TAURI__;
             const tried = (p) => p.then((r) => 'allowed:' + JSON.stringify(r), () => 'denied');
             Promise.all([
               tried(core.invoke('plugin:deep-link|get_current')),
               tried(event.listen('deep-link://new-url', () => {})),
             ]).then(done);",
            vec![],
        )
        .await
        .expect("script ran");
    assert_eq!(
        reached,
        serde_json::json!(["denied", "denied"]),
        "the page must not see the code of a launch URL"
    );
    app.close().await.expect("close session");
    let log = desktop.app_log();
    assert!(
        log.contains("login callback received"),
        "the cold-start link was taken"
    );
    assert!(
        !log.contains("cold-secret"),
        "the code must never be logged"
    );
}

#[tokio::test]
async fn foreign_and_malformed_links_are_refused_without_a_crash() {
    let desktop = Desktop::start("refused_links", options("en_US.UTF-8"));
    let app = desktop.open_app(&[]).await;

    let scheme = app_scheme();
    let hostile = [
        "https://evil.example/oauth/callback?code=x&state=y".to_owned(),
        "not a url at all".to_owned(),
        format!("{scheme}://evil/callback?code=x"),
        format!("{scheme}://oauth/callback?code={}", "A".repeat(10_000)),
    ];
    for link in &hostile {
        let status = desktop.launch_second_instance(&[link]);
        assert!(
            status.success(),
            "the second process exits cleanly even for {link:.40}: {status}"
        );
        let error = wait_for(
            &app,
            "[data-testid='error-message'][data-error-code='invalid_callback']",
        )
        .await;
        assert_eq!(
            error.text().await.expect("text"),
            "An invalid login link was received and ignored. Start from the Kakao login button in the app.",
            "the user is told what happened and what to do"
        );
        // Clear the marker so the next link must produce its own error.
        app.execute(
            "document.querySelector('[data-testid=error-message]').removeAttribute('data-error-code')",
            vec![],
        )
        .await
        .expect("reset marker");
    }
    assert_eq!(
        app.title().await.expect("the app is still alive"),
        "Kakao Desk"
    );
    desktop.screenshot(&app, "link-refused").await;
    app.close().await.expect("close session");
    assert!(
        !desktop.app_log().contains("login callback received"),
        "no refused link may get past the route check"
    );
}
