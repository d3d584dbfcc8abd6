//! The app's files are readable by the user only.
//!
//! tauri-plugin-store writes its files with a plain `fs::write`, which gives
//! a new file the umask's mode (often 0644) and keeps the mode of an existing
//! one. So every store file is created here first, mode 0600, before the
//! plugin's first save; and the data directory is made 0700.

use std::io;
use std::path::Path;

/// Creates `dir` (and its parents) if needed and makes it private (0700).
///
/// # Errors
/// The I/O error of creating it or changing its mode.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        builder.mode(0o700);
        builder.create(dir)?;
        // It may have existed with a wider mode (WebKit creates it too).
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    {
        builder.create(dir)
    }
}

/// Makes sure `path` exists and is readable by the user only (0600), without
/// touching its content, so a later `fs::write` keeps that mode.
///
/// # Errors
/// The I/O error of creating it or changing its mode.
pub fn private_file(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        // An existing file keeps its mode on open: narrow it if needed.
        let mode = file.metadata()?.permissions().mode() & 0o777;
        if mode != 0o600 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        options.open(path).map(drop)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("exists")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn files_and_the_directory_are_private() {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = temp.path().join("data");
        std::fs::create_dir(&dir).expect("dir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        private_dir(&dir).expect("private dir");
        assert_eq!(mode(&dir), 0o700, "an existing data directory is narrowed");

        let file = dir.join("settings.json");
        private_file(&file).expect("created");
        assert_eq!(mode(&file), 0o600, "a new file is the user's only");
        std::fs::write(&file, b"{}").expect("the plugin's plain write");
        assert_eq!(mode(&file), 0o600, "a plain write keeps the mode");

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        private_file(&file).expect("narrowed");
        assert_eq!(
            mode(&file),
            0o600,
            "a file from an older version is narrowed"
        );
        assert_eq!(
            std::fs::read(&file).expect("read"),
            b"{}",
            "its content is kept"
        );
    }
}
