//! Interop with the real sops 3.11.0 binary (found through
//! `SOPS_REFERENCE_BIN`; skipped without it unless
//! `SOPS_RS_REQUIRE_INTEROP=1`, which makes its absence a failure).
//!
//! Both directions, over the vectors' plaintexts, the spec fixture, the
//! probes in `tests/data/ini/` and the round-trip corpus: sops decrypts our
//! `aes256_gcm` encryption of a file to exactly what it prints for its own
//! encryption of it, and we decrypt sops's encryption of it to exactly
//! what sops prints.

use std::path::PathBuf;
use std::process::Command;

use super::tests::{decrypt, encrypt, read, show, vector_key};
use super::tests_roundtrip::corpus;
use crate::cipher::CipherKind;

fn reference_sops() -> Option<PathBuf> {
    match std::env::var_os("SOPS_REFERENCE_BIN").map(PathBuf::from) {
        Some(path) if path.is_file() => Some(path),
        other => {
            let required = std::env::var("SOPS_RS_REQUIRE_INTEROP").is_ok_and(|v| v == "1");
            assert!(!required, "SOPS_RS_REQUIRE_INTEROP=1 but SOPS_REFERENCE_BIN ({other:?}) is not a file");
            eprintln!("note: SOPS_REFERENCE_BIN is not set; skipping the INI interop tests");
            None
        }
    }
}

/// The sops binary in an empty home, with the vectors' age key.
struct Sops {
    bin: PathBuf,
    home: tempfile::TempDir,
    key_file: PathBuf,
    recipient: String,
}

impl Sops {
    fn new() -> Option<Sops> {
        let bin = reference_sops()?;
        let key_file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/sops-3.11/keys/age1.txt");
        let (_, recipient) = vector_key();
        Some(Sops { bin, home: tempfile::tempdir().expect("a temporary directory"), key_file, recipient })
    }

    /// Run sops on `content` saved as `name` (an `.ini` file).
    fn run(&self, args: &[&str], name: &str, content: &[u8]) -> Result<Vec<u8>, String> {
        let file = self.home.path().join(name);
        std::fs::write(&file, content).expect("writing a temporary file");
        let output = Command::new(&self.bin)
            .args(args)
            .arg(&file)
            .env_clear()
            .env("HOME", self.home.path())
            .env("SOPS_AGE_KEY_FILE", &self.key_file)
            .env("SOPS_DISABLE_VERSION_CHECK", "1")
            .output()
            .expect("sops runs");
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(format!("exit {:?}: {}", output.status.code(), show(&output.stderr)))
        }
    }

    fn encrypt(&self, plain: &[u8]) -> Result<Vec<u8>, String> {
        self.run(&["encrypt", "--age", &self.recipient], "plain.ini", plain)
    }

    fn decrypt(&self, encrypted: &[u8]) -> Result<Vec<u8>, String> {
        self.run(&["decrypt"], "encrypted.ini", encrypted)
    }
}

/// Every plaintext both directions are checked on.
fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut inputs: Vec<(String, Vec<u8>)> = [
        "fixtures/sops-3.11/cases/ini_basic/plain.ini",
        "fixtures/sops-3.11/cases/ini_canonical/plain.ini",
        "fixtures/spec/plain/sections.ini",
        "tests/data/ini/quirks.ini",
        "tests/data/ini/multiline.ini",
        "tests/data/ini/crlf.ini",
        "tests/data/ini/sections.ini",
        "tests/data/ini/empty-default.ini",
    ]
    .iter()
    .map(|path| (path.to_string(), read(path)))
    .collect();
    inputs.extend(corpus());
    inputs
}

#[test]
fn sops_decrypts_our_files_as_it_decrypts_its_own() {
    let Some(sops) = Sops::new() else { return };
    for (name, plain) in inputs() {
        let ours =
            encrypt(&plain, &sops.recipient, CipherKind::Aes256Gcm).unwrap_or_else(|e| panic!("{name}: {e}"));
        let from_ours =
            sops.decrypt(&ours).unwrap_or_else(|e| panic!("{name}: sops cannot decrypt ours: {e}"));
        let own = sops.encrypt(&plain).unwrap_or_else(|e| panic!("{name}: sops cannot encrypt it: {e}"));
        match sops.decrypt(&own) {
            Ok(from_own) => assert_eq!(show(&from_ours), show(&from_own), "{name}"),
            // sops cannot read back its own encryption of keys named `-`
            // (it writes them as `#1`, which reads as a comment); ours it
            // can.
            Err(e) => assert!(name.contains("auto-keys"), "{name}: sops fails on its own file: {e}"),
        }
    }
}

#[test]
fn we_decrypt_sops_files_as_sops_does() {
    let Some(sops) = Sops::new() else { return };
    let (identity, _) = vector_key();
    for (name, plain) in inputs() {
        let encrypted =
            sops.encrypt(&plain).unwrap_or_else(|e| panic!("{name}: sops cannot encrypt it: {e}"));
        let Ok(expected) = sops.decrypt(&encrypted) else {
            assert!(name.contains("auto-keys"), "{name}: sops fails on its own file");
            continue;
        };
        let ours = decrypt(&encrypted, &identity).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(show(&ours), show(&expected), "{name}");
    }
}

#[test]
fn repeated_keys_are_refused_and_sops_files_made_from_them_still_open() {
    // go-ini keeps the last of repeated keys, so sops's MAC would cover one
    // value where ours covers each (sops reports a MAC mismatch on such a
    // file): we refuse to encrypt them, and read what sops made of them.
    let plain = read("tests/data/ini/duplicates.ini");
    let Err(refused) = crate::store::parse_plain(crate::store::Format::Ini, &plain) else {
        panic!("repeated keys are refused")
    };
    assert!(refused.to_string().contains("twice"), "{refused}");
    let Some(sops) = Sops::new() else { return };
    let sops_encrypted = sops.encrypt(&plain).unwrap();
    let sops_plain = sops.decrypt(&sops_encrypted).unwrap();
    assert_eq!(show(&decrypt(&sops_encrypted, &vector_key().0).unwrap()), show(&sops_plain));
}
