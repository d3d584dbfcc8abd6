//! Packaging test: builds the release `.deb` and `.rpm` with the Tauri CLI,
//! inspects them, installs the `.deb` with `dpkg -i`, registers it as the
//! scheme handler the way a desktop does, and proves that `xdg-open` delivers a
//! login link to the **installed** app: first as a cold start, then forwarded
//! by a second instance to the running one.
//!
//! Skipped, with a message saying why, only where the packaging tools are
//! missing or the test cannot install packages (not root). The `.deb` is
//! removed again afterwards, also when the test fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Desktop, DesktopOptions, Group};

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

    // 1. Build the bundles exactly as a publisher would.
    run(Command::new("npx")
        .args(["tauri", "build", "--bundles", "deb,rpm", "--ci"])
        .current_dir(root())
        .env_remove("TAURI_CONFIG"));
    let bundle = root().join("target/release/bundle");
    let deb = only_file(&bundle.join("deb"), "deb");
    let rpm = only_file(&bundle.join("rpm"), "rpm");
    let binary = root().join("target/release/kakao-desk");
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
