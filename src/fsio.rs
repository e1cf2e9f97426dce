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
    write_atomic_steps(path, data, new_mode, &mut |_| Ok(()))
}

/// The steps of an atomic write, in order; a test can make any of them fail
/// to prove that the original survives and nothing is left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteStep {
    CreateTemp,
    Write,
    SetPermissions,
    Sync,
    Rename,
}

/// [`write_atomic`] with a hook called before each step. On any failure
/// the temporary file is removed (it is deleted when dropped, and a failed
/// rename hands it back to be dropped) and the target is untouched.
pub(crate) fn write_atomic_steps(
    path: &Path,
    data: &[u8],
    new_mode: u32,
    before: &mut dyn FnMut(WriteStep) -> io::Result<()>,
) -> io::Result<()> {
    let target = resolve_symlinks(path)?;
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let existing = fs::metadata(&target).ok();
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    before(WriteStep::CreateTemp)?;
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".sops-rs-tmp")
        .permissions(Permissions::from_mode(PRIVATE_MODE))
        .tempfile_in(&dir)?;
    before(WriteStep::Write)?;
    temp.write_all(data)?;
    before(WriteStep::SetPermissions)?;
    let mode = existing.as_ref().map_or(new_mode, |m| m.permissions().mode() & 0o7777);
    temp.as_file().set_permissions(Permissions::from_mode(mode))?;
    if let Some(meta) = &existing {
        // Keep the owner when we can (we run as root, or it is ours anyway);
        // failing to is not worth losing the write over.
        let _ = std::os::unix::fs::fchown(temp.as_file(), Some(meta.uid()), Some(meta.gid()));
    }
    before(WriteStep::Sync)?;
    temp.as_file().sync_all()?;
    before(WriteStep::Rename)?;
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
    fn a_failure_at_any_step_leaves_the_original_and_no_temporary_file() {
        use WriteStep::*;
        for failing in [CreateTemp, Write, SetPermissions, Sync, Rename] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("f.yaml");
            fs::write(&path, "old contents").unwrap();
            fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
            let mut seen = Vec::new();
            let result = write_atomic_steps(&path, b"new contents", PRIVATE_MODE, &mut |step| {
                seen.push(step);
                if step == failing { Err(io::Error::other("injected")) } else { Ok(()) }
            });
            assert_eq!(result.unwrap_err().to_string(), "injected", "{failing:?}");
            assert_eq!(seen.last(), Some(&failing));
            assert_eq!(fs::read(&path).unwrap(), b"old contents", "{failing:?}: original intact");
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
            let names: Vec<_> = fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            assert_eq!(names, ["f.yaml"], "{failing:?}: no temporary file left");
        }
    }

    #[test]
    fn a_real_rename_failure_leaves_no_temporary_file() {
        // The target is a directory: rename(2) onto it fails after the
        // temporary file was written and synced.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("taken");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside"), "x").unwrap();
        assert!(write_atomic(&path, b"new", PRIVATE_MODE).is_err());
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["taken"]);
    }

    #[test]
    fn keeps_the_owner() {
        // Only root can give a file away; elsewhere this checks nothing new.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.yaml");
        fs::write(&path, "old").unwrap();
        if std::os::unix::fs::chown(&path, Some(4321), Some(4321)).is_err() {
            return;
        }
        write_atomic(&path, b"new", PRIVATE_MODE).unwrap();
        let meta = fs::metadata(&path).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (4321, 4321));
    }

    #[test]
    fn failure_leaves_the_original() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("f.yaml");
        assert!(write_atomic(&path, b"new", PRIVATE_MODE).is_err());
    }
}
