//! Signals while a child runs: plaintext in a private directory must not
//! outlive an interrupted run.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Removes the private directory and exits when the process is told to
/// stop. While an interactive child runs (an editor), Ctrl-C belongs to it
/// (vim, for one, uses it), so SIGINT is ignored then. When `child` holds a
/// process id, the signal is passed on to that child first.
pub struct SignalCleanup {
    handle: Option<signal_hook::iterator::Handle>,
}

impl SignalCleanup {
    pub fn install(
        dir: PathBuf,
        child_running: Arc<AtomicBool>,
        interactive: bool,
        child: Option<Arc<AtomicU32>>,
    ) -> SignalCleanup {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return SignalCleanup { handle: None };
        };
        let handle = signals.handle();
        std::thread::spawn(move || {
            for signal in signals.forever() {
                if signal == SIGINT && interactive && child_running.load(Ordering::SeqCst) {
                    continue;
                }
                if let Some(pid) = child.as_ref().map(|c| c.load(Ordering::SeqCst)).filter(|p| *p != 0) {
                    forward(signal, pid);
                }
                let _ = std::fs::remove_dir_all(&dir);
                eprintln!("sops-rs: interrupted; the temporary plaintext was removed");
                std::process::exit(128 + signal);
            }
        });
        SignalCleanup { handle: Some(handle) }
    }
}

impl Drop for SignalCleanup {
    fn drop(&mut self) {
        if let Some(handle) = &self.handle {
            handle.close();
        }
    }
}

/// Pass a signal on to a child.
pub fn forward(signal: i32, pid: u32) {
    use rustix::process::{Pid, Signal, kill_process};
    let pid = i32::try_from(pid).ok().and_then(Pid::from_raw);
    if let (Some(pid), Some(signal)) = (pid, Signal::from_named_raw(signal)) {
        let _ = kill_process(pid, signal);
    }
}
