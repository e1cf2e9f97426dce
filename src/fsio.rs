//! Writing files so that a crash leaves the old file or the new one, and
//! reading inputs no larger than a limit.
//!
//! sops truncates the target and writes into it, so an interrupted write
//! loses the file. Here every write goes to a temporary file in the target's
//! own directory (so the final rename stays on one file system), is flushed
//! to disk, takes the original's permissions and owner, and then replaces
//! the target in one atomic rename; the directory is synced so the rename
//! itself survives a power cut. A symbolic link is written through: its
//! target is replaced and the link stays a link.
//!
//! Every input a command reads (the file, standard input, an existing
//! output it compares against, the config file, a `--value-file`) goes
//! through [`read_file`] or [`read_stream`] with a [`SizeLimit`]: 1 GiB
//! unless `SOPS_RS_MAX_FILE_SIZE` says otherwise. Without one, `decrypt
//! /dev/zero` or a multi-gigabyte file from an untrusted branch reads until
//! memory runs out; parsing and encrypting take several times the file's
//! size in memory (about 7x for YAML), so the limit is what bounds a run.
//! The check is on bytes read, not on the size the file system reports, so
//! it holds for pipes, FIFOs and files that grow while being read. Going
//! over it is an `ErrorKind::FileTooLarge` I/O error, which the command
//! line reports as a read error (exit 2) with a hint naming the variable.

use std::fs::{self, File, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Permissions for a new file that holds plaintext.
pub const PRIVATE_MODE: u32 = 0o600;

/// Permissions for a new file that holds only ciphertext (before umask).
pub const SHARED_MODE: u32 = 0o644;

/// The variable that sets the largest input read.
pub const MAX_FILE_SIZE_VAR: &str = "SOPS_RS_MAX_FILE_SIZE";

/// The largest input read when [`MAX_FILE_SIZE_VAR`] is not set: 1 GiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 1 << 30;

/// How many bytes an input may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SizeLimit(Option<u64>);

impl Default for SizeLimit {
    fn default() -> Self {
        SizeLimit(Some(DEFAULT_MAX_FILE_SIZE))
    }
}

impl SizeLimit {
    /// At most `bytes` bytes.
    pub fn bytes(bytes: u64) -> SizeLimit {
        SizeLimit(Some(bytes))
    }

    /// No limit.
    pub fn none() -> SizeLimit {
        SizeLimit(None)
    }

    /// The limit in bytes, if there is one.
    pub fn get(self) -> Option<u64> {
        self.0
    }

    /// From [`MAX_FILE_SIZE_VAR`]: a number of bytes, optionally followed by
    /// `K`, `M` or `G` (powers of 1024; `KiB`, `MB` and lower case are read
    /// the same); `0` means no limit. Unset or empty gives the default.
    pub fn from_env(env: &crate::env::Environment) -> Result<SizeLimit, String> {
        let Some(text) = env.non_empty(MAX_FILE_SIZE_VAR) else { return Ok(SizeLimit::default()) };
        let bad = || {
            format!(
                "{MAX_FILE_SIZE_VAR}={text:?} is not a size: use a number of bytes, optionally with K, M or G (0 for no limit)"
            )
        };
        let trimmed = text.trim();
        let digits_end = trimmed.find(|c: char| !c.is_ascii_digit()).unwrap_or(trimmed.len());
        let (digits, unit) = trimmed.split_at(digits_end);
        let number: u64 = digits.parse().map_err(|_| bad())?;
        let shift = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 0,
            "k" | "kb" | "kib" => 10,
            "m" | "mb" | "mib" => 20,
            "g" | "gb" | "gib" => 30,
            "t" | "tb" | "tib" => 40,
            _ => return Err(bad()),
        };
        let bytes = number.checked_mul(1u64 << shift).ok_or_else(bad)?;
        Ok(if bytes == 0 { SizeLimit::none() } else { SizeLimit::bytes(bytes) })
    }

    fn exceeded(self) -> io::Error {
        let limit = self.0.unwrap_or(u64::MAX);
        io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("the input is larger than the limit of {limit} bytes ({MAX_FILE_SIZE_VAR})"),
        )
    }
}

