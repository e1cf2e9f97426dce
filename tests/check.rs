//! `filestatus` and `check` on a repository fixture: an unencrypted file, a
//! wrongly-keyed file, a tampered file and a good one give the right report
//! and exit code.

mod common;

use std::path::{Path, PathBuf};

use common::{Sandbox, assert_exit, recipient_of, stderr_text, stdout_text, vectors};

fn key(n: u8) -> PathBuf {
    vectors().join(format!("keys/age{n}.txt"))
}

fn encrypt(sandbox: &Sandbox, name: &str, text: &str, recipient: &str) {
    let path = sandbox.path().join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    let output = sandbox
        .sops_rs()
        .current_dir(sandbox.path())
        .args(["encrypt", "-i", "--age", recipient, name])
        .output()
        .unwrap();
    assert_exit(&output, 0, name);
}

/// secrets/good.yaml (right key), secrets/plain.yaml (not encrypted),
/// secrets/wrong.yaml (another key), secrets/tampered.yaml (bad MAC),
/// docs/readme.md (no rule covers it).
fn repository(sandbox: &Sandbox) {
    let r1 = recipient_of(&key(1));
    std::fs::write(
        sandbox.path().join(".sops.yaml"),
        format!("creation_rules:\n  - path_regex: ^secrets/.*\\.yaml$\n    age: {r1}\n"),
    )
    .unwrap();
    encrypt(sandbox, "secrets/good.yaml", "a: 1\n", &r1);
    encrypt(sandbox, "secrets/wrong.yaml", "a: 1\n", &recipient_of(&key(2)));
    encrypt(sandbox, "secrets/tampered.yaml", "a: 1\nb: 2\n", &r1);
    let tampered = sandbox.path().join("secrets/tampered.yaml");
    let text = std::fs::read_to_string(&tampered).unwrap();
    let kept: String = text.lines().filter(|l| !l.starts_with("b:")).map(|l| format!("{l}\n")).collect();
    std::fs::write(&tampered, kept).unwrap();
    std::fs::write(sandbox.path().join("secrets/plain.yaml"), "password: hunter2\n").unwrap();
    std::fs::create_dir_all(sandbox.path().join("docs")).unwrap();
    std::fs::write(sandbox.path().join("docs/readme.md"), "hello\n").unwrap();
    std::fs::create_dir_all(sandbox.path().join(".git")).unwrap();
    std::fs::write(sandbox.path().join(".git/secrets.yaml"), "not: checked\n").unwrap();
}

fn check(sandbox: &Sandbox, args: &[&str], key_file: Option<&Path>) -> std::process::Output {
    let mut cmd = sandbox.sops_rs();
    cmd.current_dir(sandbox.path()).arg("check").args(args);
    if let Some(k) = key_file {
        cmd.env("SOPS_AGE_KEY_FILE", k);
    }
    cmd.output().unwrap()
}

#[test]
fn check_reports_each_problem() {
    let sandbox = Sandbox::new();
    repository(&sandbox);
    let output = check(&sandbox, &["--json"], Some(&key(1)));
    assert_exit(&output, 1, "problems found");
    let report: serde_json::Value = serde_json::from_str(&stdout_text(&output)).unwrap();
    let status = |file: &str| {
        report
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["file"].as_str().unwrap().ends_with(file))
            .map(|f| f["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(status("secrets/good.yaml").as_deref(), Some("ok"));
    assert_eq!(status("secrets/plain.yaml").as_deref(), Some("not_encrypted"));
    assert_eq!(status("secrets/wrong.yaml").as_deref(), Some("wrong_keys"));
    assert_eq!(status("secrets/tampered.yaml").as_deref(), Some("bad_mac"));
    assert_eq!(status("docs/readme.md"), None, "no rule covers it");
    assert_eq!(report.as_array().unwrap().len(), 4, "the .git directory is not walked");
    assert!(!stdout_text(&output).contains("hunter2"));
    // Human output names the files and reasons.
    let output = check(&sandbox, &[], Some(&key(1)));
    assert_exit(&output, 1, "human report");
    let stdout = stdout_text(&output);
    assert!(
        stdout.contains("plain.yaml: not encrypted") && stdout.contains("wrong.yaml: wrong keys"),
        "{stdout}"
    );
    assert!(stderr_text(&output).contains("checked 4 file(s): 3 with problems"));
    // As a pre-commit hook on the staged files only.
    let output = check(&sandbox, &["secrets/good.yaml", "docs/readme.md"], None);
    assert_exit(&output, 0, "good files only");
    // Without identities the MAC cannot be checked; --verify makes that a failure.
    let output = check(&sandbox, &["--verify", "secrets/good.yaml"], None);
    assert_exit(&output, 1, "--verify without identity");
}

#[test]
fn filestatus_prints_sops_json() {
    let sandbox = Sandbox::new();
    repository(&sandbox);
    let status = |file: &str| {
        let output =
            sandbox.sops_rs().current_dir(sandbox.path()).args(["filestatus", file]).output().unwrap();
        assert_exit(&output, 0, file);
        stdout_text(&output)
    };
    assert_eq!(status("secrets/good.yaml"), "{\"encrypted\":true}\n");
    assert_eq!(status("secrets/plain.yaml"), "{\"encrypted\":false}\n");
    let output =
        sandbox.sops_rs().current_dir(sandbox.path()).args(["filestatus", "nope.yaml"]).output().unwrap();
    assert_exit(&output, 100, "missing");
}
