//! The vault key in a file: an explicit opt-in where no keychain exists.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::source::{KeyError, KeyOrigin, KeySource, key_from_slice, random_vault_key};
use crate::secret::{VAULT_KEY_LEN, VaultKey};

/// The vault key in a file readable only by the user: an explicit opt-in for
/// machines without a keychain, after the user was warned that anyone who can
/// read their files can then open the session.
///
/// The file holds the 32 raw key bytes. It is created with mode 0600 under a
/// temporary name and hard-linked into place, so it appears complete or not
/// at all, and an existing key file is never replaced (a lost race adopts the
/// winner's key). An existing file with group or other permission bits, owned
/// by another user, or that is a symlink, is refused; it is opened without
/// following symlinks and checked on the open handle.
///
/// # Security
/// On Windows the file relies on the user profile's ACLs; no mode check is
/// made there.
#[derive(Debug, Clone)]
pub struct KeyFileSource {
    path: PathBuf,
}

/// The user this process runs as.
#[cfg(unix)]
fn effective_uid() -> u32 {
    // SAFETY: geteuid takes nothing, touches no memory and cannot fail.
    #[allow(unsafe_code)]
    unsafe {
        libc::geteuid()
    }
}

impl KeyFileSource {
    /// The key file at `path` (its directory is created, mode 0700, if needed).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Where the key file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read_existing(&self) -> Result<Option<VaultKey>, KeyError> {
        // Opened without following a symlink, and every check made on the
        // open handle: a path swapped between a check and the open cannot
        // hand over another file.
        let mut options = OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.custom_flags(libc::O_NOFOLLOW | libc::O_NOCTTY);
        }
        let file = match options.open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            // ELOOP: the path is a symlink.
            #[cfg(unix)]
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(KeyError::KeyFileMalformed);
            }
            Err(e) => return Err(KeyError::KeyFileIo(e)),
        };
        let metadata = file.metadata().map_err(KeyError::KeyFileIo)?;
        if !metadata.file_type().is_file() {
            return Err(KeyError::KeyFileMalformed);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            let mode = metadata.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyError::KeyFileInsecure { mode });
            }
            if metadata.uid() != effective_uid() {
                return Err(KeyError::KeyFileForeignOwner);
            }
        }
        let mut bytes = Zeroizing::new(Vec::with_capacity(VAULT_KEY_LEN + 1));
        // One byte more than a key tells "too long" from "exact".
        file.take(VAULT_KEY_LEN as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(KeyError::KeyFileIo)?;
        key_from_slice(&bytes)
            .map(Some)
            .ok_or(KeyError::KeyFileMalformed)
    }

    fn create(&self) -> Result<(VaultKey, KeyOrigin), KeyError> {
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(dir).map_err(KeyError::KeyFileIo)?;

        let key = random_vault_key()?;
        let mut suffix = [0u8; 8];
        crate::random::fill(&mut suffix).map_err(|_| KeyError::Random)?;
        let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
        let file_name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = dir.join(format!(".{file_name}.{suffix}.tmp"));

        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let written = options.open(&temp).and_then(|mut file| {
            file.write_all(key.secret())?;
            file.sync_all()
        });
        // link(2) fails if the target exists: the no-overwrite create.
        let linked = written.and_then(|()| fs::hard_link(&temp, &self.path));
        let _ = fs::remove_file(&temp);
        match linked {
            Ok(()) => {
                #[cfg(unix)]
                File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(KeyError::KeyFileIo)?;
                tracing::info!("created the vault key file");
                Ok((key, KeyOrigin::Created))
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let adopted = self.read_existing()?.ok_or(KeyError::KeyFileMalformed)?;
                Ok((adopted, KeyOrigin::Existing))
            }
            Err(e) => Err(KeyError::KeyFileIo(e)),
        }
    }
}

impl KeySource for KeyFileSource {
    fn load_or_create(&self) -> Result<(VaultKey, KeyOrigin), KeyError> {
        match self.read_existing()? {
            Some(key) => Ok((key, KeyOrigin::Existing)),
            None => self.create(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let source = KeyFileSource::new(dir.path().join("keys/vault.key"));
        let (created, origin) = source.load_or_create().unwrap();
        assert_eq!(origin, KeyOrigin::Created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(source.path()).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "only the user may read the key");
            let dir_mode = fs::metadata(dir.path().join("keys"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(dir_mode, 0o700, "the created directory is private too");
        }
        let (again, origin) = KeyFileSource::new(source.path()).load_or_create().unwrap();
        assert_eq!(origin, KeyOrigin::Existing);
        assert_eq!(
            again.secret(),
            created.secret(),
            "an existing key file is used, never replaced"
        );
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("keys")).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn key_file_race_adopts_the_winner() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.key");
        let winner = KeyFileSource::new(&path);
        let (won, _) = winner.load_or_create().unwrap();
        // The loser had seen no file and goes straight to creating.
        let (adopted, origin) = KeyFileSource::new(&path).create().unwrap();
        assert_eq!(
            origin,
            KeyOrigin::Existing,
            "the loser reports it did not create"
        );
        assert_eq!(
            adopted.secret(),
            won.secret(),
            "the loser adopts the key that landed"
        );
    }

    #[cfg(unix)]
    #[test]
    fn key_file_with_wide_permissions_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.key");
        fs::write(&path, [7u8; VAULT_KEY_LEN]).unwrap();
        for mode in [0o644, 0o640, 0o604, 0o660] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let error = KeyFileSource::new(&path)
                .load_or_create()
                .expect_err("too open");
            assert!(
                matches!(error, KeyError::KeyFileInsecure { .. }),
                "mode {mode:o}: {error:?}"
            );
            assert_eq!(error.code(), ErrorCode::Storage);
        }
        assert_eq!(
            fs::read(&path).unwrap(),
            [7u8; VAULT_KEY_LEN],
            "a refused key file is left untouched, not replaced"
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let (key, _) = KeyFileSource::new(&path).load_or_create().unwrap();
        assert_eq!(key.secret(), &[7u8; VAULT_KEY_LEN], "0600 is accepted");
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_of_another_user_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        if effective_uid() != 0 {
            println!("SKIPPED: giving a file to another user needs root");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.key");
        fs::write(&path, [7u8; VAULT_KEY_LEN]).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::chown(&path, Some(65534), None).unwrap();
        let error = KeyFileSource::new(&path)
            .load_or_create()
            .expect_err("another user's file");
        assert!(
            matches!(error, KeyError::KeyFileForeignOwner),
            "a key someone else owns could be theirs to swap: {error:?}"
        );
        assert_eq!(error.code(), ErrorCode::Storage);
        assert_eq!(
            fs::read(&path).unwrap(),
            [7u8; VAULT_KEY_LEN],
            "and it is left as it was"
        );
    }

    #[cfg(unix)]
    #[test]
    fn malformed_key_files_are_refused_not_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for (len, why) in [(0, "empty"), (31, "short"), (33, "long")] {
            let path = dir.path().join(format!("k{len}"));
            fs::write(&path, vec![1u8; len]).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
            let error = KeyFileSource::new(&path).load_or_create().expect_err(why);
            assert!(
                matches!(error, KeyError::KeyFileMalformed),
                "{why}: {error:?}"
            );
            assert_eq!(
                fs::read(&path).unwrap().len(),
                len,
                "{why}: the file is left as it was"
            );
        }
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(dir.path().join("k31"), &link).unwrap();
        assert!(
            matches!(
                KeyFileSource::new(&link).load_or_create(),
                Err(KeyError::KeyFileMalformed)
            ),
            "a symlink is not followed"
        );
    }
}
