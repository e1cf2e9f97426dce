//! The interop vectors recorded from sops 3.11.0 (`fixtures/sops-3.11`),
//! both ways.
//!
//! Decrypt side: every case sops wrote must decrypt to the recorded output
//! byte for byte, with each key set that should work, and fail with sops's
//! exit code with each key set that should not; tampered files fail as
//! sops fails, and `--ignore-mac` gives what sops gave.
//!
//! Encrypt side: the recorded sops command lines that encrypt are run
//! unchanged with `sops` being sops-rs (and `SOPS_RS_CIPHER=aes256_gcm`),
//! and the real sops must decrypt the result to the same output.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Sandbox, assert_exit, stderr_text, vectors};
use serde_json::Value;

/// Formats and features this suite covers; the other cases belong to the
/// dotenv/INI/binary stores and the KMS providers, which have their own
/// tests once those exist.
const FORMATS: [&str; 5] = ["yaml", "json", "binary", "dotenv", "ini"];

fn manifest() -> Vec<Value> {
    let text = std::fs::read_to_string(vectors().join("manifest.json")).unwrap();
    serde_json::from_str::<Value>(&text).unwrap().as_array().unwrap().clone()
}

fn in_scope(case: &Value) -> bool {
    FORMATS.contains(&case["format"].as_str().unwrap()) && !case["requires_kms_server"].as_bool().unwrap()
}

/// A key file holding every identity of the set.
fn key_file(sandbox: &Sandbox, keys: &[Value]) -> PathBuf {
    let mut text = String::new();
    for key in keys {
        text.push_str(&std::fs::read_to_string(vectors().join(key.as_str().unwrap())).unwrap());
        text.push('\n');
    }
    let path = sandbox.path().join(format!("keys-{}.txt", keys.len()));
    std::fs::write(&path, text).unwrap();
    path
}

fn decrypt(
    sandbox: &Sandbox,
    program: &Path,
    enc: &Path,
    keys: &Path,
    extra: &[&str],
) -> std::process::Output {
    let mut cmd: Command = sandbox.command(program);
    cmd.current_dir(vectors()).env("SOPS_AGE_KEY_FILE", keys).arg("decrypt").args(extra).arg(enc);
    cmd.output().unwrap()
}