/// Read a whole file, failing once more than `limit` bytes were read.
pub fn read_file(path: &Path, limit: SizeLimit) -> io::Result<Vec<u8>> {
    let file = File::open(path)?;
    // A regular file's size is known: refuse it before reading anything.
    let size = file.metadata().map(|m| if m.is_file() { m.len() } else { 0 }).unwrap_or(0);
    if limit.0.is_some_and(|max| size > max) {
        return Err(limit.exceeded());
    }
    let mut bytes = Vec::new();
    // As std::fs::read does: room for the whole file up front, so the
    // buffer is not reallocated (leaving copies of plaintext behind).
    bytes.try_reserve_exact(usize::try_from(size).unwrap_or(0)).map_err(io::Error::other)?;
    read_limited(file, limit, &mut bytes)?;
    Ok(bytes)
}

/// Read a stream (standard input) to its end, failing once more than
/// `limit` bytes were read. The buffer is grown by hand and wiped when
/// dropped, so no freed allocation keeps a copy of what was read.
pub fn read_stream(mut reader: impl io::Read, limit: SizeLimit) -> io::Result<crate::secret::SecretVec> {
    let mut buffer = crate::secret::SecretVec::new(Vec::with_capacity(64 << 10));
    let mut chunk = crate::secret::SecretVec::new(vec![0u8; 64 << 10]);
    loop {
        let read = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if limit.0.is_some_and(|max| (buffer.len() + read) as u64 > max) {
            return Err(limit.exceeded());
        }
        if buffer.len() + read > buffer.capacity() {
            let mut bigger = crate::secret::SecretVec::new(Vec::new());
            bigger
                .try_reserve_exact((buffer.capacity() * 2).max(buffer.len() + read))
                .map_err(io::Error::other)?;
            bigger.extend_from_slice(&buffer);
            buffer = bigger;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    Ok(buffer)
}

fn read_limited(file: File, limit: SizeLimit, into: &mut Vec<u8>) -> io::Result<()> {
    use std::io::Read;
    match limit.0 {
        None => {
            let mut file = file;
            file.read_to_end(into)?;
        }
        Some(max) => {
            // One byte past the limit tells a file at the limit from a
            // larger one (a FIFO, or a file that grew since it was opened).
            file.take(max.saturating_add(1)).read_to_end(into)?;
            if into.len() as u64 > max {
                return Err(limit.exceeded());
            }
        }
    }
    Ok(())
}

/// Replace `path` with `data` atomically. An existing file keeps its mode
/// and owner; a new one gets `new_mode`.
pub fn write_atomic(path: &Path, data: &[u8], new_mode: u32) -> io::Result<()> {
    write_atomic_parts(path, &[data], new_mode)
}

/// [`write_atomic`] of the concatenation of `parts`, without joining them.
///
/// A path that names something other than a regular file or a directory
/// (`/dev/null`, `/dev/stdout`, a named pipe, the `/dev/fd/N` of a shell's
/// `>(...)`) is written into as it is, as sops does: renaming a temporary
/// file over it would replace the device or pipe with a regular file
/// holding the output, which for a decryption is plaintext, and nothing
/// would reach the reader.
pub fn write_atomic_parts(path: &Path, parts: &[&[u8]], new_mode: u32) -> io::Result<()> {
    write_atomic_steps(path, parts, new_mode, &mut |_| Ok(()))
}

/// Write each of `parts` to `writer`, in order.
pub fn write_parts(writer: &mut impl Write, parts: &[&[u8]]) -> io::Result<()> {
    parts.iter().try_for_each(|part| writer.write_all(part))
}

/// Write `parts` into an existing device, pipe or socket: opened for writing
/// only, never created, truncated or renamed.
fn write_into_special(path: &Path, parts: &[&[u8]]) -> io::Result<()> {
    let mut file = fs::OpenOptions::new().write(true).open(path)?;
    write_parts(&mut file, parts)?;
    file.flush()
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
    parts: &[&[u8]],
    new_mode: u32,
    before: &mut dyn FnMut(WriteStep) -> io::Result<()>,
) -> io::Result<()> {
    if let Ok(meta) = fs::metadata(path)
        && !meta.is_file()
        && !meta.is_dir()
    {
        return write_into_special(path, parts);
    }
    let target = resolve_symlinks(path)?;
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        // Said plainly: creating the temporary file would fail naming the
        // temporary file, which the user never asked for.
        return Err(io::Error::new(io::ErrorKind::NotFound, format!("no directory {}", dir.display())));
    }
    let existing = fs::metadata(&target).ok();
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    before(WriteStep::CreateTemp)?;
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".sops-rs-tmp")
        .permissions(Permissions::from_mode(PRIVATE_MODE))
        .tempfile_in(&dir)?;
    before(WriteStep::Write)?;
    write_parts(&mut temp, parts)?;
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
    use std::os::unix::fs::FileTypeExt;

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

    /// Regression: `--output /dev/null` renamed a temporary file over the
    /// device, leaving a regular file with the (decrypted) output in its
    /// place; a named pipe was replaced the same way and its reader got
    /// nothing. The reader here is opened first and does not block, so a
    /// regression fails the test instead of hanging it.
    #[test]
    fn a_named_pipe_is_written_into_not_replaced() {
        use std::io::Read;
        use std::os::unix::fs::OpenOptionsExt;
        const O_NONBLOCK: i32 = 0o4000;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        let mut reader = fs::OpenOptions::new().read(true).custom_flags(O_NONBLOCK).open(&fifo).unwrap();
        write_atomic_parts(&fifo, &[b"a: 1\n", b"b: 2\n"], PRIVATE_MODE).unwrap();
        let mut got = Vec::new();
        let _ = reader.read_to_end(&mut got);
        assert_eq!(got, b"a: 1\nb: 2\n");
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "still a pipe");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["fifo"], "no temporary file left");
    }

    /// A null device of the test's own (`mknod` needs root, which CI and
    /// this project's machines have), so that a regression replaces it and
    /// not the system's `/dev/null`.
    #[test]
    fn a_device_is_written_into_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let device = dir.path().join("null");
        let made = std::process::Command::new("mknod").arg(&device).args(["c", "1", "3"]).status().unwrap();
        assert!(made.success(), "mknod (run the tests as root)");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&device, &link).unwrap();
        write_atomic(&device, b"secret", PRIVATE_MODE).unwrap();
        write_atomic(&link, b"secret", PRIVATE_MODE).unwrap();
        assert!(fs::symlink_metadata(&device).unwrap().file_type().is_char_device(), "still a device");
        let mut names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        assert_eq!(names, ["link", "null"], "no temporary file left");
    }

    #[test]
    fn a_missing_directory_is_named_not_the_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("f.yaml");
        let error = write_atomic(&path, b"x", PRIVATE_MODE).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        assert_eq!(error.to_string(), format!("no directory {}", dir.path().join("missing").display()));
    }

    #[test]
    fn parts_are_written_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.yaml");
        write_atomic_parts(&path, &[b"a: 1\n", b"", b"b: 2\n"], SHARED_MODE).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"a: 1\nb: 2\n");
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
            let result = write_atomic_steps(&path, &[b"new ", b"contents"], PRIVATE_MODE, &mut |step| {
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

    #[test]
    fn size_limits_parse_and_hold() {
        use crate::env::Environment;
        let limit = |v: &str| SizeLimit::from_env(&Environment::empty().with(MAX_FILE_SIZE_VAR, v));
        assert_eq!(SizeLimit::from_env(&Environment::empty()), Ok(SizeLimit::default()));
        assert_eq!(limit(""), Ok(SizeLimit::default()));
        assert_eq!(limit("1000"), Ok(SizeLimit::bytes(1000)));
        assert_eq!(limit("2K"), Ok(SizeLimit::bytes(2048)));
        assert_eq!(limit("3 MiB"), Ok(SizeLimit::bytes(3 << 20)));
        assert_eq!(limit("1g"), Ok(SizeLimit::bytes(1 << 30)));
        assert_eq!(limit("0"), Ok(SizeLimit::none()));
        for bad in ["-1", "lots", "1.5G", "12Q", "99999999999999999999", "20000000000T"] {
            let err = limit(bad).unwrap_err();
            assert!(err.contains(MAX_FILE_SIZE_VAR), "{bad}: {err}");
        }

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, vec![b'x'; 100]).unwrap();
        assert_eq!(read_file(&path, SizeLimit::bytes(100)).unwrap().len(), 100);
        assert_eq!(read_file(&path, SizeLimit::bytes(99)).unwrap_err().kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(read_file(&path, SizeLimit::none()).unwrap().len(), 100);
        let stream = || io::Cursor::new(vec![b'y'; 200_000]);
        assert_eq!(read_stream(stream(), SizeLimit::bytes(200_000)).unwrap().len(), 200_000);
        assert_eq!(
            read_stream(stream(), SizeLimit::bytes(199_999)).unwrap_err().kind(),
            io::ErrorKind::FileTooLarge
        );
        // A device that never ends stops at the limit.
        let zero = Path::new("/dev/zero");
        if zero.exists() {
            assert_eq!(
                read_file(zero, SizeLimit::bytes(1 << 20)).unwrap_err().kind(),
                io::ErrorKind::FileTooLarge
            );
        }
    }
}
