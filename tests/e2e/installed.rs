//! Packaging test: builds the release `.deb` and `.rpm` with the Tauri CLI,
//! inspects them, installs the `.deb` with `dpkg -i`, registers it as the
//! scheme handler the way a desktop does, and proves that `xdg-open` delivers a
//! login link to the **installed** app: first as a cold start, then forwarded
//! by a second instance to the running one. The bundles are built with a
//! publisher configuration baked in (`KAKAO_*` at build time, as the release
//! workflow passes them) that names the emulator as Kakao and the release
//! page of the real bridge site as the redirect URI: the release workflow's
//! check (`scripts/check-release-config.sh`) must find it in the binary, and
//! the installed app logs in through that page in a real browser engine.
//!
//! Skipped, with a message saying why, only where the packaging tools are
//! missing or the test cannot install packages (not root). The `.deb` is
//! removed again afterwards, also when the test fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kakao_emulator::EmulatorConfig;

use crate::support::{
    BridgeSite, Desktop, DesktopOptions, Group, PageBrowser, browser_env, free_port,
};

const RELEASE_SCHEME: &str = "dev.kakaodesk.desktop";
const PACKAGE: &str = "kakao-desk";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn missing_tools() -> Vec<&'static str> {
    [
        "npx",
        "dpkg-deb",
        "dpkg",
        "rpm",
        "rpm2cpio",
        "cpio",
        "xdg-open",
        "xdg-mime",
        "desktop-file-validate",
    ]
    .into_iter()
    .filter(|tool| {
        !Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
    .collect()
}

fn run(command: &mut Command) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn only_file(dir: &Path, extension: &str) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == extension))
        .collect();
    assert_eq!(
        files.len(),
        1,
        "exactly one .{extension} in {}: {files:?}",
        dir.display()
    );
    files.into_iter().next().expect("one file")
}

/// Checks a desktop entry the way the packaging issue demands.
fn check_desktop_entry(entry: &str, origin: &str) {
    assert!(
        entry.lines().any(|l| l == "Exec=kakao-desk %u"),
        "{origin}: Exec must pass the URL (%u), or gio starts the app without the link:\n{entry}"
    );
    assert!(
        entry
            .lines()
            .any(|l| l == format!("MimeType=x-scheme-handler/{RELEASE_SCHEME};")),
        "{origin}: the entry must claim the release scheme:\n{entry}"
    );
}

struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("dpkg")
            .args(["-r", PACKAGE])
            .stdout(Stdio::null())
            .status();
    }
}

