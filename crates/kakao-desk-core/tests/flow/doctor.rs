//! The configuration doctor against the emulator configured rightly, and
//! wrongly in each way the doctor must name.

use std::collections::HashMap;

use kakao_desk_core::config::{Config, ConfigError, Resolution};
use kakao_desk_core::doctor::{Finding, Report, Setup, check_online};
use kakao_desk_core::kakao::ClientOptions;
use kakao_emulator::{DEFAULT_BRIDGE_SCHEME, EmulatorConfig, RunningEmulator};

use crate::rig::TestResult;

async fn emulator(config: EmulatorConfig) -> TestResult<RunningEmulator> {
    Ok(kakao_emulator::start(config).await?)
}

/// The app's configuration for `emulator` in bridge mode, with `extra`
/// variables on top.
fn resolve(
    emulator: &RunningEmulator,
    extra: &[(&str, String)],
) -> Result<Resolution, ConfigError> {
    let mut vars: HashMap<String, String> = HashMap::from([
        (
            "KAKAO_CLIENT_ID".to_owned(),
            emulator.client_id().to_owned(),
        ),
        (
            "KAKAO_REDIRECT_URI".to_owned(),
            emulator.bridge_redirect_uri(),
        ),
        ("KAKAO_REDIRECT_MODE".to_owned(), "bridge".to_owned()),
        (
            "KAKAO_AUTH_BASE_URL".to_owned(),
            emulator.base_url().to_owned(),
        ),
        (
            "KAKAO_API_BASE_URL".to_owned(),
            emulator.base_url().to_owned(),
        ),
    ]);
    for (k, v) in extra {
        vars.insert((*k).to_owned(), v.clone());
    }
    Config::resolve_layers(move |n| vars.get(n).cloned(), |_| None)
}

fn setup() -> Setup {
    Setup {
        build_kind: "release".into(),
        identifier: DEFAULT_BRIDGE_SCHEME.into(),
        scheme: DEFAULT_BRIDGE_SCHEME.into(),
        has_demo: false,
        other_redirect_uri: None,
    }
}

fn options() -> ClientOptions {
    ClientOptions {
        timeout: std::time::Duration::from_secs(5),
        ..ClientOptions::default()
    }
}

/// The ids of every finding, offline and online.
async fn findings(
    resolution: &Result<Resolution, ConfigError>,
    setup: &Setup,
) -> Vec<&'static str> {
    Report::run(resolution, setup, false, options())
        .await
        .findings
        .iter()
        .map(Finding::id)
        .collect()
}

#[tokio::test]
async fn a_right_configuration_has_no_finding() -> TestResult {
    let emulator = emulator(EmulatorConfig::default()).await?;
    let scopes = ("KAKAO_SCOPES", "profile_nickname,account_email".to_owned());
    let report = Report::run(&resolve(&emulator, &[scopes]), &setup(), false, options()).await;
    assert!(report.online, "the online checks ran");
    assert_eq!(
        report.findings,
        Vec::new(),
        "{}",
        report.render(kakao_desk_core::Language::En)
    );
    // The probes asked like a login, and nobody logged in.
    let authorize = emulator.requests().to_path("/oauth/authorize");
    assert!(
        authorize.len() >= 3,
        "plain, openid and the items: {authorize:?}"
    );
    assert!(
        emulator.requests().to_path("/oauth/token").is_empty(),
        "no code is ever exchanged"
    );
    Ok(())
}

