//! The app's login core (`kakao_desk_core::login::KakaoLogin`) in backend
//! mode against this server: the browser step as in direct mode, the code
//! to the server, the service's tokens in the vault, the profile cached,
//! restart offline, refresh through the server, logout and deletion through
//! it, and no Kakao token anywhere in the app's files.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use kakao_desk_core::browser::{Browser, BrowserError};
use kakao_desk_core::cache::ProfileCache;
use kakao_desk_core::callback::check_deep_link;
use kakao_desk_core::clock::ManualClock;
use kakao_desk_core::config::{Config, Resolution};
use kakao_desk_core::kakao::ClientOptions;
use kakao_desk_core::login::{KakaoLogin, LoginParts};
use kakao_desk_core::secret::SecretUrl;
use kakao_desk_core::vault::{FileVaultStorage, MemoryKeySource};
use kakao_desk_core::{ErrorCode, Language};
use kakao_desk_server::store::Store;
use kakao_emulator::DEFAULT_BRIDGE_SCHEME;
use kakao_emulator::fixture_ids::{LUNAR_LEAP_MONTH, SOLAR_BIRTHDAY_WITH_YEAR};

use crate::rig::{Backend, Rig, Setup, TestResult, both, http};

#[derive(Debug, Clone, Default)]
struct Opened(Arc<Mutex<Vec<url::Url>>>);

impl Browser for Opened {
    fn open(&self, url: &SecretUrl) -> Result<(), BrowserError> {
        self.0.lock().expect("lock").push(url.secret().clone());
        Ok(())
    }
}

struct App {
    login: Arc<KakaoLogin>,
    browser: Opened,
}

fn config(rig: &Rig) -> TestResult<Config> {
    config_with(rig, "kakao-desk")
}

fn config_with(rig: &Rig, audience: &str) -> TestResult<Config> {
    let env = [
        ("KAKAO_CLIENT_ID", rig.emulator.client_id().to_owned()),
        ("KAKAO_REDIRECT_URI", rig.emulator.bridge_redirect_uri()),
        ("KAKAO_REDIRECT_MODE", "bridge".to_owned()),
        ("KAKAO_AUTH_BASE_URL", rig.emulator.base_url().to_owned()),
        ("KAKAO_API_BASE_URL", rig.emulator.base_url().to_owned()),
        ("KAKAO_BACKEND_URL", rig.base.clone()),
        ("KAKAO_BACKEND_AUDIENCE", audience.to_owned()),
    ];
    let lookup = |name: &str| env.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
    match Config::resolve_layers(lookup, |_| None)? {
        Resolution::Kakao(config) => Ok(*config),
        other => Err(format!("an app configuration, not {other:?}").into()),
    }
}

fn open_app(rig: &Rig, dir: &std::path::Path, clock: &Arc<ManualClock>) -> TestResult<App> {
    open_app_with(config(rig)?, dir, clock)
}

fn open_app_with(
    config: Config,
    dir: &std::path::Path,
    clock: &Arc<ManualClock>,
) -> TestResult<App> {
    let browser = Opened::default();
    std::fs::create_dir_all(dir.join("vault"))?;
    let mut parts = LoginParts::new(
        config,
        "dev.kakaodesk.desktop",
        clock.clone(),
        ProfileCache::open(&dir.join("profile.db"))?,
        Box::new(MemoryKeySource::with_key([0x5a; 32])),
        Box::new(FileVaultStorage::new(dir.join("vault"))),
        Box::new(browser.clone()),
    );
    parts.client_options = ClientOptions {
        retry_delay: Duration::ZERO,
        retry_jitter: Duration::ZERO,
        ..ClientOptions::default()
    };
    Ok(App {
        login: Arc::new(KakaoLogin::open(parts)?),
        browser,
    })
}

/// Presses the login button and plays the browser and the bridge page.
async fn log_in(
    rig: &Rig,
    app: &App,
    user: i64,
) -> TestResult<Result<kakao_desk_core::profile::PublicProfile, kakao_desk_core::login::LoginError>>
{
    rig.emulator.set_auto_consent(Some(user))?;
    let attempt = app.login.begin_login(&Default::default()).await?;
    let url = app
        .browser
        .0
        .lock()
        .expect("lock")
        .last()
        .cloned()
        .ok_or("opened")?;
    let response = http().get(url.as_str()).send().await?;
    let location = response.headers()["location"].to_str()?.to_owned();
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let link = check_deep_link(
        &format!("{DEFAULT_BRIDGE_SCHEME}://oauth/callback?{query}"),
        DEFAULT_BRIDGE_SCHEME,
    )?;
    let login = app.login.clone();
    let waiting =
        tokio::spawn(async move { login.await_callback(attempt, Language::En, || {}).await });
    app.login.complete_login(&link)?;
    Ok(waiting.await?)
}

