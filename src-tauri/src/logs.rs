//! Where the app logs: stderr (a terminal, `scripts/run.sh`, the test
//! harness) and a log file in the app's log directory, because a GUI launch
//! on Windows or macOS has no stderr anyone reads.
//!
//! The file rotates daily (`kakao-desk.YYYY-MM-DD.log`) and the last
//! [`KEPT_FILES`] are kept. The directory is private to the user. What is
//! logged is the same in both places, and nowhere may a token, an
//! authorization code, a PKCE verifier or a key appear (the e2e tests scan
//! the file for every secret the emulator issued).
//!
//! `RUST_LOG` picks the level (default `info`). The deep-link plugin's own
//! warnings are silenced: in debug builds it logs every refused launch
//! argument verbatim, and the shell already logs each refusal without the
//! URL.

use std::path::{Path, PathBuf};

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The log files' name before the date.
pub const FILE_PREFIX: &str = "kakao-desk";
/// Daily files kept; older ones are deleted as a new one starts.
pub const KEPT_FILES: usize = 7;

/// The log directory in use (managed state), for the "About" view.
#[derive(Debug, Clone, Default)]
pub struct LogDir(pub Option<PathBuf>);

/// Starts logging to stderr and, if `dir` can be made private and written,
/// to a daily file in it. Returns the directory the file is in.
pub fn init(dir: Option<&Path>) -> LogDir {
    use std::io::IsTerminal;
    let file = dir.and_then(|dir| match open(dir) {
        Ok(appender) => Some((dir.to_path_buf(), appender)),
        Err(error) => {
            eprintln!("kakao-desk: no log file in {}: {error}", dir.display());
            None
        }
    });
    let (dir, appender) = file.unzip();
    let stderr = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let to_file = appender.map(|appender| {
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(appender)
    });
    let _ = tracing_subscriber::registry()
        .with(filter())
        .with(stderr)
        .with(to_file)
        .try_init();
    if let Some(dir) = &dir {
        tracing::debug!(dir = %dir.display(), "logging to a file");
    }
    LogDir(dir)
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info"))
        .add_directive(
            "tauri_plugin_deep_link=error"
                .parse()
                .expect("valid directive"),
        )
}

fn open(dir: &Path) -> Result<RollingFileAppender, Box<dyn std::error::Error>> {
    crate::files::private_dir(dir)?;
    Ok(RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(FILE_PREFIX)
        .filename_suffix("log")
        .max_log_files(KEPT_FILES)
        .build(dir)?)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[test]
    fn the_file_is_dated_in_a_private_directory() {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = temp.path().join("logs");
        let appender = open(&dir).expect("opens");
        writeln!(appender.make_writer(), "a line").expect("writes");
        let names: Vec<String> = std::fs::read_dir(&dir)
            .expect("the directory exists")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        let name = &names[0];
        assert!(
            name.starts_with("kakao-desk.") && name.ends_with(".log") && name.len() == 25,
            "kakao-desk.YYYY-MM-DD.log: {name}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "only the user may read the logs");
        }
    }

    #[test]
    fn a_directory_that_cannot_be_made_is_an_error_not_a_panic() {
        let temp = tempfile::tempdir().expect("temp dir");
        let file = temp.path().join("a-file");
        std::fs::write(&file, b"").expect("write");
        assert!(open(&file.join("logs")).is_err());
    }
}
