//! A write interrupted by SIGKILL leaves the old file or the new one.
//!
//! `rotate -i` on a few megabytes is killed at points spread over its whole
//! run (parsing, decrypting, re-encrypting, writing); after each kill the
//! file must be byte for byte the old one, or a complete new one that
//! decrypts to the same values. The step-by-step failure injection of the
//! write itself is a unit test in `src/fsio.rs`.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use common::{Sandbox, assert_exit, recipient_of, stdout_text, vectors};

fn key1() -> std::path::PathBuf {
    vectors().join("keys/age1.txt")
}

fn decrypt(sandbox: &Sandbox, file: &Path) -> String {
    let output =
        sandbox.sops_rs().env("SOPS_AGE_KEY_FILE", key1()).arg("decrypt").arg(file).output().unwrap();
    assert_exit(&output, 0, "decrypt after a kill");
    stdout_text(&output)
}

#[test]
fn a_killed_in_place_rewrite_leaves_the_old_file_or_the_new_one() {
    let sandbox = Sandbox::new();
    let plain: String =
        (0..2_000).map(|i| format!("key{i}: value number {i} with some padding text\n")).collect();
    let plain_path = sandbox.path().join("big.yaml");
    std::fs::write(&plain_path, &plain).unwrap();
    let output = sandbox
        .sops_rs()
        .args(["encrypt", "--age", &recipient_of(&key1())])
        .arg(&plain_path)
        .output()
        .unwrap();
    assert_exit(&output, 0, "encrypt");
    let original = output.stdout;
    let file = sandbox.path().join("big.enc.yaml");

    // How long an uninterrupted rotate takes here.
    std::fs::write(&file, &original).unwrap();
    let started = Instant::now();
    let output = sandbox
        .sops_rs()
        .env("SOPS_AGE_KEY_FILE", key1())
        .args(["rotate", "-i"])
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&output, 0, "rotate");
    let full_run = started.elapsed();

    let (mut old_seen, mut new_seen) = (0, 0);
    // Kill at 0%, 6%, 12%, ... of a full run until a run has completed
    // (the machine's load varies, so a full run may take longer now).
    for step in 0..48u32 {
        if new_seen > 0 && step > 16 {
            break;
        }
        std::fs::write(&file, &original).unwrap();
        let mut child = sandbox
            .sops_rs()
            .env("SOPS_AGE_KEY_FILE", key1())
            .args(["rotate", "-i"])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full_run.mul_f64(f64::from(step) / 16.0));
        let _ = child.kill();
        let _ = child.wait();
        let now = std::fs::read(&file).unwrap();
        if now == original {
            old_seen += 1;
        } else {
            new_seen += 1;
            assert_eq!(decrypt(&sandbox, &file), plain, "step {step}: a new file must be complete");
        }
        // A kill may leave a temporary file (ciphertext only, named
        // `.big.enc.yaml.*.sops-rs-tmp`); never a truncated target.
        for entry in std::fs::read_dir(sandbox.path()).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(
                ["big.yaml", "big.enc.yaml", ".config"].contains(&name.as_str())
                    || (name.starts_with(".big.enc.yaml.") && name.ends_with(".sops-rs-tmp")),
                "unexpected file {name}"
            );
            if name.ends_with(".sops-rs-tmp") {
                let leftover = std::fs::read(sandbox.path().join(&name)).unwrap();
                assert!(!String::from_utf8_lossy(&leftover).contains("value number"), "plaintext in {name}");
                std::fs::remove_file(sandbox.path().join(&name)).unwrap();
            }
        }
    }
    // Both outcomes were seen, so the kills spanned the write.
    assert!(old_seen > 0 && new_seen > 0, "old {old_seen}, new {new_seen} (full run {full_run:?})");
}
