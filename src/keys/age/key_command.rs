//! `SOPS_AGE_KEY_CMD`: a command whose output is an identity file.
//!
//! The command line is split shell-style and run without a shell, with the
//! library's environment (not the process's) plus `SOPS_AGE_RECIPIENT`, the
//! recipient being unwrapped. It runs once per recipient, as the sops 3.11
//! reference binary does, and each run's outcome is kept for reports. Its
//! stdin is empty and its stderr is captured: the last line of it usually
//! says why it failed, and goes into the report unless it looks like key
//! material.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};

use super::identities::{KEY_CMD_VAR, RECIPIENT_VAR};
use super::identity::{IDENTITY_FILE_LIMIT, Parsed, parse_identity_text, read_secret};

use crate::env::Environment;

/// `SOPS_AGE_KEY_CMD`: split once, run once per recipient.
pub(super) struct KeyCommand {
    origin: Arc<str>,
    argv: Result<Vec<String>, String>,
    /// The variables the command runs with (the library's environment,
    /// not the process's).
    env: Environment,
    runs: Mutex<BTreeMap<String, Arc<Result<Parsed, String>>>>,
}

impl KeyCommand {
    pub(super) fn new(command: &str, env: &Environment) -> KeyCommand {
        KeyCommand {
            origin: Arc::from(KEY_CMD_VAR),
            argv: crate::shell_words::split(command),
            env: env.clone(),
            runs: Mutex::new(BTreeMap::new()),
        }
    }

    /// False when the command line cannot even be split.
    pub(super) fn is_usable(&self) -> bool {
        self.argv.is_ok()
    }

    /// The identities the command prints for `recipient`, running it the
    /// first time.
    pub(super) fn identities_for(&self, recipient: &str) -> Arc<Result<Parsed, String>> {
        // Held while the command runs: two threads asking for the same
        // recipient run it once.
        let mut runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(outcome) = runs.get(recipient) {
            return outcome.clone();
        }
        let outcome = Arc::new(self.run(recipient).and_then(|output| {
            parse_identity_text(&output, &self.origin).map_err(|why| format!("its output {why}"))
        }));
        runs.insert(recipient.to_owned(), outcome.clone());
        outcome
    }

    fn run(&self, recipient: &str) -> Result<crate::secret::SecretVec, String> {
        let argv = self.argv.as_ref().map_err(|why| format!("cannot split the command: {why}"))?;
        let program = &argv[0];
        let mut child = Command::new(program)
            .args(&argv[1..])
            .env_clear()
            .envs(self.env.vars())
            .env(RECIPIENT_VAR, recipient)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run `{program}`: {e}"))?;
        // stderr is drained on its own thread so that a chatty command
        // cannot fill the pipe and stall while we wait on stdout.
        let stderr = child.stderr.take();
        let stderr_reader = std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(stderr) = stderr {
                let mut stderr = stderr;
                let _ = (&mut stderr).take(64 << 10).read_to_end(&mut text);
                let _ = io::copy(&mut stderr, &mut io::sink());
            }
            text
        });
        let stdout = match child.stdout.take() {
            Some(stdout) => read_secret(stdout, IDENTITY_FILE_LIMIT, 4096),
            None => Err(io::Error::other("no output pipe")),
        };
        if stdout.is_err() {
            let _ = child.kill();
        }
        let status = child.wait();
        let stderr = stderr_reader.join().unwrap_or_default();
        let status = status.map_err(|e| format!("`{program}` could not be waited for: {e}"))?;
        if !status.success() {
            return Err(format!("{}{}", describe_exit(status), stderr_note(&stderr)));
        }
        stdout.map_err(|e| format!("cannot read its output: {e}"))
    }

    /// One line per run for [`super::AgeIdentities::sources`].
    pub(super) fn describe(&self, lines: &mut Vec<String>) {
        let program = match &self.argv {
            Ok(argv) => argv[0].clone(),
            Err(why) => {
                lines.push(format!("{}: cannot split the command: {why}", self.origin));
                return;
            }
        };
        let runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
        if runs.is_empty() {
            lines.push(format!(
                "{} (`{program}`): not run yet (it runs once for each recipient, with {RECIPIENT_VAR} set)",
                self.origin
            ));
        }
        for (recipient, outcome) in runs.iter() {
            let what = match outcome.as_ref() {
                Ok(parsed) => parsed.summary(),
                Err(why) => why.clone(),
            };
            lines.push(format!(
                "{} (`{program}`) for {}: {what}",
                self.origin,
                super::describe_recipient(recipient)
            ));
        }
    }
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("was killed by signal {signal}");
        }
    }
    format!("failed ({status})")
}

/// The last line the command wrote to stderr, which usually says why it
/// failed; withheld if it looks like key material.
fn stderr_note(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let Some(line) = text.lines().map(str::trim).rfind(|l| !l.is_empty()) else {
        return String::new();
    };
    let upper = line.to_ascii_uppercase();
    if upper.contains("AGE-SECRET-KEY") || upper.contains("AGE-PLUGIN-") || upper.contains("PRIVATE KEY") {
        return " (its error output is withheld: it looks like key material)".to_owned();
    }
    let mut line: String = line.chars().take(200).collect();
    if line.len() < text.trim().len() && line.chars().count() == 200 {
        line.push('…');
    }
    format!(": {line}")
}