#[tokio::test]
async fn each_console_mistake_is_named() -> TestResult {
    // KOE006: the redirect URI is not registered.
    let right = emulator(EmulatorConfig::default()).await?;
    let unregistered = (
        "KAKAO_REDIRECT_URI",
        format!("{}/kakao/callback/", right.base_url()),
    );
    assert_eq!(
        findings(&resolve(&right, &[unregistered]), &setup()).await,
        ["redirect_not_registered"]
    );
    // KOE007: a logout redirect URI the console does not know; the
    // emulator's own signed-out page is registered and passes.
    let unknown_logout = (
        "KAKAO_LOGOUT_REDIRECT_URI",
        format!("{}/kakao/signed-out/", right.base_url()),
    );
    assert_eq!(
        findings(&resolve(&right, &[unknown_logout]), &setup()).await,
        ["logout_redirect_not_registered"]
    );
    let registered_logout = ("KAKAO_LOGOUT_REDIRECT_URI", right.signed_out_uri());
    assert_eq!(
        findings(&resolve(&right, &[registered_logout]), &setup()).await,
        Vec::<&str>::new()
    );
    // KOE101: a key no app has (32 hex, so no format warning).
    let wrong_key = (
        "KAKAO_CLIENT_ID",
        "ffffffffffffffffffffffffffffffff".to_owned(),
    );
    assert_eq!(
        findings(&resolve(&right, &[wrong_key]), &setup()).await,
        ["unknown_client_id"]
    );
    // KOE205: an item the console has not set up, named one by one.
    let scopes = (
        "KAKAO_SCOPES",
        "profile_nickname,talk_message,friends".to_owned(),
    );
    let report = Report::run(&resolve(&right, &[scopes]), &setup(), false, options()).await;
    assert_eq!(
        report.findings,
        [Finding::ConsentItemsNotSet {
            items: vec!["talk_message".into(), "friends".into()]
        }]
    );
    // A bridge page that forwards to another build's scheme.
    let mut other = setup();
    other.scheme = "com.example.desk".into();
    other.identifier = "com.example.desk".into();
    assert_eq!(
        findings(&resolve(&right, &[]), &other).await,
        ["bridge_wrong_scheme"]
    );
    // A registered redirect URI with nothing behind it.
    let missing = format!("{}/kakao/nothing/", right.base_url());
    right.register_redirect_uri(&missing)?;
    assert_eq!(
        findings(
            &resolve(&right, &[("KAKAO_REDIRECT_URI", missing)]),
            &setup()
        )
        .await,
        ["bridge_page_missing"]
    );
    Ok(())
}

#[tokio::test]
async fn oidc_and_issuer_mistakes_are_named() -> TestResult {
    // OpenID Connect expected (the default) but off in the console.
    let no_oidc = emulator(EmulatorConfig {
        openid: false,
        ..EmulatorConfig::default()
    })
    .await?;
    assert_eq!(
        findings(&resolve(&no_oidc, &[]), &setup()).await,
        ["oidc_off_in_console"]
    );
    let off = ("KAKAO_OIDC", "false".to_owned());
    assert_eq!(
        findings(&resolve(&no_oidc, &[off]), &setup()).await,
        Vec::<&str>::new(),
        "configured off as well: nothing to fix"
    );
    // The auth host names another issuer than the one the app trusts.
    let kakao_issuer = emulator(EmulatorConfig {
        issuer: Some("https://kauth.kakao.com".into()),
        ..EmulatorConfig::default()
    })
    .await?;
    assert_eq!(
        findings(&resolve(&kakao_issuer, &[]), &setup()).await,
        ["issuer_mismatch"]
    );
    let trusted = ("KAKAO_OIDC_ISSUER", "https://kauth.kakao.com".to_owned());
    assert_eq!(
        findings(&resolve(&kakao_issuer, &[trusted]), &setup()).await,
        Vec::<&str>::new(),
        "the issuer the app is told to trust"
    );
    Ok(())
}

#[tokio::test]
async fn an_unreachable_auth_host_is_said_and_nothing_else_is_guessed() -> TestResult {
    let gone = emulator(EmulatorConfig::default()).await?;
    let resolution = resolve(&gone, &[]);
    gone.shutdown().await;
    let Ok(Resolution::Kakao(config)) = &resolution else {
        return Err("a Kakao configuration".into());
    };
    assert_eq!(
        check_online(config, &setup(), options()).await,
        [Finding::AuthHostUnreachable]
    );
    Ok(())
}
