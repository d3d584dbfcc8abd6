//! The test rig: the Kakao emulator (a confidential client app), the server
//! on a loopback port over a fresh database, and an HTTP client that plays
//! the app.
//!
//! Every test runs twice, on SQLite and on PostgreSQL ([`both!`]). The
//! PostgreSQL run needs `KDS_TEST_POSTGRES_URL`, a server's admin URL
//! (`scripts/test-server-postgres.sh` starts one from Debian's packages on a
//! free loopback port with a fresh data directory, and sets it); each test
//! gets a database of its own. Without the variable the PostgreSQL runs say
//! so and pass, unless `KDS_REQUIRE_POSTGRES=1` (set by the test script, so
//! CI cannot skip them).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kakao_desk_core::clock::{Clock, ManualClock, SystemClock};
use kakao_desk_core::kakao::ClientOptions;
use kakao_desk_server::Server;
use kakao_desk_server::config::{Settings, parse_settings};
use kakao_emulator::{EmulatorConfig, RunningEmulator};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The emulated app's client secret.
pub const CLIENT_SECRET: &str = "emulated-client-secret";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body on both databases: `both!(name, |backend| body)`.
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() -> $crate::rig::TestResult {
                ($body)($crate::rig::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() -> $crate::rig::TestResult {
                if !$crate::rig::postgres_available() {
                    return Ok(());
                }
                ($body)($crate::rig::Backend::Postgres).await
            }
        }
    };
}
pub(crate) use both;

/// Whether the PostgreSQL runs can run; panics when they must and cannot.
pub fn postgres_available() -> bool {
    if std::env::var_os("KDS_TEST_POSTGRES_URL").is_some() {
        return true;
    }
    assert!(
        std::env::var_os("KDS_REQUIRE_POSTGRES").is_none(),
        "KDS_REQUIRE_POSTGRES is set but KDS_TEST_POSTGRES_URL is not"
    );
    eprintln!(
        "KDS_TEST_POSTGRES_URL unset: skipping the PostgreSQL run (scripts/test-server-postgres.sh runs it)"
    );
    false
}

/// A fresh database URL for one test.
pub async fn fresh_database(backend: Backend, dir: &std::path::Path) -> TestResult<String> {
    match backend {
        Backend::Sqlite => Ok(format!("sqlite:{}", dir.join("server.db").display())),
        Backend::Postgres => {
            let admin = std::env::var("KDS_TEST_POSTGRES_URL")?;
            let (client, connection) =
                tokio_postgres::connect(&admin, tokio_postgres::NoTls).await?;
            let driver = tokio::spawn(connection);
            let mut name = [0u8; 8];
            getrandom::fill(&mut name)?;
            let name: String = name.iter().map(|b| format!("{b:02x}")).collect();
            let name = format!("kds_test_{name}");
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .await?;
            drop(client);
            let _ = driver.await;
            let mut url: url::Url = admin.parse()?;
            url.set_path(&format!("/{name}"));
            Ok(url.to_string())
        }
    }
}

/// How a rig is set up.
pub struct Setup {
    pub backend: Backend,
    pub emulator: EmulatorConfig,
    /// Extra server flags.
    pub flags: Vec<String>,
    /// `Some`: the server's clock (the emulator keeps the system clock).
    pub clock: Option<Arc<ManualClock>>,
}

impl Setup {
    pub fn new(backend: Backend) -> Self {
        let emulator = EmulatorConfig {
            client_secret: Some(CLIENT_SECRET.to_owned()),
            ..EmulatorConfig::default()
        };
        Self {
            backend,
            emulator,
            flags: vec!["--rate-limit".into(), "0".into()],
            clock: None,
        }
    }
}