#[test]
fn decrypts_every_case_sops_wrote() {
    let mut checked = 0;
    for case in manifest().iter().filter(|c| in_scope(c) && c["phase"] == "decrypt") {
        let name = case["name"].as_str().unwrap();
        let enc = vectors().join(case["enc"].as_str().unwrap());
        for keys in case["key_sets_that_decrypt"].as_array().unwrap() {
            let sandbox = Sandbox::new();
            let key_path = key_file(&sandbox, keys.as_array().unwrap());
            let output = decrypt(&sandbox, &common::bin(), &enc, &key_path, &[]);
            match case["expect"].as_str().unwrap() {
                "decrypts_to_plain" => {
                    assert_exit(&output, 0, name);
                    let expected_file = case[case["compare_to"].as_str().unwrap()].as_str().unwrap();
                    let expected = std::fs::read(vectors().join(expected_file)).unwrap();
                    assert!(
                        output.stdout == expected,
                        "{name}: output differs from {expected_file}\n--- got ---\n{}\n--- expected ---\n{}",
                        String::from_utf8_lossy(&output.stdout),
                        String::from_utf8_lossy(&expected)
                    );
                }
                "mac_mismatch" | "fails" => {
                    let code = case["sops_exit_code"].as_i64().unwrap() as i32;
                    assert_exit(&output, code, name);
                    assert!(output.stdout.is_empty(), "{name}: no plaintext on failure");
                    let with_ignore = &case["with_ignore_mac"];
                    let ignored = decrypt(&sandbox, &common::bin(), &enc, &key_path, &["--ignore-mac"]);
                    let ignore_code = with_ignore["sops_exit_code"].as_i64().unwrap() as i32;
                    assert_exit(&ignored, ignore_code, &format!("{name} --ignore-mac"));
                    if let Some(expected) = with_ignore["output"].as_str() {
                        let expected = std::fs::read(vectors().join(expected)).unwrap();
                        assert_eq!(ignored.stdout, expected, "{name}: --ignore-mac output");
                    }
                }
                other => panic!("{name}: unknown expectation {other}"),
            }
            checked += 1;
        }
        for failing in case["key_sets_that_fail"].as_array().unwrap() {
            let sandbox = Sandbox::new();
            let key_path = key_file(&sandbox, failing["keys"].as_array().unwrap());
            let output = decrypt(&sandbox, &common::bin(), &enc, &key_path, &[]);
            let code = failing["sops_exit_code"].as_i64().unwrap() as i32;
            assert_exit(&output, code, &format!("{name} with {:?}", failing["keys"]));
            assert!(output.stdout.is_empty());
            // The report names every master key in the file.
            let stderr = stderr_text(&output);
            assert!(stderr.contains("age1"), "{name}: the error lists the recipients:\n{stderr}");
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} checks ran");
}

#[test]
fn refuses_what_sops_refuses_to_encrypt() {
    for case in manifest().iter().filter(|c| in_scope(c) && c["phase"] == "encrypt") {
        let name = case["name"].as_str().unwrap();
        let sandbox = Sandbox::new();
        let recipient = common::recipient_of(&vectors().join("keys/age1.txt"));
        let output = sandbox
            .sops_rs()
            .current_dir(vectors())
            .args(["encrypt", "--age", &recipient])
            .arg(case["plain"].as_str().unwrap())
            .output()
            .unwrap();
        assert_exit(&output, case["sops_exit_code"].as_i64().unwrap() as i32, name);
        assert!(output.stdout.is_empty());
    }
}

/// The "encryption / modification" lines of a case's cmd.txt.
fn encryption_commands(case: &Value) -> Vec<String> {
    let text = std::fs::read_to_string(vectors().join(case["cmd"].as_str().unwrap())).unwrap();
    let mut lines = Vec::new();
    let mut in_section = false;
    for line in text.lines() {
        if line.starts_with("# encryption") {
            in_section = true;
            continue;
        }
        if line.starts_with('#') {
            in_section = false;
            continue;
        }
        if in_section && !line.trim().is_empty() {
            lines.push(line.to_owned());
        }
    }
    lines
}

/// `set` is the editing work (issue 5); the case using it is covered by the
/// tests of that command once it exists.
const NOT_YET: [&str; 1] = [" set "];

#[test]
fn sops_decrypts_what_we_encrypt_with_its_own_command_lines() {
    let Some(reference) = common::reference_sops() else { return };
    let mut checked = 0;
    for case in manifest()
        .iter()
        .filter(|c| in_scope(c) && c["phase"] == "decrypt" && c["expect"] == "decrypts_to_plain")
    {
        let name = case["name"].as_str().unwrap();
        if case["derived_from"].is_string() {
            continue; // tampered copies of another case
        }
        let commands = encryption_commands(case);
        if commands.iter().any(|c| NOT_YET.iter().any(|n| c.contains(n))) {
            continue;
        }
        let sandbox = Sandbox::new();
        // A private copy of the set, where `sops` is sops-rs.
        let work = sandbox.path().join("set");
        copy_dir(&vectors(), &work);
        let shim = sandbox.path().join("bin");
        std::fs::create_dir_all(&shim).unwrap();
        std::os::unix::fs::symlink(common::bin(), shim.join("sops")).unwrap();
        for command in &commands {
            let output = sandbox
                .command("bash")
                .current_dir(&work)
                .env("PATH", format!("{}:{}", shim.display(), std::env::var("PATH").unwrap_or_default()))
                .env("SOPS_RS_CIPHER", "aes256_gcm")
                .args(["-c", command])
                .output()
                .unwrap();
            assert_exit(&output, 0, &format!("{name}: {command}"));
        }
        let enc = work.join(case["enc"].as_str().unwrap());
        let ours = std::fs::read_to_string(&enc).unwrap();
        assert!(ours.contains("ENC[AES256_GCM,"), "{name}: written with AES-GCM for sops");
        for keys in case["key_sets_that_decrypt"].as_array().unwrap() {
            let key_path = key_file(&sandbox, keys.as_array().unwrap());
            let mut cmd = sandbox.command(&reference);
            cmd.current_dir(&work).env("SOPS_AGE_KEY_FILE", &key_path).arg("decrypt").arg(&enc);
            let output = cmd.output().unwrap();
            assert_exit(&output, 0, &format!("{name}: sops decrypting our file"));
            let expected_file = case[case["compare_to"].as_str().unwrap()].as_str().unwrap();
            let expected = std::fs::read(vectors().join(expected_file)).unwrap();
            assert!(
                output.stdout == expected,
                "{name}: sops's output of our file differs from {expected_file}\n--- our file ---\n{ours}\n--- sops printed ---\n{}",
                String::from_utf8_lossy(&output.stdout)
            );
            checked += 1;
        }
    }
    assert!(checked >= 12, "only {checked} interop checks ran");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
