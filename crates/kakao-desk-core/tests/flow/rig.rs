//! The one rig of the flow tests: a real emulator on a loopback socket, a
//! [`KakaoLogin`] on a temporary data directory with a recording browser, and
//! clocks that move together.

use std::collections::HashMap;
use std::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, UNIX_EPOCH};

use kakao_desk_core::Language;
use kakao_desk_core::browser::{Browser, BrowserError};
use kakao_desk_core::cache::ProfileCache;
use kakao_desk_core::callback::{DeepLink, check_deep_link};
use kakao_desk_core::clock::ManualClock;
use kakao_desk_core::config::{Config, Resolution};
use kakao_desk_core::kakao::ClientOptions;
use kakao_desk_core::login::{KakaoLogin, LoginAttempt, LoginError, LoginParts};
use kakao_desk_core::profile::PublicProfile;
use kakao_desk_core::secret::{SecretUrl, VaultKey};
use kakao_desk_core::session::{SessionRecord, SessionSet};
use kakao_desk_core::vault::{FileVaultStorage, KeySource, MemoryKeySource, Vault};
use kakao_emulator::{
    Clock, DEFAULT_BRIDGE_SCHEME, EmulatorConfig, RecordedRequest, RunningEmulator, fixture_ids,
};
use tempfile::TempDir;
use tokio::task::JoinHandle;
use url::Url;

/// What a test returns: `?` on any step that must work.
pub type TestResult<T = ()> = Result<T, Box<dyn Error + Send + Sync>>;

/// A fixed start instant, so lifetimes are exact.
pub const T0: u64 = 1_763_900_000;
/// The app identifier of the tests.
pub const APP_ID: &str = "dev.kakaodesk.desktop";
/// The deep-link scheme the emulator's bridge page forwards to.
pub const SCHEME: &str = DEFAULT_BRIDGE_SCHEME;
/// The vault key, the same across "restarts" of the app.
pub const VAULT_KEY: [u8; 32] = [0x5a; 32];
/// The emulator's auto-consent user: a 19-digit id.
pub const NINETEEN: &str = "1376016924426111111";

/// How the emulator and the client are set up.
#[derive(Clone)]
pub struct Setup {
    pub emulator: EmulatorConfig,
    pub client: ClientOptions,
    /// Extra or overriding configuration variables.
    pub env: Vec<(&'static str, String)>,
    /// Keep the app's data here instead of in a temporary directory.
    pub data_dir: Option<PathBuf>,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            emulator: EmulatorConfig {
                auto_consent: Some(fixture_ids::NINETEEN_DIGIT_ID),
                clock: Clock::fixed(UNIX_EPOCH + Duration::from_secs(T0)),
                ..EmulatorConfig::default()
            },
            client: ClientOptions {
                timeout: Duration::from_secs(5),
                connect_timeout: Duration::from_secs(5),
                retry_delay: Duration::ZERO,
                retry_jitter: Duration::ZERO,
            },
            env: Vec::new(),
            data_dir: None,
        }
    }
}

impl Setup {
    /// Loopback mode on `port`, registered with the emulator.
    pub fn loopback(port: u16) -> (Self, String) {
        let redirect = format!("http://127.0.0.1:{port}/oauth/callback");
        let mut setup = Self::default();
        setup.emulator.redirect_uris = vec![redirect.clone()];
        setup.env.push(("KAKAO_REDIRECT_URI", redirect.clone()));
        setup
            .env
            .push(("KAKAO_REDIRECT_MODE", "loopback".to_owned()));
        (setup, redirect)
    }
}

/// The system browser, recorded: every URL the login would have opened.
#[derive(Debug, Clone, Default)]
pub struct RecordingBrowser(Arc<Mutex<BrowserLog>>);

#[derive(Debug, Default)]
struct BrowserLog {
    opened: Vec<Url>,
    broken: bool,
}

impl RecordingBrowser {
    /// The URL opened last.
    pub fn last(&self) -> Option<Url> {
        self.log().opened.last().cloned()
    }

    /// How many times a URL was opened.
    pub fn opened(&self) -> usize {
        self.log().opened.len()
    }

    /// Makes every later open fail, as on a desktop with no browser.
    pub fn break_it(&self) {
        self.log().broken = true;
    }

    fn log(&self) -> std::sync::MutexGuard<'_, BrowserLog> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Browser for RecordingBrowser {
    fn open(&self, url: &SecretUrl) -> Result<(), BrowserError> {
        let mut log = self.log();
        if log.broken {
            return Err(BrowserError::new("no browser on this desktop"));
        }
        log.opened.push(url.secret().clone());
        Ok(())
    }
}

/// A started attempt and the authorize URL the browser was given.
pub struct Begun {
    pub attempt: LoginAttempt,
    pub authorize_url: Url,
}

