//! The bridge page, as `scripts/build-bridge-site.py` builds it, in a real
//! browser engine (WebKitGTK's MiniBrowser through WebDriver): what it
//! forwards for good, hostile and oversized queries, that it never loads
//! anything else, and that the code leaves the address bar.
//!
//! A forwarded link shows as the browser's current URL: MiniBrowser does
//! not know the app's scheme, so the navigation stops there.

use std::time::Duration;

use fantoccini::{Client, Locator};

use crate::support::{BridgeSite, Desktop, DesktopOptions, PageBrowser, app_scheme};

const RELEASE_SCHEME: &str = "dev.kakaodesk.desktop";

/// Loads `page?query` and returns the URL the browser ends on.
async fn land(browser: &Client, page: &str, query: &str) -> String {
    browser
        .goto(&format!("{page}?{query}"))
        .await
        .expect("the page loads");
    // The forward is a script-driven navigation right after load.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let url = browser
            .current_url()
            .await
            .expect("current url")
            .to_string();
        if !url.starts_with("http://") || std::time::Instant::now() > deadline {
            return url;
        }
        if browser
            .find(Locator::Css("#invalid:not([hidden])"))
            .await
            .is_ok()
        {
            return url;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A PNG of the page once two frames are painted.
async fn screenshot(browser: &Client, path: std::path::PathBuf) {
    browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            vec![],
        )
        .await
        .expect("wait for paint");
    let png = browser.screenshot().await.expect("screenshot");
    std::fs::write(path, png).expect("write screenshot");
}

async fn shown(browser: &Client, css: &str) -> bool {
    match browser.find(Locator::Css(css)).await {
        Ok(element) => element.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bridge_page_forwards_only_kakaos_answer_to_its_builds_scheme() {
    let desktop = Desktop::start(
        "bridge-page",
        DesktopOptions {
            webdriver: false,
            ..DesktopOptions::default()
        },
    );
    let site = BridgeSite::start();
    let engine = PageBrowser::start(&desktop);
    let browser = engine.open().await;
    let debug_scheme = app_scheme();
    assert!(
        debug_scheme.ends_with(".debug"),
        "the tests run a debug build"
    );

    // Each build kind's page forwards to that build's scheme (generated from
    // tauri.conf.json: the debug one is the scheme this debug app registers).
    for (debug, scheme) in [(false, RELEASE_SCHEME), (true, debug_scheme.as_str())] {
        let page = site.page(debug);
        assert_eq!(
            land(&browser, &page, "code=c0de&state=st4te").await,
            format!("{scheme}://oauth/callback?code=c0de&state=st4te"),
            "a code and its state are forwarded unchanged"
        );
    }
    let page = site.page(true);
    let forward = |query: &str| format!("{debug_scheme}://oauth/callback?{query}");

    // Kakao's error answer, as Kakao sends it.
    assert_eq!(
        land(
            &browser,
            &page,
            "error=access_denied&error_description=User%20denied%20access&state=s1"
        )
        .await,
        forward("state=s1&error=access_denied&error_description=User+denied+access"),
        "an error is forwarded with its description and state"
    );
    // Anything but Kakao's parameters is dropped: no open redirect, no
    // other scheme, no extra input for the app.
    assert_eq!(
        land(
            &browser,
            &page,
            "code=c&state=s&redirect_uri=https%3A%2F%2Fevil.example%2F&scheme=https&next=javascript%3Aalert(1)"
        )
        .await,
        forward("code=c&state=s"),
        "foreign parameters are not forwarded"
    );
    // Markup in a value is forwarded as data (percent-encoded), never run.
    assert_eq!(
        land(
            &browser,
            &page,
            "code=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state=%22%3E%3Cimg%20src%3Dx%3E"
        )
        .await,
        forward("code=%3Cscript%3Ealert%281%29%3C%2Fscript%3E&state=%22%3E%3Cimg+src%3Dx%3E"),
        "values are encoded, not rendered"
    );

    // Refused: no state, code and error at once, a parameter twice, an
    // oversized value. The page says so, forwards nothing, and the query is
    // gone from the address bar.
    let long = "c".repeat(3000);
    for query in [
        "code=c".to_owned(),
        "code=c&error=e&state=s".to_owned(),
        "code=c&code=d&state=s".to_owned(),
        format!("code={long}&state=s"),
        String::new(),
    ] {
        let landed = land(&browser, &page, &query).await;
        assert_eq!(
            landed, page,
            "{query:.40}: nothing forwarded, no query left"
        );
        assert!(
            shown(&browser, "#invalid").await,
            "{query:.40}: the page says it is invalid"
        );
        assert!(
            !shown(&browser, "#open").await,
            "{query:.40}: and offers no link"
        );
        let search: String = browser
            .execute("return window.location.search;", vec![])
            .await
            .expect("script")
            .as_str()
            .unwrap_or("?")
            .to_owned();
        assert_eq!(search, "", "the address bar keeps no parameter");
    }
    // One language at a time: the session is English.
    assert!(shown(&browser, "#invalid [lang='en']").await);
    assert!(!shown(&browser, "#invalid [lang='ko']").await);
    screenshot(&browser, desktop.artifacts.join("bridge-invalid-en.png")).await;

    // After a forward, going back finds the page without the code.
    land(&browser, &page, "code=secret-code&state=s").await;
    browser.back().await.expect("back");
    let back = browser.current_url().await.expect("url").to_string();
    assert!(
        !back.contains("secret-code"),
        "the history keeps no code: {back}"
    );
    browser.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bridge_page_speaks_korean_to_a_korean_browser() {
    let desktop = Desktop::start(
        "bridge-page-ko",
        DesktopOptions {
            lang: "ko_KR.UTF-8".into(),
            webdriver: false,
            ..DesktopOptions::default()
        },
    );
    let site = BridgeSite::start();
    let engine = PageBrowser::start(&desktop);
    let browser = engine.open().await;
    land(&browser, &site.page(false), "state=only").await;
    let languages = browser
        .execute(
            "return [navigator.language, navigator.languages, document.documentElement.lang];",
            vec![],
        )
        .await
        .expect("script");
    assert!(
        shown(&browser, "#invalid [lang='ko']").await,
        "Korean shown: {languages}"
    );
    assert!(
        !shown(&browser, "#invalid [lang='en']").await,
        "English hidden"
    );
    screenshot(&browser, desktop.artifacts.join("bridge-invalid-ko.png")).await;
    browser.close().await.expect("close");
}
