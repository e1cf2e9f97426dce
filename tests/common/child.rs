//! Running the binary with a deadline, for tests that feed it hostile input.
//!
//! `Command::output` waits forever; a hang would block CI instead of failing
//! a test. Here the child is polled until a deadline, killed when it passes,
//! and the test fails with what the child had printed so far. stdin is fed
//! and stdout/stderr drained on their own threads so a child blocked on a
//! full pipe cannot look like a hang. Included with `#[path]` by the tests
//! that need it, next to `mod common;`.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long a command on hostile input may take. The debug build runs its
/// ciphers unoptimised (about a second per MB), and the machine is shared;
/// anything that is not a hang finishes far inside this.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Run `cmd` with `stdin` as its input, kill it and panic if it is still
/// running after `deadline`.
pub fn run_within(mut cmd: Command, stdin: Option<Vec<u8>>, deadline: Duration) -> Output {
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn the binary");
    let feeder = child.stdin.take().map(|mut pipe| {
        let data = stdin.unwrap_or_default();
        // A child that stops reading early closes the pipe; that is its
        // business, not an error of the test.
        thread::spawn(move || {
            let _ = pipe.write_all(&data);
        })
    });
    let mut out_pipe = child.stdout.take().expect("stdout piped");
    let mut err_pipe = child.stderr.take().expect("stderr piped");
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = err_reader.join().unwrap_or_default();
            panic!(
                "{:?} still running after {deadline:?}: killed (a hang)\nstderr so far:\n{}",
                cmd.get_args().collect::<Vec<_>>(),
                String::from_utf8_lossy(&stderr)
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    if let Some(feeder) = feeder {
        let _ = feeder.join();
    }
    Output { status, stdout: out_reader.join().unwrap(), stderr: err_reader.join().unwrap() }
}
