//! `exec-env` and `exec-file`: run a command with the decrypted values,
//! without writing plaintext to the working tree (see `crate::exec`).

use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use super::args::{ExecEnvArgs, ExecFileArgs, OpenArgs};
use super::common::Context;
use super::signals::SignalCleanup;
use crate::error::{Error, Result};
use crate::exec::{EnvVars, command_with_path, without_shell};
use crate::fsio;
use crate::keys::KeyServices;
use crate::keys::group::DecryptionOrder;
use crate::ops::{self, DecryptRequest, Purpose};
use crate::store::Format;

fn order(args: &OpenArgs) -> Result<DecryptionOrder> {
    args.decryption_order.as_deref().map(DecryptionOrder::parse).transpose().map(Option::unwrap_or_default)
}

pub fn exec_env(ctx: &Context, services: &KeyServices, args: &ExecEnvArgs) -> Result<()> {
    let (command, files) = args.files_and_command.split_last().expect("clap requires two or more");
    if args.background && args.same_process {
        return Err(Error::ConflictingParameters(
            "--same-process cannot be used with --background (there would be no process to return to)".into(),
        ));
    }
    let order = order(&args.decrypt)?;
    let mut vars = EnvVars::default();
    for file in files {
        let path = Path::new(file);
        let format =
            args.input_type.as_deref().and_then(Format::from_name).unwrap_or_else(|| Format::from_path(path));
        let opened = ops::open(
            ctx.read_file(path.as_ref())?,
            format,
            args.decrypt.ignore_mac,
            &order,
            services,
            Purpose::Read,
        )?;
        for warning in &opened.warnings {
            eprintln!("warning: {}", warning.0);
        }
        vars.add_tree(&opened.parsed.tree, &|key, value| crate::store::interpret_env(format, key, value))?;
    }
    for name in &vars.conflicts {
        eprintln!("warning: {name} is set by more than one file; the last one wins");
    }
    // Without PATH, a shell and execvp would search different defaults.
    let direct = !args.pristine || vars.iter().any(|(name, _)| name == "PATH");
    let setup = |child: &mut Command| {
        if args.pristine {
            child.env_clear();
        }
        for (name, value) in vars.iter() {
            child.env(name, value);
        }
        run_as(child, args.user.as_deref())
    };
    let child = Child::new(command, direct, &setup);
    if args.background {
        warn_background_deprecated("exec-env");
        child.spawn_in_background()?;
        return Ok(());
    }
    // Once the command runs there is nothing left for sops-rs to do, unless
    // the audit log is to record how it ended: then sops-rs stays as its
    // parent (sops's default). Otherwise it is replaced (sops's
    // --same-process), which hands the command every signal rather than the
    // three a parent passes on, makes it PID 1 in a container where sops-rs
    // was, takes the decrypted values out of this process's memory, and
    // saves a process: 0.4 ms of a 2.8 ms run on the tiny file.
    let audit_log = ctx.audit_log();
    if args.same_process || audit_log.is_none() {
        // This process is replaced: the audit line is written now.
        if let Some(log) = audit_log {
            let entry = crate::audit::AuditEntry {
                operation: "exec-env",
                files: files.iter().map(PathBuf::from).collect(),
                keys: services.used_keys(),
                error: None,
            };
            log.record(&ctx.env, &entry)?;
        }
        return Err(child.exec());
    }
    run_forwarding_signals(&child)
}

pub fn exec_file(ctx: &Context, services: &KeyServices, args: &ExecFileArgs) -> Result<()> {
    if args.background && args.no_fifo {
        return Err(Error::ConflictingParameters(
            "--background cannot be used with --no-fifo: the file would be removed before the command read it, \
             or left behind with the plaintext in it"
                .into(),
        ));
    }
    let input = ctx.read_file(&args.file)?;
    let input_format = args
        .types
        .input_type
        .as_deref()
        .and_then(Format::from_name)
        .unwrap_or_else(|| Format::from_path(&args.file));
    let output_format = args.types.output_type.as_deref().and_then(Format::from_name).unwrap_or(input_format);
    if args.filename.contains('/')
        || args.filename.is_empty()
        || args.filename == "."
        || args.filename == ".."
    {
        return Err(Error::InvalidArgument(format!(
            "--filename {:?} must be a plain file name",
            args.filename
        )));
    }
    let request = DecryptRequest {
        input_format,
        output_format,
        ignore_mac: args.decrypt.ignore_mac,
        extract: None,
        decryption_order: order(&args.decrypt)?,
        store_options: ctx.config()?.map(|c| c.stores).unwrap_or_default(),
    };
    let decrypted = ops::decrypt(input, request, services)?;
    for warning in &decrypted.warnings {
        eprintln!("warning: {}", warning.0);
    }
    let dir = fsio::private_dir(&ctx.env)
        .map_err(|source| Error::WriteOutput { path: "<temporary directory>".into(), source })?;
    let path = dir.path().join(&args.filename);
    let pid = Arc::new(AtomicU32::new(0));
    let _signals = SignalCleanup::install(
        dir.path().to_owned(),
        Arc::new(AtomicBool::new(false)),
        false,
        Some(pid.clone()),
    );
    let command = command_with_path(&args.command, &path.to_string_lossy());
    let setup = |child: &mut Command| run_as(child, args.user.as_deref());
    let child = Child::new(&command, true, &setup);
    if args.no_fifo {
        fsio::write_private(&path, &decrypted.output)
            .map_err(|source| Error::WriteOutput { path: "<temporary file>".into(), source })?;
        run(&child, pid)
    } else {
        make_fifo(&path)?;
        let writer = FifoWriter::start(path.clone(), decrypted.output);
        if args.background {
            warn_background_deprecated("exec-file");
            let started = child.spawn_in_background().map(|mut process| {
                // The FIFO (and the directory) go when this returns, so wait
                // until the command has taken everything, or has ended without.
                pid.store(process.id(), Ordering::SeqCst);
                while !writer.is_finished() && matches!(process.try_wait(), Ok(None)) {
                    std::thread::sleep(Duration::from_millis(2));
                }
            });
            writer.finish();
            return started;
        }
        let result = run(&child, pid);
        writer.finish();
        result
    }
}

