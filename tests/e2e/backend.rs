//! Backend mode end to end: the real app in a real window, its login
//! finished by the backend server (`crates/kakao-desk-server`, in this test
//! process on an SQLite file, with the emulator as the Kakao app). Login,
//! a refresh through the server after the service's access token expired,
//! logout through the server, a restart offline, and no Kakao token in the
//! app's files, its log, or its page.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use kakao_desk_core::clock::ManualClock;
use kakao_desk_core::kakao::ClientOptions;
use kakao_desk_server::Server;
use kakao_desk_server::config::parse_settings;
use kakao_emulator::EmulatorConfig;

use crate::login::{SOLAR_USER, attr, desktop, error_shown, kakao_env, log_in, screen, visible};
use crate::support::{app_scheme, browser_env, click, text_of, wait_for};

struct Backend {
    base: String,
    store: kakao_desk_server::store::Database,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
    database: std::path::PathBuf,
}

async fn backend(
    emulator: &kakao_emulator::RunningEmulator,
    dir: &std::path::Path,
    clock: Arc<ManualClock>,
) -> Backend {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let database = dir.join("server.db");
    let args = [
        "kakao-desk-server",
        "--kakao-client-id",
        emulator.client_id(),
        "--kakao-auth-url",
        emulator.base_url(),
        "--kakao-api-url",
        emulator.base_url(),
        "--database-url",
        &format!("sqlite:{}", database.display()),
        "--public-url",
        &base,
        "--rate-limit",
        "0",
    ]
    .map(std::ffi::OsString::from)
    .to_vec();
    let mut settings = parse_settings(args).expect("settings");
    settings.client_secret_from_file = Some(kakao_desk_core::secret::ClientSecret::new(
        "e2e-client-secret",
    ));
    let server = Server::with_clock(&settings, clock, ClientOptions::default())
        .await
        .expect("the server starts");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let store = server.state().store.clone();
    let serving = tokio::spawn(server.serve(listener, async move {
        let _ = stopped.await;
    }));
    Backend {
        base,
        store,
        stop: Some(stop),
        serving,
        database,
    }
}