#[test]
fn release_bundles_register_the_scheme_and_deliver_links_to_the_installed_app() {
    let missing = missing_tools();
    if !missing.is_empty() {
        eprintln!(
            "SKIPPED: packaging tools missing ({}); run scripts/setup.sh",
            missing.join(", ")
        );
        return;
    }

    // 0. The publisher's Kakao: the emulator on a port fixed before the build
    //    (a release build takes its hosts from the build only), and the
    //    bridge site with the release page as the redirect URI.
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let site = BridgeSite::start();
    let release_page = site.page(false);
    let emulator = runtime
        .block_on(kakao_emulator::start(EmulatorConfig {
            port: free_port(),
            bridge_scheme: RELEASE_SCHEME.into(),
            redirect_uris: vec![release_page.clone()],
            auto_consent: Some(crate::login::SOLAR_USER),
            ..EmulatorConfig::default()
        }))
        .expect("the emulator starts");
    let publisher = [
        ("KAKAO_CLIENT_ID", emulator.client_id().to_owned()),
        ("KAKAO_REDIRECT_URI", release_page.clone()),
        ("KAKAO_REDIRECT_MODE", "bridge".to_owned()),
        ("KAKAO_AUTH_BASE_URL", emulator.base_url().to_owned()),
        ("KAKAO_API_BASE_URL", emulator.base_url().to_owned()),
    ];

    // 1. Build the bundles exactly as a publisher would, with the
    //    configuration in the build environment.
    let mut build = Command::new("npx");
    build
        .args(["tauri", "build", "--bundles", "deb,rpm", "--ci"])
        .current_dir(root())
        .env_remove("TAURI_CONFIG");
    for variable in kakao_desk_core::config::VARIABLES {
        build.env_remove(variable);
    }
    run(build.envs(publisher.iter().map(|(k, v)| (k, v))));
    let bundle = root().join("target/release/bundle");
    let deb = only_file(&bundle.join("deb"), "deb");
    let rpm = only_file(&bundle.join("rpm"), "rpm");
    let binary = root().join("target/release/kakao-desk");
    // The release workflow's post-build check: the binary carries the key
    // and the release redirect URI, and refuses another key.
    let check = |key: &str| {
        Command::new("bash")
            .arg(root().join("scripts/check-release-config.sh"))
            .arg(&binary)
            .env("KAKAO_CLIENT_ID", key)
            .env("KAKAO_REDIRECT_URI", &release_page)
            .current_dir(root())
            .output()
            .expect("bash runs the check")
    };
    let carried = check(emulator.client_id());
    assert!(
        carried.status.success(),
        "the built binary carries the publisher's configuration:\n{}{}",
        String::from_utf8_lossy(&carried.stdout),
        String::from_utf8_lossy(&carried.stderr)
    );
    assert!(
        !check("ffffffffffffffffffffffffffffffff").status.success(),
        "the check fails for a key the binary does not carry"
    );
    println!(
        "sizes: binary {} B, deb {} B, rpm {} B",
        std::fs::metadata(&binary).expect("binary").len(),
        std::fs::metadata(&deb).expect("deb").len(),
        std::fs::metadata(&rpm).expect("rpm").len()
    );

    // 2. Inspect the .deb.
    let depends = run(Command::new("dpkg-deb")
        .args(["-f"])
        .arg(&deb)
        .arg("Depends"));
    assert!(
        depends.contains("libwebkit2gtk-4.1-0"),
        "the deb must depend on WebKitGTK 4.1: {depends}"
    );
    let unpacked = tempfile::tempdir().expect("temp dir");
    run(Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(unpacked.path()));
    let root_of_deb = unpacked.path();
    for path in [
        "usr/bin/kakao-desk",
        "usr/share/icons/hicolor/32x32/apps/kakao-desk.png",
        "usr/share/icons/hicolor/128x128/apps/kakao-desk.png",
        "usr/share/icons/hicolor/256x256@2/apps/kakao-desk.png",
    ] {
        assert!(
            root_of_deb.join(path).is_file(),
            "the deb must contain /{path}"
        );
    }
    let entry_file = only_file(&root_of_deb.join("usr/share/applications"), "desktop");
    let entry_name = entry_file
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let entry = std::fs::read_to_string(&entry_file).expect("desktop entry");
    check_desktop_entry(&entry, "deb");
    run(Command::new("desktop-file-validate").arg(&entry_file));

    // 3. Inspect the .rpm.
    let requires = run(Command::new("rpm").args(["-qp", "--requires"]).arg(&rpm));
    assert!(
        requires.contains("webkit2gtk4.1") || requires.contains("libwebkit2gtk-4.1"),
        "the rpm must require WebKitGTK 4.1: {requires}"
    );
    let listing = run(Command::new("rpm").args(["-qpl"]).arg(&rpm));
    assert!(
        listing.lines().any(|l| l == "/usr/bin/kakao-desk"),
        "the rpm installs the binary:\n{listing}"
    );
    let rpm_entry_path = listing
        .lines()
        .find(|l| l.starts_with("/usr/share/applications/") && l.ends_with(".desktop"))
        .expect("the rpm has a desktop entry");
    let rpm_entry = run(Command::new("sh").args([
        "-c",
        &format!(
            "rpm2cpio '{}' | cpio -i --quiet --to-stdout '.{rpm_entry_path}'",
            rpm.display()
        ),
    ]));
    check_desktop_entry(&rpm_entry, "rpm");

    // 4. Install the .deb (needs root, as in CI).
    if !Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"))
    {
        eprintln!("SKIPPED (install part): dpkg -i needs root");
        return;
    }
    run(Command::new("dpkg").arg("-i").arg(&deb));
    let _installed = Installed;
    assert!(
        Path::new("/usr/bin/kakao-desk").exists(),
        "dpkg installed the binary"
    );

    // 5. A desktop session that knows the installed entry, as after login.
    let desktop = Desktop::start(
        "installed_app",
        DesktopOptions {
            webdriver: false,
            env: vec![("XDG_DATA_DIRS".into(), "/usr/local/share:/usr/share".into())],
            ..DesktopOptions::default()
        },
    );
    run(Command::new("xdg-mime")
        .args([
            "default",
            &entry_name,
            &format!("x-scheme-handler/{RELEASE_SCHEME}"),
        ])
        .envs(desktop.env().iter().cloned()));
    let handler = run(Command::new("xdg-mime")
        .args([
            "query",
            "default",
            &format!("x-scheme-handler/{RELEASE_SCHEME}"),
        ])
        .envs(desktop.env().iter().cloned()));
    assert_eq!(
        handler.trim(),
        entry_name,
        "the desktop now sends the scheme to the installed entry"
    );

    // 6. Cold start: no instance runs; xdg-open launches the installed app.
    let log = desktop.artifacts.join("installed-app.log");
    let mut cold = Command::new("xdg-open");
    cold.arg(format!(
        "{RELEASE_SCHEME}://oauth/callback?code=installed-secret-1&state=s1"
    ))
    .envs(desktop.env().iter().cloned())
    .env_remove("XDG_CURRENT_DESKTOP")
    .stdout(desktop.log_file("installed-app.log"))
    .stderr(desktop.log_file("installed-app.log"));
    let _app = Group::spawn("installed app (via xdg-open)", cold);
    wait_for_lines(&log, "login callback received", 1);

    // 7. Warm: a second link goes through a second instance to the first.
    let mut warm = Command::new("xdg-open");
    warm.arg(format!(
        "{RELEASE_SCHEME}://oauth/callback?code=installed-secret-2&state=s2"
    ))
    .envs(desktop.env().iter().cloned())
    .env_remove("XDG_CURRENT_DESKTOP")
    .stdout(desktop.log_file("second-xdg-open.log"))
    .stderr(desktop.log_file("second-xdg-open.log"));
    let status = Group::spawn("second xdg-open", warm).wait_for_exit(Duration::from_secs(30));
    assert!(
        status.success(),
        "xdg-open returns once the second instance has handed over: {status}"
    );
    wait_for_lines(&log, "login callback received", 2);

    let text = std::fs::read_to_string(&log).expect("app log");
    assert!(
        !text.contains("installed-secret"),
        "codes must never be logged:\n{text}"
    );
    drop(desktop);

    // 8. A real login with the installed release build: Kakao (the emulator)
    //    redirects to the bridge site's release page, which WebKit runs and
    //    which forwards to the release scheme; the installed app finishes.
    let webdriver_port = free_port();
    let mut env = browser_env("installed-login", "agree", None);
    env.push(("E2E_APP".into(), "/usr/bin/kakao-desk".into()));
    env.push((
        "E2E_BRIDGE_WEBDRIVER".into(),
        format!("http://127.0.0.1:{webdriver_port}"),
    ));
    let desktop = Desktop::start(
        "installed_login",
        DesktopOptions {
            env,
            ..DesktopOptions::default()
        },
    );
    let _engine = PageBrowser::start_on(&desktop, webdriver_port);
    runtime.block_on(async {
        let app = desktop.open_binary("/usr/bin/kakao-desk", &[]).await;
        crate::support::wait_for(&app, "body[data-screen='signed_out']").await;
        crate::support::click(&app, "[data-testid='login-button']").await;
        crate::support::wait_for(&app, "body[data-screen='signed_in']").await;
        assert_eq!(
            crate::support::text_of(&app, "[data-testid='profile-nickname']").await,
            "박양력"
        );
        desktop.screenshot(&app, "installed-release-profile").await;
        app.close().await.expect("close");
    });
    let exchange = &emulator.requests().to_path("/oauth/token")[0];
    assert_eq!(
        exchange.param("redirect_uri"),
        Some(release_page.as_str()),
        "the release page of the bridge site was the redirect URI"
    );
    runtime.block_on(emulator.shutdown());
}

fn wait_for_lines(log: &Path, needle: &str, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.matches(needle).count() >= count {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the installed app should have logged {needle:?} {count} time(s); log:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