/// The command to run: its words directly when a shell would make no
/// difference (`exec::without_shell` says when, and why it matters), or
/// `/bin/sh -c COMMAND`, as sops runs every command. `setup` gives either
/// its environment and user.
struct Child<'a> {
    text: &'a str,
    words: Option<Vec<&'a str>>,
    setup: &'a dyn Fn(&mut Command) -> Result<()>,
}

/// execve's "not an executable format": a script without `#!`, which a
/// shell runs as a shell script.
const ENOEXEC: i32 = 8;

impl<'a> Child<'a> {
    fn new(text: &'a str, allow_direct: bool, setup: &'a dyn Fn(&mut Command) -> Result<()>) -> Self {
        Child { text, words: allow_direct.then(|| without_shell(text)).flatten(), setup }
    }

    fn direct(&self) -> Result<Option<Command>> {
        let Some((program, args)) = self.words.as_ref().and_then(|words| words.split_first()) else {
            return Ok(None);
        };
        let mut child = Command::new(program);
        child.args(args);
        (self.setup)(&mut child)?;
        Ok(Some(child))
    }

    fn shell(&self) -> Result<Command> {
        let mut child = Command::new("/bin/sh");
        child.arg("-c").arg(self.text);
        (self.setup)(&mut child)?;
        Ok(child)
    }

    /// Why the program could not be started, when a shell would not have
    /// started it either; `None` when the shell should try (ENOEXEC).
    fn not_run(&self, source: std::io::Error) -> Option<Error> {
        let program = self.words.as_ref().and_then(|words| words.first())?;
        (source.raw_os_error() != Some(ENOEXEC))
            .then(|| Error::CommandNotRun { program: (*program).to_owned(), source })
    }

    /// Start the command with `launch` (spawn it, or replace this process
    /// with it): directly when it can be, through the shell when it must be
    /// or when the program turns out to be a script without `#!`.
    fn start<T>(&self, launch: impl Fn(&mut Command) -> std::io::Result<T>) -> Result<T> {
        if let Some(mut child) = self.direct()? {
            match launch(&mut child) {
                Ok(started) => return Ok(started),
                Err(source) => {
                    if let Some(error) = self.not_run(source) {
                        return Err(error);
                    }
                }
            }
        }
        launch(&mut self.shell()?)
            .map_err(|e| Error::InvalidArgument(format!("could not run the command: {e}")))
    }

    fn spawn(&self) -> Result<std::process::Child> {
        self.start(Command::spawn)
    }

    /// `--background`: as sops starts it, with no input and its output
    /// discarded (it may outlive this process and its terminal).
    fn spawn_in_background(&self) -> Result<std::process::Child> {
        use std::process::Stdio;
        self.start(|child| child.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn())
    }

    /// Replace this process (`--same-process`); returns only on failure.
    fn exec(&self) -> Error {
        match self.start(|child| Err::<std::convert::Infallible, _>(child.exec())) {
            Ok(never) => match never {},
            Err(error) => error,
        }
    }
}

/// sops deprecated `--background`; its users hear it from us too.
fn warn_background_deprecated(command: &str) {
    eprintln!("warning: {command}'s --background is deprecated in sops and may be removed there");
}

/// `--user`: switch to the named user's uid and gid, found in /etc/passwd.
fn run_as(child: &mut Command, user: Option<&str>) -> Result<()> {
    let Some(user) = user else { return Ok(()) };
    let passwd = std::fs::read_to_string("/etc/passwd")
        .map_err(|source| Error::ReadInput { path: "/etc/passwd".into(), source })?;
    let entry = passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.len() > 3 && fields[0] == user)
        .ok_or_else(|| Error::InvalidArgument(format!("no user {user:?} in /etc/passwd")))?;
    let uid: u32 = entry[2].parse().map_err(|_| Error::InvalidArgument(format!("bad uid for {user:?}")))?;
    let gid: u32 = entry[3].parse().map_err(|_| Error::InvalidArgument(format!("bad gid for {user:?}")))?;
    child.uid(uid).gid(gid);
    Ok(())
}

