//! A file of thousands of values of every type, against the real sops in
//! both directions, and what a change deep inside such a file reports. The
//! fixtures and vectors are small files; this one is large enough that
//! anything kept per file (the path buffers, the writer's streaming and
//! sorting of edits, the MAC over every value) works at scale.

mod common;

use std::path::{Path, PathBuf};

use common::{Sandbox, assert_exit, recipient_of, stderr_text, stdout_text, vectors};

/// Services of seven values each: 6,300 values, of every type, in lists and
/// under an `_unencrypted` key, written as sops writes YAML so that its
/// decryption and ours can be compared byte for byte.
const SERVICES: usize = 900;

/// A value that must not appear in any error message.
const CANARY: &str = "canary-large-file-secret";

fn key() -> PathBuf {
    vectors().join("keys/age1.txt")
}

fn plaintext() -> String {
    let mut text = String::from("# generated for tests/large_files.rs\n");
    for n in 0..SERVICES {
        text.push_str(&format!(
            "svc_{n:04}:\n    name: svc-{n}\n    password: {CANARY}-{n}\n    port: {}\n    enabled: {}\n    ratio: {}.25\n    tags:\n        - t{}\n        - u{}\n    note_unencrypted: public {n}\n",
            1000 + n,
            n % 2 == 0,
            n % 7,
            n % 5,
            n % 3
        ));
    }
    text
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn sops_rs_encrypt(sandbox: &Sandbox, cipher: &str, plain: &Path) -> String {
    let output = sandbox
        .sops_rs()
        .env("SOPS_RS_CIPHER", cipher)
        .args(["encrypt", "--age", &recipient_of(&key())])
        .arg(plain)
        .output()
        .unwrap();
    assert_exit(&output, 0, "sops-rs encrypt");
    stdout_text(&output)
}

fn sops_rs_decrypt(sandbox: &Sandbox, file: &Path) -> std::process::Output {
    sandbox.sops_rs().env("SOPS_AGE_KEY_FILE", key()).arg("decrypt").arg(file).output().unwrap()
}

#[test]
fn a_large_file_round_trips_with_both_ciphers() {
    let sandbox = Sandbox::new();
    let text = plaintext();
    let plain = write(sandbox.path(), "plain.yaml", &text);
    for cipher in ["aes256_gcm", "xchacha20_poly1305"] {
        let encrypted = sops_rs_encrypt(&sandbox, cipher, &plain);
        assert!(!encrypted.contains(CANARY), "{cipher}: a value left in clear");
        // Seven values per service, the comment, and the MAC.
        assert_eq!(encrypted.matches("ENC[").count(), SERVICES * 7 + 2, "{cipher}");
        assert!(encrypted.contains("note_unencrypted: public 17\n"));
        let file = write(sandbox.path(), "enc.yaml", &encrypted);
        let output = sops_rs_decrypt(&sandbox, &file);
        assert_exit(&output, 0, cipher);
        assert_eq!(stdout_text(&output), text, "{cipher}");
    }
}

#[test]
fn sops_reads_our_large_file_and_we_read_its() {
    let Some(reference) = common::reference_sops() else { return };
    let sandbox = Sandbox::new();
    let text = plaintext();
    let plain = write(sandbox.path(), "plain.yaml", &text);

    // Ours, read by sops.
    let ours = write(sandbox.path(), "ours.yaml", &sops_rs_encrypt(&sandbox, "aes256_gcm", &plain));
    let output = sandbox
        .command(&reference)
        .env("SOPS_AGE_KEY_FILE", key())
        .arg("decrypt")
        .arg(&ours)
        .output()
        .unwrap();
    assert_exit(&output, 0, "sops decrypting our large file");
    assert_eq!(stdout_text(&output), text);

    // Its, read by us.
    let output = sandbox
        .command(&reference)
        .args(["encrypt", "--age", &recipient_of(&key())])
        .arg(&plain)
        .output()
        .unwrap();
    assert_exit(&output, 0, "sops encrypting the large file");
    let theirs = write(sandbox.path(), "theirs.yaml", &stdout_text(&output));
    let output = sops_rs_decrypt(&sandbox, &theirs);
    assert_exit(&output, 0, "decrypting sops's large file");
    assert_eq!(stdout_text(&output), text);
}

/// Two envelopes moved, one early and one late in the file: the error names
/// the first in file order, and no value.
#[test]
fn the_first_damaged_value_is_the_one_named() {
    let sandbox = Sandbox::new();
    let plain = write(sandbox.path(), "plain.yaml", &plaintext());
    let encrypted = sops_rs_encrypt(&sandbox, "aes256_gcm", &plain);
    let lines: Vec<&str> = encrypted.lines().collect();
    let envelope_of = |service: usize, key: &str| -> usize {
        let start = lines.iter().position(|l| *l == format!("svc_{service:04}:")).unwrap();
        start + lines[start..].iter().position(|l| l.starts_with(&format!("    {key}: ENC["))).unwrap()
    };
    let swap = |lines: &mut Vec<String>, a: usize, b: usize| {
        let value = |line: &str| line.split_once(": ").unwrap().1.to_owned();
        let (va, vb) = (value(&lines[a]), value(&lines[b]));
        lines[a] = format!("{}: {vb}", lines[a].split_once(": ").unwrap().0);
        lines[b] = format!("{}: {va}", lines[b].split_once(": ").unwrap().0);
    };
    for (early, late) in [(3, SERVICES - 2), (SERVICES / 2 + 1, SERVICES - 1)] {
        let mut damaged: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        // Each swap moves an envelope to another path, so both fail
        // authentication; the late pair is swapped first, so that order in
        // the file, not order of damage, decides.
        swap(&mut damaged, envelope_of(late, "password"), envelope_of(late - 1, "password"));
        swap(&mut damaged, envelope_of(early, "name"), envelope_of(early, "password"));
        let file = write(sandbox.path(), "damaged.yaml", &(damaged.join("\n") + "\n"));
        let output = sops_rs_decrypt(&sandbox, &file);
        assert_exit(&output, 25, "a moved envelope");
        let message = stderr_text(&output);
        assert!(message.contains(&format!("[\"svc_{early:04}\"][\"name\"]")), "{message}");
        assert!(!message.contains(CANARY), "{message}");
        assert!(output.stdout.is_empty());
    }
}
