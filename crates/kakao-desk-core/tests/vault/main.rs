//! The session vault on real files, in real child processes and with a real
//! OS keychain: crash safety under SIGKILL ([`crash`]), the key in the Secret
//! Service ([`keychain`]), and damaged slots beside the profile cache
//! ([`recovery`]).

use std::path::{Path, PathBuf};

mod crash;
mod keychain;
mod recovery;

/// Every file under `dir`, recursively (none when `dir` does not exist).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(files_under(&path));
            } else {
                found.push(path);
            }
        }
    }
    found
}

/// The arguments that make this test binary run one `#[ignore]`d child test
/// (`module::name`) and nothing else.
fn child_test(name: &str) -> [&str; 5] {
    [
        "--exact",
        name,
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]
}