/// Run the child (`exec-file`, whose `SignalCleanup` passes signals on to
/// the process id in `pid_slot`) and return its exit status as ours.
fn run(child: &Child<'_>, pid_slot: Arc<AtomicU32>) -> Result<()> {
    let mut process = child.spawn()?;
    pid_slot.store(process.id(), Ordering::SeqCst);
    let status = wait_for(&mut process);
    pid_slot.store(0, Ordering::SeqCst);
    status
}

/// The command's exit status as ours (128 + the signal when it was killed
/// by one).
fn wait_for(process: &mut std::process::Child) -> Result<()> {
    let status =
        process.wait().map_err(|e| Error::InvalidArgument(format!("waiting for the command failed: {e}")))?;
    let code = status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    if code == 0 { Ok(()) } else { Err(Error::ChildExit(code)) }
}

/// `exec-env`'s child: SIGINT, SIGTERM and SIGHUP that reach sops-rs while
/// it runs are passed on to it (a supervisor that stops sops-rs stops the
/// program under it). They are caught from just before the command starts;
/// during the decryption they end this process as they would without a
/// handler. No thread waits for them: this one does, woken by SIGCHLD when
/// the command ends. A waiting thread cost 0.3-0.5 ms of a 2.9 ms run on the
/// tiny file: its start, and every later unmapping of memory becoming a
/// cross-CPU TLB flush while it lived (docs/performance.md).
fn run_forwarding_signals(child: &Child<'_>) -> Result<()> {
    use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP, SIGCHLD]) else {
        return wait_for(&mut child.spawn()?);
    };
    let mut process = child.spawn()?;
    loop {
        // Any SIGCHLD (the `kill` that forwards a signal sends one too) is
        // a reason to look; one that comes after this look is still queued.
        let exited = process
            .try_wait()
            .map_err(|e| Error::InvalidArgument(format!("waiting for the command failed: {e}")))?;
        if exited.is_some() {
            return wait_for(&mut process);
        }
        for signal in signals.wait() {
            if signal != SIGCHLD {
                super::signals::forward(signal, process.id());
            }
        }
    }
}

/// A FIFO, mode 0600.
fn make_fifo(path: &Path) -> Result<()> {
    use rustix::fs::{CWD, FileType, Mode, mknodat};
    mknodat(CWD, path, FileType::Fifo, Mode::RUSR | Mode::WUSR, 0)
        .map_err(|errno| Error::WriteOutput { path: "<fifo>".into(), source: errno.into() })
}

/// O_NONBLOCK, for opening the FIFO to read without waiting for a writer.
#[cfg(target_os = "linux")]
const O_NONBLOCK: i32 = 0o4000;
#[cfg(not(target_os = "linux"))]
const O_NONBLOCK: i32 = 0x4;

/// Writes the plaintext into the FIFO for the command. Its thread opens the
/// FIFO to write, which waits until a reader opens it: the command, at once,
/// or `finish` once the command has ended without reading (see there).
/// Writes block while the command is not reading; a command that ends
/// closes its side and the write fails. (The writer used to poll: a
/// non-blocking open retried every 5 ms and a full pipe every 2 ms, which
/// delayed every `exec-file` by up to 5 ms and a 1 MB file by some 30 ms.)
struct FifoWriter {
    path: PathBuf,
    done: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl FifoWriter {
    fn start(path: PathBuf, data: crate::secret::SecretVec) -> FifoWriter {
        let done = Arc::new(AtomicBool::new(false));
        let thread = {
            let (path, done) = (path.clone(), done.clone());
            std::thread::spawn(move || {
                let Ok(mut file) = std::fs::OpenOptions::new().write(true).open(&path) else { return };
                if !done.load(Ordering::SeqCst) {
                    let _ = file.write_all(&data);
                }
            })
        };
        FifoWriter { path, done, thread }
    }

    fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// After the command has ended: release the thread if it still waits
    /// for a reader, by opening the FIFO to read so that its open returns
    /// and it sees there is no one to write to, and wait for it. The reader
    /// is held for a moment, again and again, as the thread may not have
    /// reached its open yet (a command like `true` can end first; released
    /// only once, such a thread waited for ever). A thread still writing after 100 ms writes to a
    /// reader the command left behind (`reader {} &`); it is not waited
    /// for, and ends with this process.
    fn finish(self) {
        use std::os::unix::fs::OpenOptionsExt;
        self.done.store(true, Ordering::SeqCst);
        for _ in 0..100 {
            if self.thread.is_finished() {
                let _ = self.thread.join();
                return;
            }
            let reader = std::fs::OpenOptions::new().read(true).custom_flags(O_NONBLOCK).open(&self.path);
            std::thread::sleep(Duration::from_millis(1));
            drop(reader);
        }
    }
}
