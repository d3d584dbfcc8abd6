//! End-to-end harness: the real app in a real WebKitGTK window, driven through
//! WebDriver.
//!
//! Each [`Desktop`] is one private desktop session made for one test by
//! `scripts/desktop-session.sh`, the headless desktop every test, benchmark
//! and display-less `scripts/run.sh` shares: a fresh HOME with its XDG dirs,
//! Xvfb on a display of its own, a private D-Bus session bus (single-instance
//! hand-off needs one), and gnome-keyring unlocked on it. In it runs
//! tauri-driver on free ports, which starts WebKitWebDriver, which starts the
//! app; the app inherits the session's environment.
//!
//! The session is one process group; dropping the `Desktop` stops it (also
//! when the test panics), and the script stops it by itself when the test
//! process dies without dropping it (a timeout's kill).
//!
//! Artifacts (logs, screenshots) go to `target/e2e-artifacts/<test>/`.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// The app binary under test (built by cargo for this test run).
pub const APP: &str = env!("CARGO_BIN_EXE_kakao-desk");

/// The deep-link scheme of the binary under test: debug builds use the
/// release identifier plus `.debug` (see `src-tauri/build.rs`).
pub fn app_scheme() -> String {
    let config: serde_json::Value = serde_json::from_str(include_str!("../../tauri.conf.json"))
        .expect("tauri.conf.json is valid JSON");
    let scheme = config["plugins"]["deep-link"]["desktop"]["schemes"][0]
        .as_str()
        .expect("a release scheme in tauri.conf.json")
        .to_owned();
    if cfg!(debug_assertions) {
        format!("{scheme}.debug")
    } else {
        scheme
    }
}

/// What to vary per test.
#[derive(Debug, Clone)]
pub struct DesktopOptions {
    /// `LANG` of the session, e.g. `ko_KR.UTF-8`.
    pub lang: String,
    /// Extra environment for tauri-driver (and so for the app).
    pub env: Vec<(String, String)>,
    /// Start tauri-driver (not needed when the test launches the app itself).
    pub webdriver: bool,
}

impl Default for DesktopOptions {
    fn default() -> Self {
        Self {
            lang: "en_US.UTF-8".into(),
            env: Vec::new(),
            webdriver: true,
        }
    }
}

/// A process group that dies with its owner.
pub struct Group {
    name: &'static str,
    child: Child,
}

impl Group {
    /// Starts `command` as the leader of a new process group.
    pub fn spawn(name: &'static str, mut command: Command) -> Self {
        command.process_group(0);
        let child = command.spawn().unwrap_or_else(|e| {
            panic!("could not start {name} ({command:?}): {e}. Run scripts/setup.sh first.")
        });
        Self { name, child }
    }

