//! Writing files so that a crash leaves the old file or the new one.
//!
//! sops truncates the target and writes into it, so an interrupted write
//! loses the file. Here every write goes to a temporary file in the target's
//! own directory (so the final rename stays on one file system), is flushed
//! to disk, takes the original's permissions and owner, and then replaces
//! the target in one atomic rename; the directory is synced so the rename
//! itself survives a power cut. A symbolic link is written through: its
//! target is replaced and the link stays a link.

use std::fs::{self, File, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Permissions for a new file that holds plaintext.
pub const PRIVATE_MODE: u32 = 0o600;

/// Permissions for a new file that holds only ciphertext (before umask).
pub const SHARED_MODE: u32 = 0o644;

/// Replace `path` with `data` atomically. An existing file keeps its mode
/// and owner; a new one gets `new_mode`.
pub fn write_atomic(path: &Path, data: &[u8], new_mode: u32) -> io::Result<()> {
    let target = resolve_symlinks(path)?;
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let existing = fs::metadata(&target).ok();
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".sops-rs-tmp")
        .permissions(Permissions::from_mode(PRIVATE_MODE))
        .tempfile_in(&dir)?;
    temp.write_all(data)?;
    let mode = existing.as_ref().map_or(new_mode, |m| m.permissions().mode() & 0o7777);
    temp.as_file().set_permissions(Permissions::from_mode(mode))?;
    if let Some(meta) = &existing {
        // Keep the owner when we can (we run as root, or it is ours anyway);
        // failing to is not worth losing the write over.
        let _ = std::os::unix::fs::fchown(temp.as_file(), Some(meta.uid()), Some(meta.gid()));
    }
    temp.as_file().sync_all()?;
    temp.persist(&target).map_err(|e| e.error)?;
    if let Ok(dir) = File::open(&dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// A private directory for plaintext that must exist briefly (the file
/// `edit` opens, the file `exec-file --no-fifo` hands over): mode 0700, on a
/// memory file system when there is one (`$XDG_RUNTIME_DIR`, `/dev/shm`),
/// never in the working tree, removed when dropped.
pub fn private_dir(env: &crate::env::Environment) -> io::Result<tempfile::TempDir> {
    let candidates = [env.non_empty("XDG_RUNTIME_DIR").map(PathBuf::from), Some(PathBuf::from("/dev/shm"))];
    let base = candidates
        .into_iter()
        .flatten()
        .find(|dir| dir.is_dir() && is_writable(dir))
        .unwrap_or_else(std::env::temp_dir);
    tempfile::Builder::new().prefix("sops-rs-").permissions(Permissions::from_mode(0o700)).tempdir_in(base)
}

fn is_writable(dir: &Path) -> bool {
    tempfile::Builder::new().prefix(".sops-rs-probe").tempfile_in(dir).is_ok()
}

/// Create `path` with mode 0600 and these bytes (it must not exist yet).
pub fn write_private(path: &Path, data: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(PRIVATE_MODE).open(path)?;
    file.write_all(data)?;
    file.sync_all()
}

/// Follow symbolic links to the file they name, so the link is kept.
fn resolve_symlinks(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&current)?;
                current = if link.is_absolute() {
                    link
                } else {
                    current.parent().map(|p| p.join(&link)).unwrap_or(link)
                };
            }
            _ => return Ok(current),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_and_keeps_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.yaml");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, b"new", PRIVATE_MODE).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn new_files_get_the_requested_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain.yaml");
        write_atomic(&path, b"secret", PRIVATE_MODE).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn writes_through_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.yaml");
        let link = dir.path().join("link.yaml");
        fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink("real.yaml", &link).unwrap();
        write_atomic(&link, b"new", PRIVATE_MODE).unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"new");
    }

    #[test]
    fn failure_leaves_the_original() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("f.yaml");
        assert!(write_atomic(&path, b"new", PRIVATE_MODE).is_err());
    }
}