/// Every byte of every file under `dir`.
fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                stack.push(entry.path());
            }
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path.display().to_string(), bytes));
        }
    }
    out
}

both!(
    the_app_signs_in_refreshes_and_signs_out_through_the_server,
    |backend: Backend| async move {
        let clock = Arc::new(ManualClock::new(SystemTime::now()));
        let mut setup = Setup::new(backend);
        setup.clock = Some(clock.clone());
        let rig = Rig::with(setup).await?;
        let dir = tempfile::tempdir()?;
        let app = open_app(&rig, dir.path(), &clock)?;

        let profile = log_in(&rig, &app, SOLAR_BIRTHDAY_WITH_YEAR).await??;
        assert_eq!(profile.nickname.as_deref(), Some("박양력"));
        assert_eq!(
            profile.birthday.as_ref().map(|b| b.date.as_str()),
            Some("1990-11-30")
        );
        assert!(
            profile.thumbnail_data_url.is_some(),
            "the avatar bytes are cached for offline"
        );
        let store = &rig.server.state().store;
        assert!(
            store
                .user_by_kakao_id(SOLAR_BIRTHDAY_WITH_YEAR)
                .await?
                .is_some(),
            "the server made the user"
        );
        assert_eq!(
            rig.kakao_calls("/oauth/token", 200),
            1,
            "one code exchange, by the server"
        );
        assert!(
            app.login.consent_offers().is_empty(),
            "no additional consent in backend mode"
        );

        // Restart: signed in from the vault and the cache, with no network.
        drop(app);
        let app = open_app(&rig, dir.path(), &clock)?;
        let restored = app.login.restore_session().await?.ok_or("restored")?;
        assert_eq!(restored.nickname.as_deref(), Some("박양력"));
        app.login.verify_session().await?;
        assert!(!app.login.is_offline());

        // Eleven minutes on: the service's access token has expired and the
        // app refreshes it through the server (which rotates the refresh
        // token); the profile then comes from the server.
        clock.advance(Duration::from_secs(11 * 60));
        assert!(app.login.refresh_if_needed().await?, "refreshed");
        // And again: the vault holds the rotated refresh token (the first
        // one again would be reuse, which would end the session).
        clock.advance(Duration::from_secs(11 * 60));
        assert!(app.login.refresh_if_needed().await?, "refreshed twice");
        app.login.verify_session().await?;
        assert!(app.login.is_signed_in(), "the session lives on");
        let fresh = app.login.refresh_profile().await?;
        assert_eq!(fresh.nickname.as_deref(), Some("박양력"));
        assert_eq!(
            rig.kakao_refreshes(),
            0,
            "the service's refresh is not Kakao's: Kakao's token is still good"
        );

        // Logout: the server ends the session and logs out at Kakao.
        app.login.logout().await?;
        assert!(!app.login.is_signed_in());
        assert_eq!(rig.kakao_calls("/v1/user/logout", 200), 1);

        // Nothing Kakao issued is in the app's files: the code, Kakao's tokens
        // and the id_token stayed between the browser, the server and Kakao.
        let secrets = rig.emulator.issued_secrets();
        assert!(secrets.len() >= 3, "{}", secrets.len());
        let files = files(dir.path());
        assert!(files.len() >= 2, "the cache and the vault");
        for (path, bytes) in &files {
            for secret in &secrets {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "a Kakao secret is in {path}"
                );
            }
        }
        rig.stop().await;
        Ok(())
    }
);