    /// Stops the whole group: TERM, a few seconds for the leader to finish
    /// (a desktop session stops what it started and removes its files), then
    /// KILL for anything left.
    pub fn kill(&mut self) {
        let group = format!("-{}", self.child.id());
        let signal = |name: &str| {
            let _ = Command::new("kill")
                .args([name, "--", &group])
                .stderr(Stdio::null())
                .status();
        };
        if self.try_wait().is_none() {
            signal("-TERM");
            let deadline = Instant::now() + Duration::from_secs(5);
            while self.try_wait().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        signal("-KILL");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The leader's exit status, if it has exited.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().expect("wait for child")
    }

    /// Waits up to `timeout` for the leader to exit; kills the group and panics
    /// when it does not.
    pub fn wait_for_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                self.kill();
                panic!("{} did not exit within {timeout:?}", self.name);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An isolated desktop session (see the module docs).
pub struct Desktop {
    /// Artifacts of this test (logs, screenshots).
    pub artifacts: PathBuf,
    env: Vec<(String, String)>,
    session: Group,
    driver_port: u16,
    native_port: u16,
}

impl Desktop {
    /// Starts the session (and in it tauri-driver, unless
    /// `options.webdriver` is off).
    pub fn start(test: &str, options: DesktopOptions) -> Self {
        let artifacts = artifacts_dir(test);
        let env_file = artifacts.join("session.env");
        let mut env: Vec<(String, String)> = vec![
            ("LANG".into(), options.lang.clone()),
            ("LC_ALL".into(), options.lang.clone()),
            ("RUST_LOG".into(), "info,kakao_desk=debug".into()),
        ];
        env.extend(options.env);
        let mut script =
            Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/desktop-session.sh"));
        script
            .arg("--env-file")
            .arg(&env_file)
            .arg("--log-dir")
            .arg(&artifacts)
            .envs(env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(log_file(&artifacts, "tauri-driver.log"))
            .stderr(log_file(&artifacts, "tauri-driver.log"));
        let driver_port = free_port();
        let native_port = free_port();
        if options.webdriver {
            script
                .arg("--")
                .arg(tauri_driver())
                .args(["--port", &driver_port.to_string()])
                .args(["--native-port", &native_port.to_string()]);
        }
        let mut session = Group::spawn("scripts/desktop-session.sh", script);
        let deadline = Instant::now() + Duration::from_secs(60);
        let session_env = loop {
            if let Ok(text) = std::fs::read_to_string(&env_file) {
                break text;
            }
            if let Some(status) = session.try_wait() {
                panic!(
                    "the desktop session ended before it was ready ({status}); see {}",
                    artifacts.display()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the desktop session was not ready within a minute; see {}",
                artifacts.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        env.extend(session_env.lines().filter_map(|line| {
            line.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        }));
        let desktop = Self {
            artifacts,
            env,
            session,
            driver_port,
            native_port,
        };
        if options.webdriver {
            desktop.wait_for_driver();
        }
        desktop
    }

    /// The environment every process of this session gets.
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    /// The value of `name` in this session.
    pub fn var(&self, name: &str) -> &str {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("the session has no {name}"))
    }

    /// The app's data directory (where its store, cache and vault live).
    pub fn app_data_dir(&self) -> PathBuf {
        Path::new(self.var("XDG_DATA_HOME")).join(app_scheme())
    }

    /// The app's log directory (`<data dir>/logs` on Linux, as Tauri's
    /// `app_log_dir`).
    pub fn app_log_dir(&self) -> PathBuf {
        self.app_data_dir().join("logs")
    }

    /// Everything in the app's log files, oldest file first.
    pub fn app_log_files(&self) -> String {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.app_log_dir())
            .map(|dir| dir.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .collect()
    }

    /// Opens the app through WebDriver, optionally with launch arguments
    /// (a cold start by a link), and waits until the page has connected to
    /// Rust (`body[data-ready]`).
    pub async fn open_app(&self, args: &[&str]) -> Client {
        self.open_binary(APP, args).await
    }

    /// [`Desktop::open_app`] for another build of the app (the installed
    /// release binary).
    pub async fn open_binary(&self, binary: &str, args: &[&str]) -> Client {
        self.wait_until_no_app_runs();
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert(
            "tauri:options".into(),
            json!({ "application": binary, "args": args }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.driver_port))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "WebDriver session failed: {e}; see {}",
                    self.artifacts.display()
                )
            });
        wait_for(&client, "body[data-ready='true']").await;
        client
    }

    /// Runs the app binary again with `args`, as the OS does for a link while
    /// the app is running, and returns its exit status. The second process must
    /// hand the arguments over and exit on its own.
    pub fn launch_second_instance(&self, args: &[&str]) -> std::process::ExitStatus {
        let mut command = Command::new(APP);
        command
            .args(args)
            .envs(self.env.iter().cloned())
            .stdout(self.log_file("second-instance.log"))
            .stderr(self.log_file("second-instance.log"));
        // A second instance that does not exit means the hand-off failed.
        Group::spawn("second instance", command).wait_for_exit(Duration::from_secs(30))
    }

    /// Starts the app binary directly in this session, without WebDriver
    /// (as a user's launcher does), logging to `app.log`.
    pub fn spawn_app(&self) -> Group {
        self.wait_until_no_app_runs();
        let mut command = Command::new(APP);
        command
            .envs(self.env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(self.log_file("app.log"))
            .stderr(self.log_file("app.log"));
        Group::spawn("the app", command)
    }

    /// Saves a PNG of the app window under this test's artifacts, once its
    /// images are decoded and two frames have been painted (WebKit paints
    /// asynchronously; a capture right after a DOM change can show the frame
    /// before it).
    pub async fn screenshot(&self, client: &Client, name: &str) -> PathBuf {
        client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 const images = [...document.images].filter((i) => !i.hidden && i.src);
                 Promise.all(images.map((i) => i.decode().catch(() => {})))
                   .then(() => requestAnimationFrame(() => requestAnimationFrame(() => done(true))));",
                vec![],
            )
            .await
            .expect("wait for paint");
        let png = client.screenshot().await.expect("screenshot");
        let path = self.artifacts.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Everything the app (and tauri-driver) logged so far.
    pub fn app_log(&self) -> String {
        let mut text = String::new();
        for name in ["tauri-driver.log", "second-instance.log", "app.log"] {
            if let Ok(mut file) = std::fs::File::open(self.artifacts.join(name)) {
                let _ = file.read_to_string(&mut text);
            }
        }
        text
    }

    /// An append-mode log file in this test's artifacts.
    pub fn log_file(&self, name: &str) -> std::fs::File {
        log_file(&self.artifacts, name)
    }

    /// Waits until no instance of the app holds its single-instance name on
    /// this session's bus. A closed app needs a moment to exit; an app started
    /// before that would take itself for a second instance and hand over to
    /// the dying one.
    fn wait_until_no_app_runs(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.bus_names().contains("SingleInstance") {
            assert!(
                Instant::now() < deadline,
                "the previous app instance never exited"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The names on this session's bus, as `dbus-send` prints them.
    fn bus_names(&self) -> String {
        let out = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.ListNames",
            ])
            .envs(self.env.iter().cloned())
            .output()
            .expect("dbus-send");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until tauri-driver and the WebKitWebDriver it starts both
    /// listen: tauri-driver takes requests before WebKitWebDriver is up, and
    /// a new session sent then is refused.
    fn wait_for_driver(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        for (port, what) in [
            (self.driver_port, "tauri-driver"),
            (self.native_port, "WebKitWebDriver"),
        ] {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "{what} did not listen on {port}; see {}",
                    self.artifacts.display()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        self.session.kill();
    }
}

/// An append-mode log file in `dir`.
fn log_file(dir: &Path, name: &str) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(name))
        .expect("log file")
}

/// Waits (up to 30 s) for an element to appear.
pub async fn wait_for(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} never appeared: {e}"))
}

/// Waits (up to 20 s) until `css` matches an element whose text is `text`.
pub async fn wait_for_text(client: &Client, css: &str, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(element) = client.find(Locator::Css(css)).await {
            last = element.text().await.unwrap_or_default();
            if last == text {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} should read {text:?} but reads {last:?}");
}

fn tauri_driver() -> PathBuf {
    if let Ok(path) = std::env::var("TAURI_DRIVER") {
        return path.into();
    }
    let cargo_bin = Path::new(
        &std::env::var("CARGO_HOME")
            .unwrap_or_else(|_| format!("{}/.cargo", std::env::var("HOME").unwrap_or_default())),
    )
    .join("bin/tauri-driver");
    if cargo_bin.exists() {
        cargo_bin
    } else {
        "tauri-driver".into()
    }
}

fn artifacts_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/e2e-artifacts")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

/// A free loopback port (there is a tiny race until it is bound again).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The fake system browser (see `tests/e2e/fake-browser.py`).
pub fn fake_browser() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/e2e/fake-browser.py")
        .to_str()
        .expect("UTF-8 path")
        .to_owned()
}

/// Environment that makes the fake browser stand in for the system browser
/// (`xdg-open` runs `$BROWSER` when no desktop environment is detected).
pub fn browser_env(artifacts_hint: &str, action: &str, user: Option<i64>) -> Vec<(String, String)> {
    let log = std::env::temp_dir().join(format!(
        "kakao-desk-browser-{artifacts_hint}-{}.log",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&log);
    let mut env = vec![
        ("BROWSER".to_owned(), fake_browser()),
        ("E2E_APP".to_owned(), APP.to_owned()),
        ("E2E_BROWSER_ACTION".to_owned(), action.to_owned()),
        (
            "E2E_BROWSER_LOG".to_owned(),
            log.to_str().expect("UTF-8").to_owned(),
        ),
    ];
    if let Some(user) = user {
        env.push(("E2E_BROWSER_USER".to_owned(), user.to_string()));
    }
    env
}

/// Clicks the element `css`.
pub async fn click(client: &Client, css: &str) {
    wait_for(client, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// The text of `css` once it is non-empty.
pub async fn text_of(client: &Client, css: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(element) = client.find(Locator::Css(css)).await {
            let text = element.text().await.unwrap_or_default();
            if !text.is_empty() {
                return text;
            }
        }
        assert!(Instant::now() < deadline, "{css} stayed empty");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The bridge site `scripts/build-bridge-site.py` builds (one page per build
/// kind), served over loopback http by Python's static server, as GitHub
/// Pages would serve it over https.
pub struct BridgeSite {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    _server: Group,
    _dir: tempfile::TempDir,
}

impl BridgeSite {
    /// Builds the site into a temporary directory and serves it.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let built = Command::new("python3")
            .arg(root.join("scripts/build-bridge-site.py"))
            .arg(dir.path())
            .output()
            .expect("python3 runs the site generator");
        assert!(
            built.status.success(),
            "the bridge site builds: {}",
            String::from_utf8_lossy(&built.stderr)
        );
        let port = free_port();
        let mut server = Command::new("python3");
        server
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &port.to_string(),
            ])
            .arg("--directory")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let server = Group::spawn("the bridge site's server", server);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the static server did not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            base: format!("http://127.0.0.1:{port}"),
            _server: server,
            _dir: dir,
        }
    }

    /// The page of a build kind: `/kakao/callback/` (release) or
    /// `/kakao/callback/debug/`.
    pub fn page(&self, debug: bool) -> String {
        let kind = if debug { "debug/" } else { "" };
        format!("{}/kakao/callback/{kind}", self.base)
    }
}

/// WebKitGTK's MiniBrowser, driven by WebKitWebDriver inside a desktop
/// session: a real browser engine for the bridge page.
pub struct PageBrowser {
    /// The WebDriver URL (`http://127.0.0.1:PORT`).
    pub webdriver: String,
    _driver: Group,
}

/// MiniBrowser as Debian's libwebkit2gtk-4.1-0 installs it.
pub const MINIBROWSER: &str = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

impl PageBrowser {
    /// Starts WebKitWebDriver in `desktop`'s session.
    pub fn start(desktop: &Desktop) -> Self {
        Self::start_on(desktop, free_port())
    }

    /// Starts WebKitWebDriver in `desktop`'s session on `port` (chosen
    /// before the session, when the app must know it).
    pub fn start_on(desktop: &Desktop, port: u16) -> Self {
        let mut command = Command::new("WebKitWebDriver");
        command
            .arg(format!("--port={port}"))
            .envs(desktop.env().iter().cloned())
            .stdin(Stdio::null())
            .stdout(desktop.log_file("minibrowser-webdriver.log"))
            .stderr(desktop.log_file("minibrowser-webdriver.log"));
        let driver = Group::spawn("WebKitWebDriver (MiniBrowser)", command);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "WebKitWebDriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            webdriver: format!("http://127.0.0.1:{port}"),
            _driver: driver,
        }
    }

    /// A new MiniBrowser window.
    pub async fn open(&self) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("MiniBrowser"));
        caps.insert(
            "webkitgtk:browserOptions".into(),
            json!({ "binary": MINIBROWSER, "args": ["--automation"] }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.webdriver)
            .await
            .unwrap_or_else(|e| panic!("MiniBrowser session failed: {e}"))
    }
}
