//! kill -9 on the real app, many times: during the first login, a token
//! refresh, logout and unlink, at random moments, with the emulator slowed so
//! each operation takes long enough for a kill to land inside it. After every
//! kill the app starts again on the same data directory and keychain, and the
//! test checks that nothing was lost, corrupted or leaked:
//!
//! - the app starts and settles on a screen the operation allows (the state
//!   before it or after it, never a third);
//! - signed in means a sealed vault slot and a profile on screen; signed out
//!   means no sealed slot (no half state);
//! - a session stored before the kill is still signed in after a killed
//!   refresh (no lost session);
//! - the profile cache passes `PRAGMA integrity_check`;
//! - no slot was set aside (`*.unreadable-*`) unless the test saw a torn slot
//!   file before the restart;
//! - no code or token the emulator ever issued appears in any file of the
//!   data directory or the logs (and, at the end, anywhere in HOME).
//!
//! `KAKAO_DESK_CRASH_KILLS` sets the number of kills (40 by default, as
//! `scripts/test.sh` runs it; `scripts/crash-test.sh` runs 200+), and
//! `KAKAO_DESK_CRASH_SEED` replays a run: the seed picks the operations and
//! the moments (the app's own timing still varies a little). The figures go
//! to `target/e2e-artifacts/crash/summary.txt` and SECURITY.md.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aho_corasick::AhoCorasick;
use base64::Engine as _;
use fantoccini::{Client, Locator};
use kakao_emulator::{EmulatorConfig, RunningEmulator};

use crate::login::{SOLAR_USER, kakao_env, sealed_slots};
use crate::support::{
    APP, Desktop, DesktopOptions, Group, app_scheme, browser_env, click, wait_for,
};

const DEFAULT_KILLS: usize = 40;
/// Added before every emulator answer: a login makes about eight requests,
/// so it takes a few seconds and a random kill lands inside it.
const LATENCY: Duration = Duration::from_millis(150);
/// The log line the app writes when the start-up session check is over.
const CHECK_DONE: &str = "start-up session check done";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Login,
    Refresh,
    Logout,
    Unlink,
}

/// splitmix64: a seeded, dependency-free stream of random numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A duration in `[0, max)`.
    fn below(&mut self, max: Duration) -> Duration {
        let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX).max(1);
        Duration::from_nanos(self.next() % nanos)
    }
}

/// The app, its emulator and desktop, and the WebDriver session of the
/// running instance.
struct Rig {
    emulator: RunningEmulator,
    desktop: Desktop,
    app: Option<Client>,
    /// The instance started without WebDriver (for a refresh).
    direct: Option<Group>,
    /// Where in the emulator's request log the current refresh began.
    refresh_from: usize,
    exe: PathBuf,
    /// How many "start-up session check done" lines the log had before the
    /// last start.
    checks_seen: usize,
}

impl Rig {
    fn data_dir(&self) -> PathBuf {
        self.desktop.app_data_dir()
    }

    fn app(&self) -> &Client {
        self.app.as_ref().expect("the app is open")
    }

