//! Asking the person at the keyboard: passphrases for protected identity
//! files and SSH keys, and whatever an age plugin needs (a PIN, a touch).
//!
//! Prompts go to the controlling terminal (`/dev/tty`), never to stdin or
//! stdout: those carry the file being decrypted (`sops -d < x > y`) and must
//! stay clean. When there is no terminal (CI, a pipe under a service manager)
//! a prompt fails with a reason instead of hanging, and the caller turns that
//! reason into the key's failure report.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex, PoisonError};

use ::age::secrecy::SecretString;

/// Whoever answers the questions that identities ask while unwrapping.
///
/// Each method returns `Err(reason)` when the question cannot be put to
/// anyone; the reason ends up in the key's failure message ("no terminal is
/// available", "prompting is disabled").
pub trait Prompter: Send + Sync {
    /// A secret: a passphrase or a PIN. Never echoed, never logged.
    fn secret(&self, prompt: &str) -> Result<SecretString, String>;
    /// A value that is not secret (a plugin may ask which slot to use).
    fn public(&self, prompt: &str) -> Result<String, String>;
    /// A yes/no choice, with the labels the asker supplied.
    fn confirm(&self, prompt: &str, yes: &str, no: Option<&str>) -> Result<bool, String>;
    /// A notice that needs no answer ("touch your security key").
    fn message(&self, text: &str);
}

/// Prompts on the controlling terminal, as sops and age do.
#[derive(Clone, Copy, Debug, Default)]
pub struct TerminalPrompter;

/// Refuses every question: for batch use, where a prompt would be a bug.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoPrompter;

impl Prompter for NoPrompter {
    fn secret(&self, _prompt: &str) -> Result<SecretString, String> {
        Err("prompting is disabled".to_owned())
    }
    fn public(&self, _prompt: &str) -> Result<String, String> {
        Err("prompting is disabled".to_owned())
    }
    fn confirm(&self, _prompt: &str, _yes: &str, _no: Option<&str>) -> Result<bool, String> {
        Err("prompting is disabled".to_owned())
    }
    fn message(&self, _text: &str) {}
}

/// One question at a time: two keys unwrapped on two threads must not
/// interleave their prompts on one terminal.
static TERMINAL: Mutex<()> = Mutex::new(());

fn open_terminal() -> Result<File, String> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|e| format!("no terminal is available to ask on ({e})"))
}