both!(
    the_apps_delete_reaches_the_server_and_its_errors_are_the_apps,
    |backend: Backend| async move {
        let clock = Arc::new(ManualClock::new(SystemTime::now()));
        let mut setup = Setup::new(backend);
        setup.clock = Some(clock.clone());
        let rig = Rig::with(setup).await?;
        let dir = tempfile::tempdir()?;
        let app = open_app(&rig, dir.path(), &clock)?;
        log_in(&rig, &app, LUNAR_LEAP_MONTH).await??;
        app.login.unlink().await?;
        assert!(!app.login.is_signed_in());
        let store = &rig.server.state().store;
        assert!(
            store.user_by_kakao_id(LUNAR_LEAP_MONTH).await?.is_none(),
            "deleted on the server"
        );
        assert_eq!(rig.kakao_calls("/v1/user/unlink", 200), 1);

        // The server's email conflict is the app's account_conflict.
        store
            .insert_user("email", "solar.park@example.com", true, 1)
            .await?;
        let refused = log_in(&rig, &app, SOLAR_BIRTHDAY_WITH_YEAR).await?;
        assert_eq!(
            refused.err().map(|e| e.code()),
            Some(ErrorCode::AccountConflict)
        );
        assert!(!app.login.is_signed_in());

        // A session the server ended (reuse elsewhere) signs the app out at its
        // next refresh, keeping the cached profile.
        log_in(&rig, &app, LUNAR_LEAP_MONTH).await??;
        let user = store
            .user_by_kakao_id(LUNAR_LEAP_MONTH)
            .await?
            .ok_or("user")?;
        assert!(store.delete_user(user.id).await?);
        // With a live access token: the server's `session_ended` leads to one
        // refresh, which it refuses, and the app signs out as the server has.
        let error = app.login.verify_session().await.err();
        assert_eq!(error.map(|e| e.code()), Some(ErrorCode::SessionExpired));
        assert!(!app.login.is_signed_in(), "signed out, as the server has");
        rig.stop().await;
        Ok(())
    }
);

both!(
    with_the_server_down_the_app_shows_the_cached_profile_offline,
    |backend: Backend| async move {
        let clock = Arc::new(ManualClock::new(SystemTime::now()));
        let mut setup = Setup::new(backend);
        setup.clock = Some(clock.clone());
        let rig = Rig::with(setup).await?;
        let dir = tempfile::tempdir()?;
        let app = open_app(&rig, dir.path(), &clock)?;
        log_in(&rig, &app, SOLAR_BIRTHDAY_WITH_YEAR).await??;
        rig.stop().await;
        app.login.verify_session().await?;
        assert!(app.login.is_signed_in(), "the session is kept");
        assert!(app.login.is_offline(), "the offline badge");
        let error = app.login.refresh_profile().await.err();
        assert_eq!(error.map(|e| e.code()), Some(ErrorCode::ServerUnavailable));
        Ok(())
    }
);

both!(
    the_configuration_doctor_checks_the_backend,
    |backend: Backend| async move {
        use kakao_desk_core::doctor::{Setup as DoctorSetup, check_online};
        let rig = Rig::start(backend).await?;
        let config = config(&rig)?;
        let setup = DoctorSetup {
            build_kind: "debug".into(),
            identifier: DEFAULT_BRIDGE_SCHEME.into(),
            scheme: DEFAULT_BRIDGE_SCHEME.into(),
            has_demo: false,
            other_redirect_uri: None,
        };
        let ids = |findings: Vec<kakao_desk_core::doctor::Finding>| {
            findings
                .iter()
                .map(|f| f.id())
                .filter(|id| id.starts_with("backend"))
                .collect::<Vec<_>>()
        };
        let found = ids(check_online(&config, &setup, ClientOptions::default()).await);
        assert!(found.is_empty(), "a running server passes: {found:?}");
        let mut elsewhere = config.clone();
        elsewhere.backend = Some(kakao_desk_core::config::BackendConfig {
            url: kakao_desk_core::config::BaseUrl::parse(
                "KAKAO_BACKEND_URL",
                rig.emulator.base_url(),
            )?,
            audience: "kakao-desk".into(),
        });
        let found = ids(check_online(&elsewhere, &setup, ClientOptions::default()).await);
        assert_eq!(
            found,
            vec!["backend_unreachable"],
            "the emulator is no backend"
        );
        rig.stop().await;
        Ok(())
    }
);

both!(
    a_token_for_another_audience_is_refused_as_a_setup_mismatch,
    |backend: Backend| async move {
        let clock = Arc::new(ManualClock::new(SystemTime::now()));
        let rig = Rig::start(backend).await?;
        let dir = tempfile::tempdir()?;
        let app = open_app_with(config_with(&rig, "another-app")?, dir.path(), &clock)?;
        let refused = log_in(&rig, &app, SOLAR_BIRTHDAY_WITH_YEAR).await?;
        assert_eq!(
            refused.err().map(|e| e.code()),
            Some(ErrorCode::ServerConfig),
            "the server's token names kakao-desk, the app expects another-app"
        );
        assert!(!app.login.is_signed_in(), "nothing kept");
        rig.stop().await;
        Ok(())
    }
);
