//! Hermetic helpers for tests that run the real binary.
//!
//! Every command runs with an empty environment except `PATH`, a fresh
//! temporary `HOME` and `XDG_CONFIG_HOME`, and whatever the test sets, so no
//! developer key, config file or cloud credential can leak in, and nothing
//! probes a network address.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sops-rs"))
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The interop vector set copied from sops 3.11.
pub fn vectors() -> PathBuf {
    root().join("fixtures/sops-3.11")
}

/// A temporary home with nothing in it, kept alive by the returned guard.
pub struct Sandbox {
    pub home: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox { home: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self) -> &Path {
        self.home.path()
    }

    /// A command with a clean environment.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join(".config"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("SOPS_DISABLE_VERSION_CHECK", "1");
        cmd
    }

    /// `sops-rs` with a clean environment.
    pub fn sops_rs(&self) -> Command {
        self.command(bin())
    }
}

/// The real sops 3.11 binary when the environment names one. When
/// `SOPS_RS_REQUIRE_INTEROP=1` (CI) a missing binary fails the test instead
/// of skipping it.
pub fn reference_sops() -> Option<PathBuf> {
    match std::env::var_os("SOPS_REFERENCE_BIN").map(PathBuf::from) {
        Some(path) if path.is_file() => Some(path),
        other => {
            let required = std::env::var("SOPS_RS_REQUIRE_INTEROP").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "SOPS_RS_REQUIRE_INTEROP=1 but SOPS_REFERENCE_BIN ({other:?}) is not the sops 3.11.0 binary"
            );
            eprintln!("note: SOPS_REFERENCE_BIN is not set; skipping the interop half of this test");
            None
        }
    }
}

/// The public recipient on the `# public key:` line of an age key file.
pub fn recipient_of(key_file: &Path) -> String {
    let text = std::fs::read_to_string(key_file).expect("key file");
    text.lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .expect("age-keygen files name their public key")
        .trim()
        .to_owned()
}

pub fn stdout_text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr_text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Assert an exit code, showing stderr when it is wrong.
pub fn assert_exit(output: &Output, code: i32, what: &str) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "{what}: expected exit {code}, got {:?}\nstderr:\n{}",
        output.status.code(),
        stderr_text(output)
    );
}