/// Reads one line from the terminal into a buffer that is wiped when
/// dropped. Byte by byte, so no reader keeps a stray copy in its buffer.
fn read_line(tty: &mut File) -> Result<crate::secret::SecretVec, String> {
    let mut line = crate::secret::SecretVec::new(Vec::with_capacity(128));
    let mut byte = [0u8; 1];
    loop {
        match tty.read(&mut byte) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => {
                if line.len() == line.capacity() {
                    // Grow by hand so the old allocation is wiped, not freed
                    // with the secret still in it.
                    let mut bigger = crate::secret::SecretVec::new(Vec::with_capacity(line.capacity() * 2));
                    bigger.extend_from_slice(&line);
                    line = bigger;
                }
                line.push(byte[0]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("cannot read from the terminal: {e}")),
        }
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(line)
}

/// Turns terminal echo off for as long as it lives, by running `stty` on
/// the terminal (the crate forbids `unsafe`, and termios needs it or a new
/// dependency). Echo is put back as it was when dropped.
struct EchoOff {
    tty: File,
    saved: String,
}

impl EchoOff {
    fn new(tty: &File) -> Result<EchoOff, String> {
        let saved = stty(tty, &["-g"])?;
        stty(tty, &["-echo"])?;
        Ok(EchoOff {
            tty: tty.try_clone().map_err(|e| format!("cannot use the terminal: {e}"))?,
            saved: saved.trim().to_owned(),
        })
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        let _ = stty(&self.tty, &[self.saved.as_str()]);
    }
}

fn stty(tty: &File, args: &[&str]) -> Result<String, String> {
    // An absolute path where there is one: the library does not read PATH.
    let program = if std::path::Path::new("/bin/stty").exists() { "/bin/stty" } else { "/usr/bin/stty" };
    let stdin = tty.try_clone().map_err(|e| format!("cannot use the terminal: {e}"))?;
    let output = std::process::Command::new(program)
        .args(args)
        .stdin(stdin)
        .stderr(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot turn off terminal echo: {program}: {e}"))?;
    if !output.status.success() {
        return Err(format!("cannot turn off terminal echo: {program} exited with {}", output.status));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

impl TerminalPrompter {
    fn ask(&self, prompt: &str, hidden: bool) -> Result<crate::secret::SecretVec, String> {
        let _one_at_a_time = TERMINAL.lock().unwrap_or_else(PoisonError::into_inner);
        let mut tty = open_terminal()?;
        tty.write_all(prompt.as_bytes())
            .and_then(|()| tty.flush())
            .map_err(|e| format!("cannot write to the terminal: {e}"))?;
        let line = if hidden {
            // Refuse to read a secret with echo on: it would be shown.
            let echo_off = EchoOff::new(&tty)?;
            let line = read_line(&mut tty);
            drop(echo_off);
            let _ = tty.write_all(b"\n");
            line?
        } else {
            read_line(&mut tty)?
        };
        Ok(line)
    }
}

impl Prompter for TerminalPrompter {
    fn secret(&self, prompt: &str) -> Result<SecretString, String> {
        let line = self.ask(prompt, true)?;
        let text = std::str::from_utf8(&line).map_err(|_| "the input is not UTF-8".to_owned())?;
        Ok(SecretString::from(text.to_owned()))
    }

    fn public(&self, prompt: &str) -> Result<String, String> {
        let line = self.ask(prompt, false)?;
        Ok(String::from_utf8_lossy(&line).into_owned())
    }

    fn confirm(&self, prompt: &str, yes: &str, no: Option<&str>) -> Result<bool, String> {
        let no = no.unwrap_or("no");
        loop {
            let line = self.ask(&format!("{prompt} [{yes}/{no}]: "), false)?;
            let answer = String::from_utf8_lossy(&line).trim().to_lowercase();
            if answer == yes.to_lowercase() || answer == "y" || answer == "yes" {
                return Ok(true);
            }
            if answer == no.to_lowercase() || answer == "n" || answer == "no" {
                return Ok(false);
            }
        }
    }

    fn message(&self, text: &str) {
        let _one_at_a_time = TERMINAL.lock().unwrap_or_else(PoisonError::into_inner);
        match open_terminal() {
            Ok(mut tty) => {
                let _ = writeln!(tty, "{text}");
            }
            // No terminal: stderr is the next best place for "touch your
            // key"; it never carries the output.
            Err(_) => eprintln!("{text}"),
        }
    }
}

/// The age crate's callbacks for one plugin, answered by a [`Prompter`].
///
/// Every question that could not be answered is remembered, so that a
/// failed unwrap can say "age-plugin-yubikey asked for a PIN, but no
/// terminal is available" instead of only "plugin failed".
#[derive(Clone)]
pub(super) struct PluginCallbacks {
    prompter: Arc<dyn Prompter>,
    binary: String,
    unanswered: Arc<Mutex<Vec<String>>>,
}

impl PluginCallbacks {
    pub(super) fn new(prompter: Arc<dyn Prompter>, plugin_name: &str) -> PluginCallbacks {
        PluginCallbacks {
            prompter,
            binary: format!("age-plugin-{plugin_name}"),
            unanswered: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The questions nobody could answer, as sentences.
    pub(super) fn unanswered(&self) -> Vec<String> {
        self.unanswered.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn refused(&self, what: &str, question: &str, why: String) {
        let question: String = question.chars().take(120).collect();
        self.unanswered.lock().unwrap_or_else(PoisonError::into_inner).push(format!(
            "{} asked for {what} ({:?}), but {why}",
            self.binary,
            question.trim()
        ));
    }
}

impl ::age::Callbacks for PluginCallbacks {
    fn display_message(&self, message: &str) {
        self.prompter.message(&format!("{}: {message}", self.binary));
    }

    fn confirm(&self, message: &str, yes_string: &str, no_string: Option<&str>) -> Option<bool> {
        let prompt = format!("{}: {message}", self.binary);
        match self.prompter.confirm(&prompt, yes_string, no_string) {
            Ok(choice) => Some(choice),
            Err(why) => {
                self.refused("a confirmation", message, why);
                None
            }
        }
    }

    fn request_public_string(&self, description: &str) -> Option<String> {
        let prompt = format!("{}: {description} ", self.binary);
        match self.prompter.public(&prompt) {
            Ok(value) => Some(value),
            Err(why) => {
                self.refused("input", description, why);
                None
            }
        }
    }

    fn request_passphrase(&self, description: &str) -> Option<SecretString> {
        let prompt = format!("{}: {description} ", self.binary);
        match self.prompter.secret(&prompt) {
            Ok(secret) => Some(secret),
            Err(why) => {
                self.refused("a secret", description, why);
                None
            }
        }
    }
}