impl Backend {
    fn count(&self, sql: &str) -> i64 {
        rusqlite::Connection::open(&self.database)
            .expect("the server's database")
            .query_row(sql, [], |row| row.get(0))
            .expect("a count")
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), self.serving).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn backend_mode_logs_in_refreshes_logs_out_and_restarts_offline_through_the_server() {
    let emulator = kakao_emulator::start(EmulatorConfig {
        bridge_scheme: app_scheme(),
        client_secret: Some("e2e-client-secret".into()),
        auto_consent: Some(SOLAR_USER),
        ..EmulatorConfig::default()
    })
    .await
    .expect("the emulator starts");
    let dir = tempfile::tempdir().expect("dir");
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let backend = backend(&emulator, dir.path(), clock.clone()).await;
    let mut env = kakao_env(&emulator, &emulator.bridge_redirect_uri(), "bridge");
    env.push(("KAKAO_BACKEND_URL".into(), backend.base.clone()));
    env.extend(browser_env("backend", "agree", None));
    let desktop = desktop("backend", "ko_KR.UTF-8", env);

    // Login: the browser step as always; the code goes to the server.
    let app = desktop.open_app(&[]).await;
    log_in(&app).await;
    assert_eq!(
        text_of(&app, "[data-testid='profile-nickname']").await,
        "박양력"
    );
    assert_eq!(
        backend.count("SELECT count(*) FROM users"),
        1,
        "the server made the user"
    );
    let exchanges = emulator.requests().to_path("/oauth/token").len();
    assert_eq!(exchanges, 1, "one code exchange, the server's");
    assert!(
        !visible(&app, "[data-testid='withdraw-consent']").await,
        "no withdrawing at Kakao in backend mode: the app holds no Kakao token"
    );
    desktop.screenshot(&app, "signed-in").await;
    let page = app.source().await.expect("page source");
    app.close().await.expect("close");

    // Eleven minutes later for the server: the service's access token has
    // expired; the restarted app is told so and refreshes through the
    // server, which rotates the refresh token. Kakao is not asked.
    clock.advance(Duration::from_secs(11 * 60));
    let app = desktop.open_app(&[]).await;
    screen(&app, "signed_in").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while backend.count("SELECT count(*) FROM refresh_tokens WHERE used_at IS NOT NULL") == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the app refreshes through the server"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        emulator.requests().to_path("/oauth/token").len(),
        exchanges,
        "the service's refresh is not Kakao's"
    );
    assert!(!visible(&app, "[data-testid='offline-badge']").await);

    // Logout: the server ends the session and logs out at Kakao.
    click(&app, "[data-testid='logout-button']").await;
    screen(&app, "signed_out").await;
    assert_eq!(emulator.requests().to_path("/v1/user/logout").len(), 1);
    assert_eq!(
        backend.count("SELECT count(*) FROM sessions WHERE revoked_at IS NULL"),
        0,
        "no live session on the server"
    );
    assert_eq!(
        backend.count("SELECT count(*) FROM sessions WHERE revoked_reason = 'logout'"),
        1,
        "ended by the logout, not by reuse of a lost refresh token"
    );

    // Signed in again, then a restart with the server gone: the cached
    // profile, with the offline badge.
    log_in(&app).await;
    app.close().await.expect("close");
    backend.stop().await;
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
        "the avatar from the cache"
    );
    wait_for(&app, "[data-testid='offline-badge']:not([hidden])").await;
    desktop.screenshot(&app, "offline").await;
    let page_offline = app.source().await.expect("page source");
    app.close().await.expect("close");

    // No Kakao token, code or id_token anywhere the app keeps or shows
    // things: its data directory, its log files, its pages.
    let secrets = emulator.issued_secrets();
    assert!(secrets.len() >= 6, "two logins' worth: {}", secrets.len());
    let logged = desktop.app_log_files();
    assert!(logged.contains("signed in through the backend"), "{logged}");
    let mut places = vec![
        ("the log".to_owned(), logged.into_bytes()),
        ("the page".to_owned(), page.into_bytes()),
        ("the offline page".to_owned(), page_offline.into_bytes()),
    ];
    let mut stack = vec![desktop.app_data_dir()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                stack.push(entry.path());
            }
        } else if let Ok(bytes) = std::fs::read(&path) {
            places.push((path.display().to_string(), bytes));
        }
    }
    for (place, bytes) in &places {
        for secret in &secrets {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a Kakao secret is in {place}"
            );
        }
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn backend_mode_says_when_the_email_belongs_to_another_account() {
    use kakao_desk_server::store::Store as _;
    let emulator = kakao_emulator::start(EmulatorConfig {
        bridge_scheme: app_scheme(),
        client_secret: Some("e2e-client-secret".into()),
        auto_consent: Some(SOLAR_USER),
        ..EmulatorConfig::default()
    })
    .await
    .expect("the emulator starts");
    let dir = tempfile::tempdir().expect("dir");
    let backend = backend(
        &emulator,
        dir.path(),
        Arc::new(ManualClock::new(SystemTime::now())),
    )
    .await;
    // The fixture user's verified email, registered through email sign-up.
    backend
        .store
        .insert_user("email", "solar.park@example.com", true, 1)
        .await
        .expect("an existing account");
    let mut env = kakao_env(&emulator, &emulator.bridge_redirect_uri(), "bridge");
    env.push(("KAKAO_BACKEND_URL".into(), backend.base.clone()));
    env.extend(browser_env("backend_conflict", "agree", None));
    let desktop = desktop("backend_conflict", "en_US.UTF-8", env);
    let app = desktop.open_app(&[]).await;
    screen(&app, "signed_out").await;
    click(&app, "[data-testid='login-button']").await;
    error_shown(&app, "account_conflict").await;
    screen(&app, "signed_out").await;
    let message = text_of(&app, "[data-testid='error-message']").await;
    assert!(
        message.contains("Sign in the way you first signed up"),
        "{message}"
    );
    desktop.screenshot(&app, "account-conflict").await;
    app.close().await.expect("close");
    backend.stop().await;
    emulator.shutdown().await;
}