/// A running emulator, a login on a temporary data directory, and the clock
/// both share.
pub struct Rig {
    pub emulator: RunningEmulator,
    pub clock: Arc<ManualClock>,
    dir: DataDir,
    pub config: Config,
    pub client: ClientOptions,
    pub browser: RecordingBrowser,
    pub login: Arc<KakaoLogin>,
}

impl Rig {
    /// The default setup: bridge mode, OIDC on, auto-consent.
    pub async fn new() -> TestResult<Self> {
        Self::with(Setup::default()).await
    }

    pub async fn with(setup: Setup) -> TestResult<Self> {
        let emulator = kakao_emulator::start(setup.emulator).await?;
        let mut env: HashMap<&str, String> = HashMap::from([
            ("KAKAO_CLIENT_ID", emulator.client_id().to_owned()),
            ("KAKAO_REDIRECT_URI", emulator.bridge_redirect_uri()),
            ("KAKAO_REDIRECT_MODE", "bridge".to_owned()),
            ("KAKAO_AUTH_BASE_URL", emulator.base_url().to_owned()),
            ("KAKAO_API_BASE_URL", emulator.base_url().to_owned()),
        ]);
        env.extend(setup.env);
        let config = match Config::resolve_layers(|name| env.get(name).cloned(), |_| None)? {
            Resolution::Kakao(config) => *config,
            other => {
                return Err(format!("the test configuration must name an app: {other:?}").into());
            }
        };
        let clock = Arc::new(ManualClock::new(UNIX_EPOCH + Duration::from_secs(T0)));
        let dir = match setup.data_dir {
            Some(path) => DataDir::Kept(path),
            None => DataDir::Temporary(tempfile::tempdir()?),
        };
        let browser = RecordingBrowser::default();
        let login = open_login(
            dir.path(),
            &config,
            &clock,
            setup.client,
            &browser,
            Box::new(MemoryKeySource::with_key(VAULT_KEY)),
        )?;
        Ok(Self {
            emulator,
            clock,
            dir,
            config,
            client: setup.client,
            browser,
            login: Arc::new(login),
        })
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn vault_dir(&self) -> PathBuf {
        self.data_dir().join("vault")
    }

    /// A fresh login on the same data directory: an app restart.
    pub fn open_login(&self) -> TestResult<KakaoLogin> {
        self.open_login_with(Box::new(MemoryKeySource::with_key(VAULT_KEY)))
    }

    /// A fresh login on the same data directory with another key source.
    pub fn open_login_with(&self, keys: Box<dyn KeySource>) -> TestResult<KakaoLogin> {
        open_login(
            self.dir.path(),
            &self.config,
            &self.clock,
            self.client,
            &self.browser,
            keys,
        )
    }

    /// Moves both clocks.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.emulator.clock().advance(by);
    }

    /// The session in use as sealed in the vault, read directly (tests
    /// only).
    pub fn stored_record(&self) -> TestResult<Option<SessionRecord>> {
        let set = self.stored_set()?;
        Ok(set
            .sessions
            .into_iter()
            .find(|r| Some(r.kakao_id) == set.active))
    }

    /// Every session sealed in the vault, read directly (tests only).
    pub fn stored_set(&self) -> TestResult<SessionSet> {
        match vault_in(&self.vault_dir()).load()? {
            Some(bytes) => Ok(SessionSet::from_bytes(&bytes)?.0),
            None => Ok(SessionSet::default()),
        }
    }

    /// Requests that reached `path`.
    pub fn requests(&self, path: &str) -> Vec<RecordedRequest> {
        self.emulator.requests().to_path(path)
    }

    /// Token requests of one grant type.
    pub fn grants(&self, grant: &str) -> Vec<RecordedRequest> {
        self.requests("/oauth/token")
            .into_iter()
            .filter(|r| r.param("grant_type") == Some(grant))
            .collect()
    }

    /// Begins a login attempt on `login`; returns it with the URL the
    /// browser was given.
    pub async fn begin_on(&self, login: &KakaoLogin) -> TestResult<Begun> {
        let before = self.browser.opened();
        let attempt = login.begin_login(&Default::default()).await?;
        assert_eq!(
            self.browser.opened(),
            before + 1,
            "begin_login opens the system browser once"
        );
        let authorize_url = self.browser.last().ok_or("no URL was opened")?;
        Ok(Begun {
            attempt,
            authorize_url,
        })
    }

    /// Begins a login attempt.
    pub async fn begin(&self) -> TestResult<Begun> {
        self.begin_on(&self.login).await
    }

    /// `GET` the authorize URL without following redirects; the `Location`.
    pub async fn authorize(&self, url: &Url) -> TestResult<String> {
        let response = http()?.get(url.as_str()).send().await?;
        assert_eq!(response.status(), 302, "auto-consent redirects at once");
        Ok(response
            .headers()
            .get("location")
            .ok_or("a redirect has a Location")?
            .to_str()?
            .to_owned())
    }