    /// Starts the app and waits until its start-up session check is over
    /// and the screen shows the result.
    async fn open(&mut self) -> String {
        self.checks_seen = self.desktop.app_log().matches(CHECK_DONE).count();
        self.app = Some(self.desktop.open_app(&[]).await);
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.desktop.app_log().matches(CHECK_DONE).count() <= self.checks_seen {
            assert!(
                Instant::now() < deadline,
                "the start-up session check never finished"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.settled().await
    }

    /// The screen once it is signed in or signed out.
    async fn settled(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen().await;
            if screen == "signed_in" || screen == "signed_out" {
                return screen;
            }
            assert!(Instant::now() < deadline, "the app stayed on {screen:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn screen(&self) -> String {
        match self.app().find(Locator::Css("body")).await {
            Ok(body) => body
                .attr("data-screen")
                .await
                .ok()
                .flatten()
                .unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The error the page shows, if any.
    async fn error_code(&self) -> Option<String> {
        let element = self
            .app()
            .find(Locator::Css(
                "[data-testid='error-message'][data-error-code]",
            ))
            .await
            .ok()?;
        if !element.is_displayed().await.unwrap_or(false) {
            return None;
        }
        element.attr("data-error-code").await.ok().flatten()
    }

    /// Closes the app the way a user does.
    async fn close(&mut self) {
        if let Some(app) = self.app.take() {
            app.close().await.expect("close the app");
        }
    }

    /// SIGKILL to every process of the app in this session (the running
    /// instance and any second instance a deep link started), after the
    /// stand-in browser, which could launch another one.
    async fn kill(&mut self) {
        let home = self.desktop.var("HOME").to_owned();
        let killed = sigkill(&self.exe, &home);
        assert!(killed > 0, "no app process to kill");
        // Sweep until nothing of ours is left for a moment: the browser may
        // have been about to launch the app with the deep link.
        let mut quiet = 0;
        while quiet < 3 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            quiet = if sigkill(&self.exe, &home) == 0 {
                quiet + 1
            } else {
                0
            };
        }
        if let Some(app) = self.app.take() {
            // The browser is gone; ending the WebDriver session frees the
            // driver for the next start (its error is expected).
            let _ = tokio::time::timeout(Duration::from_secs(10), app.close()).await;
        }
        if let Some(mut direct) = self.direct.take() {
            direct.wait_for_exit(Duration::from_secs(10));
        }
    }
}

/// SIGKILLs the stand-in browser and then the app processes whose HOME is
/// `home`; returns how many were found.
fn sigkill(exe: &Path, home: &str) -> usize {
    let mut pids = Vec::new();
    for pass in [Target::Browser, Target::App] {
        for pid in processes(exe, home, pass) {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(std::process::Stdio::null())
                .status();
            pids.push(pid);
        }
    }
    pids.len()
}

#[derive(Clone, Copy)]
enum Target {
    Browser,
    App,
}

fn processes(exe: &Path, home: &str, target: Target) -> Vec<u32> {
    let marker = format!("HOME={home}");
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let dir = entry.path();
        let ours = std::fs::read(dir.join("environ"))
            .map(|env| env.split(|b| *b == 0).any(|var| var == marker.as_bytes()))
            .unwrap_or(false);
        if !ours {
            continue;
        }
        let matches = match target {
            Target::App => std::fs::read_link(dir.join("exe")).is_ok_and(|path| path == exe),
            Target::Browser => std::fs::read(dir.join("cmdline"))
                .map(|cmd| String::from_utf8_lossy(&cmd).contains("fake-browser.py"))
                .unwrap_or(false),
        };
        if matches {
            found.push(pid);
        }
    }
    found
}

/// Slot files that exist but do not hold a whole envelope: a write the kill
/// cut short.
fn torn_slots(data_dir: &Path) -> Vec<String> {
    let mut torn = Vec::new();
    for name in ["session-a.json", "session-b.json"] {
        let Ok(bytes) = std::fs::read(data_dir.join(name)) else {
            continue;
        };
        let whole = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .map(|value| match value.get("envelope") {
                None => true,
                Some(envelope) => envelope
                    .as_str()
                    .and_then(|text| base64::engine::general_purpose::STANDARD.decode(text).ok())
                    .is_some_and(|sealed| sealed.starts_with(b"KDVT")),
            })
            .unwrap_or(false);
        if !whole {
            torn.push(name.to_owned());
        }
    }
    torn
}

/// Slots the vault moved aside as unreadable.
fn set_aside(data_dir: &Path) -> Vec<String> {
    std::fs::read_dir(data_dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.contains(".unreadable-"))
                .collect()
        })
        .unwrap_or_default()
}

fn integrity(data_dir: &Path) -> String {
    let path = data_dir.join("profile.db");
    if !path.exists() {
        return "ok".into();
    }
    let db = rusqlite::Connection::open(&path).expect("open the profile cache");
    db.query_row("PRAGMA integrity_check", [], |row| row.get::<_, String>(0))
        .expect("integrity_check")
}

/// Every file under `dir` (recursively) that holds one of `secrets`.
fn leaks(dir: &Path, secrets: &AhoCorasick) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file()
                && let Ok(bytes) = std::fs::read(&path)
                && secrets.is_match(&bytes)
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

/// What a restart after a kill during `op` may show.
fn allowed(op: Op, screen: &str, error: Option<&str>) -> bool {
    match op {
        // The state before (signed out) or after (signed in).
        Op::Login => error.is_none() && matches!(screen, "signed_out" | "signed_in"),
        // The session was stored before the kill: it must survive.
        Op::Refresh => error.is_none() && screen == "signed_in",
        // Before: signed in. After Kakao revoked the tokens but before the
        // local wipe: the session check finds them dead and signs out.
        Op::Logout | Op::Unlink => match screen {
            "signed_in" => error.is_none(),
            "signed_out" => matches!(error, None | Some("session_expired")),
            _ => false,
        },
    }
}

#[derive(Default)]
struct Tally {
    /// (operation, outcome) → kills.
    outcomes: BTreeMap<(Op, String), usize>,
    torn: usize,
    set_aside: usize,
}

#[tokio::test(flavor = "multi_thread")]
async fn the_app_survives_kill_9_during_login_refresh_logout_and_unlink() {
    let kills: usize = std::env::var("KAKAO_DESK_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_KILLS);
    let seed: u64 = std::env::var("KAKAO_DESK_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    eprintln!("crash test: {kills} kills, seed {seed} (replay with KAKAO_DESK_CRASH_SEED={seed})");
    let mut rng = Rng(seed);

    let emulator = kakao_emulator::start(EmulatorConfig {
        bridge_scheme: app_scheme(),
        auto_consent: Some(SOLAR_USER),
        latency: LATENCY,
        // Hundreds of logins and refreshes in a few minutes: the issuance
        // limit is not what this test is about.
        issuance_limit: None,
        ..EmulatorConfig::default()
    })
    .await
    .expect("the emulator starts");
    let mut env = kakao_env(&emulator, &emulator.bridge_redirect_uri(), "bridge");
    env.extend(browser_env("crash", "agree", None));
    let desktop = Desktop::start(
        "crash",
        DesktopOptions {
            env,
            ..DesktopOptions::default()
        },
    );
    let mut rig = Rig {
        emulator,
        desktop,
        app: None,
        direct: None,
        refresh_from: 0,
        exe: std::fs::canonicalize(APP).expect("the app binary"),
        checks_seen: 0,
    };

    // Calibration: each operation once without a kill, to learn how long
    // its window is on this machine.
    assert_eq!(rig.open().await, "signed_out");
    let mut window = BTreeMap::new();
    window.insert(Op::Login, timed(&mut rig, Op::Login).await);
    window.insert(Op::Refresh, timed(&mut rig, Op::Refresh).await);
    window.insert(Op::Logout, timed(&mut rig, Op::Logout).await);
    timed(&mut rig, Op::Login).await;
    window.insert(Op::Unlink, timed(&mut rig, Op::Unlink).await);
    for span in window.values_mut() {
        *span = span.mul_f64(1.3).max(Duration::from_millis(300));
    }
    eprintln!("crash test: kill windows {window:?}");

    let mut tally = Tally::default();
    let mut per_op: BTreeMap<Op, usize> = BTreeMap::new();
    let mut screen = rig.settled().await;
    for round in 1..=kills {
        // Kills are spread over the operations: a login while signed out,
        // unless logins already have their third (then one login without a
        // kill first); signed in, whichever of the others has had the fewest.
        let mut count = |op: Op| per_op.get(&op).copied().unwrap_or(0);
        if screen == "signed_out" && count(Op::Login) * 3 > round {
            timed(&mut rig, Op::Login).await;
            screen = "signed_in".to_owned();
        }
        let op = if screen == "signed_out" {
            Op::Login
        } else {
            let fewest = [Op::Refresh, Op::Logout, Op::Unlink]
                .into_iter()
                .map(&mut count)
                .min()
                .unwrap_or(0);
            let candidates: Vec<Op> = [Op::Refresh, Op::Logout, Op::Unlink]
                .into_iter()
                .filter(|op| count(*op) == fewest)
                .collect();
            candidates[(rng.next() % candidates.len() as u64) as usize]
        };
        *per_op.entry(op).or_default() += 1;
        let delay = rng.below(window[&op]);
        let finished = start_and_kill(&mut rig, op, delay).await;

        let data_dir = rig.data_dir();
        let torn = torn_slots(&data_dir);
        let check = integrity(&data_dir);
        assert_eq!(
            check, "ok",
            "round {round} ({op:?}): the profile cache is damaged"
        );

        screen = rig.open().await;
        let error = rig.error_code().await;
        let context = format!(
            "round {round}, {op:?} killed after {delay:?} (seed {seed}): screen {screen}, error {error:?}, torn {torn:?}"
        );
        assert!(
            allowed(op, &screen, error.as_deref()),
            "{context}: not a state {op:?} allows"
        );
        let slots = sealed_slots(&data_dir);
        if screen == "signed_in" {
            assert!(slots >= 1, "{context}: signed in without a sealed session");
            let nickname = rig
                .app()
                .find(Locator::Css("[data-testid='profile-nickname']"))
                .await
                .expect("nickname")
                .text()
                .await
                .unwrap_or_default();
            assert!(
                !nickname.is_empty(),
                "{context}: signed in without a profile"
            );
        } else {
            assert_eq!(slots, 0, "{context}: signed out with a sealed session left");
        }
        let aside = set_aside(&data_dir);
        assert!(
            aside.is_empty() || !torn.is_empty(),
            "{context}: {aside:?} set aside, but no slot was torn"
        );
        tally.torn += usize::from(!torn.is_empty());
        tally.set_aside += aside.len();
        let secrets = AhoCorasick::new(rig.emulator.issued_secrets()).expect("patterns");
        let leaked = [
            leaks(&data_dir, &secrets),
            leaks(&rig.desktop.artifacts, &secrets),
        ]
        .concat();
        assert!(
            leaked.is_empty(),
            "{context}: a code or token in clear in {leaked:?}"
        );

        let outcome = format!(
            "{}, restarted {}{}",
            if finished {
                "finished before the kill"
            } else {
                "cut short"
            },
            screen,
            error.map(|code| format!(" ({code})")).unwrap_or_default()
        );
        *tally.outcomes.entry((op, outcome)).or_default() += 1;
        eprintln!("crash test: {context}: ok");
    }
    rig.close().await;

    // At the end, all of HOME: the WebKit caches and storage, the keyring,
    // everything the session's processes wrote.
    let secrets = AhoCorasick::new(rig.emulator.issued_secrets()).expect("patterns");
    let home = PathBuf::from(rig.desktop.var("HOME"));
    let leaked = leaks(&home, &secrets);
    assert!(leaked.is_empty(), "a code or token in clear in {leaked:?}");

    let mut summary = format!(
        "kill -9 crash test: {kills} kills, seed {seed}, emulator latency {LATENCY:?}\n\
         kill windows: {window:?}\n\
         issued codes and tokens scanned for: {}; found in clear: 0\n\
         torn slot files seen: {}; slots set aside: {}; corrupt caches: 0; lost sessions: 0\n",
        rig.emulator.issued_secrets().len(),
        tally.torn,
        tally.set_aside,
    );
    for ((op, outcome), count) in &tally.outcomes {
        let _ = writeln!(summary, "{op:?}: {outcome}: {count}");
    }
    for (op, count) in &per_op {
        let _ = writeln!(summary, "{op:?}: {count} kills");
    }
    eprintln!("{summary}");
    std::fs::write(rig.desktop.artifacts.join("summary.txt"), &summary).expect("summary");
    if kills >= 40 {
        for op in [Op::Login, Op::Refresh, Op::Logout, Op::Unlink] {
            assert!(
                per_op.get(&op).copied().unwrap_or(0) >= kills / 8,
                "the kills were not spread over every operation: {per_op:?}"
            );
        }
    }
}

/// Starts `op`, waits until it has finished, and returns how long that took
/// (calibration): until the core logged the operation's last step.
async fn timed(rig: &mut Rig, op: Op) -> Duration {
    let done = done_line(op);
    let before = rig.desktop.app_log().matches(done).count();
    let started = begin(rig, op).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while rig.desktop.app_log().matches(done).count() == before {
        assert!(Instant::now() < deadline, "{op:?} never finished");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took = started.elapsed();
    finish(rig, op).await;
    took
}

/// Starts `op`, kills the app `delay` later, and says whether `op` had
/// visibly finished by then.
async fn start_and_kill(rig: &mut Rig, op: Op, delay: Duration) -> bool {
    let done = done_line(op);
    let before = rig.desktop.app_log().matches(done).count();
    begin(rig, op).await;
    tokio::time::sleep(delay).await;
    rig.kill().await;
    // The dead app's log is complete: did it get to the operation's last
    // step (each is logged after its writes)?
    rig.desktop.app_log().matches(done).count() > before
}

/// The line the core logs once `op`'s writes are done.
fn done_line(op: Op) -> &'static str {
    match op {
        Op::Login => "login complete",
        Op::Refresh => "access token refreshed",
        Op::Logout => "signed out",
        Op::Unlink => "unlinked; session and cached profile removed",
    }
}

/// Begins `op` on the running app (a refresh: restarts the app with its
/// access token expired at Kakao); returns when the operation began.
async fn begin(rig: &mut Rig, op: Op) -> Instant {
    match op {
        Op::Login => {
            click(rig.app(), "[data-testid='login-button']").await;
            Instant::now()
        }
        Op::Refresh => {
            // Started directly, not through WebDriver: the refresh runs right
            // after start-up, before a WebDriver session would be ready, and
            // the kill must be able to land anywhere in it.
            rig.close().await;
            rig.emulator.expire_access_tokens();
            rig.checks_seen = rig.desktop.app_log().matches(CHECK_DONE).count();
            let rejected = expired_token_answers(rig);
            rig.direct = Some(rig.desktop.spawn_app());
            // The refresh begins when Kakao has answered -401 to the
            // start-up check.
            let deadline = Instant::now() + Duration::from_secs(30);
            while expired_token_answers(rig) == rejected {
                assert!(
                    Instant::now() < deadline,
                    "the start-up check never met -401"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            rig.refresh_from = rig.emulator.requests().all().len();
            Instant::now()
        }
        Op::Logout => {
            click(rig.app(), "[data-testid='logout-button']").await;
            Instant::now()
        }
        Op::Unlink => {
            click(rig.app(), "[data-testid='unlink-button']").await;
            click(rig.app(), "[data-testid='unlink-confirm']").await;
            Instant::now()
        }
    }
}

/// Waits until `op`'s result is on screen. After a refresh (started without
/// WebDriver) the app is started again under WebDriver.
async fn finish(rig: &mut Rig, op: Op) {
    match op {
        Op::Login => {
            wait_for(rig.app(), "body[data-screen='signed_in']").await;
        }
        Op::Refresh => {
            let deadline = Instant::now() + Duration::from_secs(30);
            while rig.desktop.app_log().matches(CHECK_DONE).count() <= rig.checks_seen {
                assert!(
                    Instant::now() < deadline,
                    "the start-up check never finished"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert!(
                refreshed_and_used(rig),
                "the start-up check refreshed and retried"
            );
            if let Some(mut direct) = rig.direct.take() {
                direct.kill();
            }
            assert_eq!(rig.open().await, "signed_in");
        }
        Op::Logout | Op::Unlink => {
            wait_for(rig.app(), "body[data-screen='signed_out']").await;
        }
    }
}

/// How many kapi answers so far were -401.
fn expired_token_answers(rig: &Rig) -> usize {
    rig.emulator
        .requests()
        .all()
        .iter()
        .filter(|r| r.path.starts_with("/v") && r.status == 401)
        .count()
}

/// Whether, since the -401 that began the refresh, the refresh was answered
/// and the call it was for retried (so the new tokens were sealed).
fn refreshed_and_used(rig: &Rig) -> bool {
    let requests = rig.emulator.requests().all();
    let requests = &requests[rig.refresh_from.min(requests.len())..];
    let Some(refresh) = requests
        .iter()
        .rposition(|r| r.path == "/oauth/token" && r.param("grant_type") == Some("refresh_token"))
    else {
        return false;
    };
    requests[refresh + 1..]
        .iter()
        .any(|r| r.path.starts_with("/v"))
}