/// A running emulator + server pair.
pub struct Rig {
    pub emulator: RunningEmulator,
    pub server: Server,
    pub base: String,
    pub http: reqwest::Client,
    pub settings: Settings,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    serving: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// What the app holds after the browser step: the code and the values it
/// was issued with.
pub struct Grant {
    pub code: String,
    pub verifier: String,
    pub nonce: String,
    pub redirect_uri: String,
}

impl Grant {
    pub fn body(&self) -> Value {
        serde_json::json!({
            "code": self.code,
            "code_verifier": self.verifier,
            "redirect_uri": self.redirect_uri,
            "nonce": self.nonce,
        })
    }
}

fn random(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("random");
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

impl Rig {
    pub async fn start(backend: Backend) -> TestResult<Self> {
        Self::with(Setup::new(backend)).await
    }

    pub async fn with(setup: Setup) -> TestResult<Self> {
        let emulator = kakao_emulator::start(setup.emulator).await?;
        let dir = tempfile::tempdir()?;
        let database = fresh_database(setup.backend, dir.path()).await?;
        let secret_file = dir.path().join("client-secret");
        std::fs::write(&secret_file, format!("{CLIENT_SECRET}\n"))?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let key_file = dir.path().join("sealing.key");
        kakao_desk_server::seal::SealingKey::read_or_create(&key_file)?;
        let mut args: Vec<String> = vec![
            "kakao-desk-server".into(),
            "--kakao-client-id".into(),
            emulator.client_id().into(),
            "--kakao-client-secret-file".into(),
            secret_file.display().to_string(),
            "--kakao-auth-url".into(),
            emulator.base_url().into(),
            "--kakao-api-url".into(),
            emulator.base_url().into(),
            "--database-url".into(),
            database,
            "--sealing-key-file".into(),
            key_file.display().to_string(),
            // The URL the app reaches it at: its tokens' issuer.
            "--public-url".into(),
            base.clone(),
            "--listen".into(),
            "127.0.0.1:0".into(),
        ];
        args.extend(setup.flags);
        let settings = parse_settings(args.into_iter().map(std::ffi::OsString::from).collect())?;
        let clock: Arc<dyn Clock> = match setup.clock {
            Some(clock) => clock,
            None => Arc::new(SystemClock),
        };
        let options = ClientOptions {
            retry_delay: Duration::from_millis(10),
            retry_jitter: Duration::from_millis(10),
            ..ClientOptions::default()
        };
        let server = Server::with_clock(&settings, clock, options).await?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(server.clone().serve(listener, async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            emulator,
            server,
            base,
            http: http(),
            settings,
            _dir: dir,
            stop: Some(stop),
            serving: Some(serving),
        })
    }

    /// A second server instance on the same database and sealing key (as
    /// behind a load balancer); its base URL. It stops with the test.
    pub async fn second_instance(&self) -> TestResult<String> {
        let server = Server::new(&self.settings).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        tokio::spawn(server.serve(listener, std::future::pending()));
        Ok(base)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Plays the browser: authorize with PKCE, state and nonce as the app
    /// does, `user` consenting at once; returns the code and its values.
    pub async fn grant(&self, user: i64) -> TestResult<Grant> {
        grant_from(&self.http, &self.emulator, user).await
    }

    /// `POST path` with a JSON body; (status, body).
    pub async fn post(&self, path: &str, body: &Value) -> TestResult<(u16, Value)> {
        let response = self.http.post(self.url(path)).json(body).send().await?;
        read(response).await
    }

    /// `POST path` with each body at once, each from its own task; the
    /// answers in the order of `bodies`.
    pub async fn post_all(&self, path: &str, bodies: Vec<Value>) -> TestResult<Vec<(u16, Value)>> {
        let tasks: Vec<_> = bodies
            .into_iter()
            .map(|body| {
                let (http, url) = (self.http.clone(), self.url(path));
                tokio::spawn(async move { read(http.post(url).json(&body).send().await?).await })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await??);
        }
        Ok(answers)
    }

    /// `GET path` with each token at once; the answers in order.
    pub async fn get_all(&self, path: &str, tokens: Vec<String>) -> TestResult<Vec<(u16, Value)>> {
        let tasks: Vec<_> = tokens
            .into_iter()
            .map(|token| {
                let (http, url) = (self.http.clone(), self.url(path));
                tokio::spawn(
                    async move { read(http.get(url).bearer_auth(token).send().await?).await },
                )
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await??);
        }
        Ok(answers)
    }

    /// A request with a bearer token; (status, body).
    pub async fn authed(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> TestResult<(u16, Value)> {
        let response = self
            .http
            .request(method, self.url(path))
            .bearer_auth(token)
            .send()
            .await?;
        read(response).await
    }

    /// Signs `user` in through the server; the answer's body (asserted 200).
    pub async fn login(&self, user: i64) -> TestResult<Value> {
        let grant = self.grant(user).await?;
        let (status, body) = self.post("/v1/auth/kakao", &grant.body()).await?;
        assert_eq!(status, 200, "login of {user}: {body}");
        Ok(body)
    }

    pub async fn refresh(&self, token: &str) -> TestResult<(u16, Value)> {
        self.post(
            "/v1/auth/refresh",
            &serde_json::json!({ "refresh_token": token }),
        )
        .await
    }

    /// Requests to `path` the emulator answered with `status`.
    pub fn kakao_calls(&self, path: &str, status: u16) -> usize {
        self.emulator
            .requests()
            .to_path(path)
            .iter()
            .filter(|r| r.status == status)
            .count()
    }

    /// Kakao refresh grants the emulator answered 200.
    pub fn kakao_refreshes(&self) -> usize {
        self.emulator
            .requests()
            .to_path("/oauth/token")
            .iter()
            .filter(|r| r.status == 200 && r.param("grant_type") == Some("refresh_token"))
            .count()
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(serving) = self.serving.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), serving).await;
        }
        self.emulator.shutdown().await;
    }
}

/// Plays the browser for `user` (auto-consent): authorize with PKCE, `state`
/// and `nonce` as the app does; the code and the values it was issued with.
pub async fn grant_from(
    http: &reqwest::Client,
    emulator: &RunningEmulator,
    user: i64,
) -> TestResult<Grant> {
    emulator.set_auto_consent(Some(user))?;
    let verifier = random(48);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let nonce = random(16);
    let state = random(16);
    let redirect_uri = emulator.bridge_redirect_uri();
    let mut url = url::Url::parse(&emulator.url("/oauth/authorize"))?;
    url.query_pairs_mut()
        .append_pair("client_id", emulator.client_id())
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let response = http.get(url).send().await?;
    assert_eq!(response.status(), 302, "auto-consent redirects at once");
    let location = response
        .headers()
        .get("location")
        .ok_or("a Location")?
        .to_str()?
        .to_owned();
    let location = url::Url::parse(&location)?;
    let query = |name: &str| {
        location
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(query("state").as_deref(), Some(state.as_str()));
    Ok(Grant {
        code: query("code").ok_or("a code")?,
        verifier,
        nonce,
        redirect_uri,
    })
}

async fn read(response: reqwest::Response) -> TestResult<(u16, Value)> {
    let status = response.status().as_u16();
    let text = response.text().await?;
    let body = serde_json::from_str(&text).map_err(|e| format!("{status} {text:?}: {e}"))?;
    Ok((status, body))
}

/// `body["code"]`, for error answers.
pub fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("")
}

/// `body[field]` as a string.
pub fn text<'a>(body: &'a Value, field: &str) -> &'a str {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {body}"))
}