    /// Plays the browser: begins a login, follows authorize, and returns the
    /// attempt with the deep link the bridge page would open.
    pub async fn browser_callback(&self) -> TestResult<(LoginAttempt, String)> {
        let begun = self.begin().await?;
        let location = self.authorize(&begun.authorize_url).await?;
        Ok((begun.attempt, bridge_link(&location)))
    }

    /// Waits for `attempt` in the background, as the shell does.
    pub fn wait(&self, attempt: LoginAttempt) -> JoinHandle<Result<PublicProfile, LoginError>> {
        let login = self.login.clone();
        tokio::spawn(async move { login.await_callback(attempt, Language::En, || {}).await })
    }

    /// Hands `link` to the login and returns how `attempt` ended: the
    /// refusal of a link the attempt did not take (the attempt is then
    /// withdrawn), or the attempt's own outcome.
    pub async fn finish(
        &self,
        attempt: LoginAttempt,
        link: &str,
    ) -> TestResult<Result<PublicProfile, LoginError>> {
        let waiting = self.wait(attempt);
        if let Err(refusal) = self.login.complete_login(&deep_link(link)?) {
            self.login.cancel_login();
            waiting.await?.err();
            return Ok(Err(refusal));
        }
        Ok(waiting.await?)
    }

    /// A full login.
    pub async fn log_in(&self) -> TestResult<PublicProfile> {
        let (attempt, link) = self.browser_callback().await?;
        Ok(self.finish(attempt, &link).await??)
    }
}

/// The app's vault over the slot files in `dir`, with the rig's key and
/// app id: what an app run on that directory would open.
pub fn vault_in(dir: &Path) -> Vault {
    Vault::new(
        APP_ID,
        VaultKey::from_bytes(VAULT_KEY),
        Box::new(FileVaultStorage::new(dir)),
    )
}

/// Where a rig keeps the app's data.
enum DataDir {
    Temporary(TempDir),
    Kept(PathBuf),
}

impl DataDir {
    fn path(&self) -> &Path {
        match self {
            Self::Temporary(dir) => dir.path(),
            Self::Kept(path) => path,
        }
    }
}

/// A login on `dir`: the profile cache in `profile.db`, the vault slots in
/// `vault/`, the vault key from `keys`.
fn open_login(
    dir: &Path,
    config: &Config,
    clock: &Arc<ManualClock>,
    client: ClientOptions,
    browser: &RecordingBrowser,
    keys: Box<dyn KeySource>,
) -> TestResult<KakaoLogin> {
    let cache = ProfileCache::open(&dir.join("profile.db"))?;
    std::fs::create_dir_all(dir.join("vault"))?;
    let mut parts = LoginParts::new(
        config.clone(),
        APP_ID,
        clock.clone(),
        cache,
        keys,
        Box::new(FileVaultStorage::new(dir.join("vault"))),
        Box::new(browser.clone()),
    );
    parts.client_options = client;
    Ok(KakaoLogin::open(parts)?)
}

/// A callback URL of the app's scheme as the shell's link intake accepts it.
pub fn deep_link(raw: &str) -> TestResult<DeepLink> {
    Ok(check_deep_link(raw, SCHEME)?)
}

/// What the bridge page does with Kakao's redirect: forward its query to the
/// app's scheme.
pub fn bridge_link(location: &str) -> String {
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    format!("{SCHEME}://oauth/callback?{query}")
}

/// A callback of the app's scheme for `state` with the given extra query.
pub fn link_for(state: &str, params: &str) -> String {
    format!("{SCHEME}://oauth/callback?{params}&state={state}")
}

/// One query parameter of a URL.
pub fn query(url: &str, name: &str) -> Option<String> {
    Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A plain HTTP client with redirects off, playing the browser.
pub fn http() -> TestResult<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// A free loopback port (there is a tiny race until it is bound again).
pub async fn free_port() -> TestResult<u16> {
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    Ok(probe.local_addr()?.port())
}

/// Tracing output (every level) written to a file, for leak checks.
#[derive(Clone)]
pub struct LogFile(Arc<Mutex<std::fs::File>>);

impl LogFile {
    /// Makes this process log everything, from every thread, into `path`.
    pub fn install_globally(path: &Path) -> TestResult<()> {
        let file = LogFile(Arc::new(Mutex::new(std::fs::File::create(path)?)));
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || file.clone())
            .try_init()?;
        Ok(())
    }
}

impl Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .flush()
    }
}

/// The arguments that make this test binary run one `#[ignore]`d child test
/// (`module::name`) and nothing else.
pub fn child_test(name: &str) -> [&str; 5] {
    [
        "--exact",
        name,
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> TestResult<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    Ok(out)
}
