//! `rotate`, `updatekeys` and `groups`: after each, every intended key opens
//! the file, removed keys do not, values are unchanged, and sops agrees.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use common::{Sandbox, assert_exit, recipient_of, stderr_text, stdout_text, vectors};

const PLAIN: &str = "# settings\ndb:\n  user: app   # who\n  password: 'hunter2'\nlist:\n  - 1.0\n  - two\n";

fn key(n: u8) -> PathBuf {
    vectors().join(format!("keys/age{n}.txt"))
}

fn r(n: u8) -> String {
    recipient_of(&key(n))
}

fn run(sandbox: &Sandbox, key_file: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = sandbox.sops_rs();
    cmd.current_dir(sandbox.path()).args(args);
    if let Some(key) = key_file {
        cmd.env("SOPS_AGE_KEY_FILE", key);
    }
    cmd.output().unwrap()
}

fn encrypted(sandbox: &Sandbox, recipients: &str, extra: &[&str]) -> PathBuf {
    std::fs::write(sandbox.path().join("s.yaml"), PLAIN).unwrap();
    let mut args = vec!["encrypt", "-i", "--age", recipients];
    args.extend_from_slice(extra);
    args.push("s.yaml");
    assert_exit(&run(sandbox, None, &args), 0, "encrypt");
    sandbox.path().join("s.yaml")
}

fn decrypts_with(sandbox: &Sandbox, file: &Path, n: u8) -> bool {
    let output = run(sandbox, Some(&key(n)), &["decrypt", file.to_str().unwrap()]);
    if output.status.success() {
        assert_eq!(stdout_text(&output), PLAIN, "decrypted with key {n}");
        true
    } else {
        assert_exit(&output, 128, &format!("decrypt with key {n}"));
        false
    }
}

fn envelopes(text: &str) -> Vec<String> {
    text.split("ENC[").skip(1).map(|s| s.split(']').next().unwrap().to_owned()).collect()
}

/// When the real sops is available, it must agree that `n` opens the file.
fn sops_agrees(sandbox: &Sandbox, file: &Path, n: u8, opens: bool) {
    let Some(sops) = common::reference_sops() else { return };
    let output =
        sandbox.command(&sops).env("SOPS_AGE_KEY_FILE", key(n)).arg("decrypt").arg(file).output().unwrap();
    assert_eq!(output.status.success(), opens, "sops with key {n}: {}", stderr_text(&output));
}

#[test]
fn rotate_changes_the_data_key_and_the_recipients() {
    let sandbox = Sandbox::new();
    let file = encrypted(&sandbox, &r(1), &["--cipher", "aes256_gcm"]);
    let before = std::fs::read_to_string(&file).unwrap();
    let output =
        run(&sandbox, Some(&key(1)), &["rotate", "-i", "--add-age", &r(2), "--rm-age", &r(1), "s.yaml"]);
    assert_exit(&output, 0, "rotate");
    let after = std::fs::read_to_string(&file).unwrap();
    let (old, new) = (envelopes(&before), envelopes(&after));
    assert_eq!(old.len(), new.len());
    assert!(old.iter().zip(&new).all(|(a, b)| a != b), "every value is encrypted again");
    assert!(after.contains("ENC[AES256_GCM,"), "the file keeps its cipher");
    assert!(!decrypts_with(&sandbox, &file, 1), "the removed key no longer opens it");
    assert!(decrypts_with(&sandbox, &file, 2), "the added key opens it, with the layout kept");
    sops_agrees(&sandbox, &file, 2, true);
    sops_agrees(&sandbox, &file, 1, false);
}

#[test]
fn rotate_can_switch_cipher_and_legacy_r_works() {
    let sandbox = Sandbox::new();
    let file = encrypted(&sandbox, &r(1), &[]);
    assert!(std::fs::read_to_string(&file).unwrap().contains("ENC[XCHACHA20_POLY1305,"));
    let output = run(&sandbox, Some(&key(1)), &["rotate", "-i", "--cipher", "aes256_gcm", "s.yaml"]);
    assert_exit(&output, 0, "rotate --cipher");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("ENC[AES256_GCM,") && !text.contains("XCHACHA"), "switched");
    let output = run(&sandbox, Some(&key(1)), &["-r", "-i", "--add-age", &r(3), "s.yaml"]);
    assert_exit(&output, 0, "legacy -r");
    assert!(decrypts_with(&sandbox, &file, 3));
    assert!(decrypts_with(&sandbox, &file, 1));
}

#[test]
fn rotate_refuses_tampered_files_and_missing_files() {
    let sandbox = Sandbox::new();
    let file = encrypted(&sandbox, &r(1), &[]);
    let text = std::fs::read_to_string(&file).unwrap();
    // Drop the second list item: values still decrypt, the MAC does not.
    let tampered: String = text
        .lines()
        .filter(|l| !l.starts_with("  - ENC[") || l.contains("float"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&file, &tampered).unwrap();
    let output = run(&sandbox, Some(&key(1)), &["rotate", "-i", "s.yaml"]);
    assert_exit(&output, 51, "tampered");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), tampered, "untouched");
    let output = run(&sandbox, Some(&key(1)), &["rotate", "-i", "--add-age", &r(2), "nope.yaml"]);
    assert_exit(&output, 49, "missing file with --add");
}

fn write_rule(sandbox: &Sandbox, rule: &str) {
    std::fs::write(
        sandbox.path().join(".sops.yaml"),
        format!("creation_rules:\n  - path_regex: s\\.yaml$\n{rule}"),
    )
    .unwrap();
}

#[test]
fn updatekeys_keeps_values_and_kept_keys() {
    let sandbox = Sandbox::new();
    write_rule(&sandbox, &format!("    age: {}\n", r(1)));
    let file = encrypted(&sandbox, &r(1), &["--cipher", "aes256_gcm"]);
    let before = std::fs::read_to_string(&file).unwrap();
    let output = run(&sandbox, Some(&key(1)), &["updatekeys", "-y", "s.yaml"]);
    assert_exit(&output, 0, "nothing to do");
    assert!(stderr_text(&output).contains("already up to date"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);

    write_rule(&sandbox, &format!("    age: {}, {}\n", r(1), r(2)));
    let output = run(&sandbox, Some(&key(1)), &["updatekeys", "-y", "s.yaml"]);
    assert_exit(&output, 0, "add a key");
    assert!(stderr_text(&output).contains(&format!("+++ age {}", r(2))), "{}", stderr_text(&output));
    let after = std::fs::read_to_string(&file).unwrap();
    assert_eq!(envelopes(&before), envelopes(&after), "values, MAC and style memory unchanged");
    let lastmodified = |t: &str| t.lines().find(|l| l.contains("lastmodified")).unwrap().to_owned();
    assert_eq!(lastmodified(&before), lastmodified(&after));
    let enc_block = |t: &str| t.split("enc: |").nth(1).unwrap().split("-----END").next().unwrap().to_owned();
    assert_eq!(enc_block(&before), enc_block(&after), "key 1 keeps its wrapped data key");
    assert!(decrypts_with(&sandbox, &file, 2));
    sops_agrees(&sandbox, &file, 2, true);

    write_rule(&sandbox, &format!("    age: {}\n", r(2)));
    let output = run(&sandbox, Some(&key(1)), &["updatekeys", "-y", "s.yaml"]);
    assert_exit(&output, 0, "remove a key");
    assert!(stderr_text(&output).contains(&format!("--- age {}", r(1))));
    assert!(!decrypts_with(&sandbox, &file, 1));
    assert!(decrypts_with(&sandbox, &file, 2));
    sops_agrees(&sandbox, &file, 1, false);
}

#[test]
fn updatekeys_asks_first() {
    let sandbox = Sandbox::new();
    write_rule(&sandbox, &format!("    age: {}, {}\n", r(1), r(3)));
    let file = encrypted(&sandbox, &r(1), &[]);
    let before = std::fs::read_to_string(&file).unwrap();
    for (answer, changes) in [("n\n", false), ("y\n", true)] {
        let mut child = sandbox
            .sops_rs()
            .current_dir(sandbox.path())
            .env("SOPS_AGE_KEY_FILE", key(1))
            .args(["updatekeys", "s.yaml"])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(answer.as_bytes()).unwrap();
        let output = child.wait_with_output().unwrap();
        assert_exit(&output, 0, answer);
        assert!(stderr_text(&output).contains("Is this okay?"));
        assert_eq!(std::fs::read_to_string(&file).unwrap() != before, changes, "answer {answer:?}");
    }
}

#[test]
fn groups_add_and_delete_reshare_the_key() {
    let sandbox = Sandbox::new();
    let file = encrypted(&sandbox, &r(1), &["--cipher", "aes256_gcm"]);
    let output = run(&sandbox, Some(&key(1)), &["groups", "add", "--file", "s.yaml", "-i", "--age", &r(2)]);
    assert_exit(&output, 0, "groups add");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("key_groups:") && text.contains("shamir_threshold: 2"), "{text}");
    // Two groups, threshold 2: one key alone is not enough.
    assert!(!decrypts_with(&sandbox, &file, 1));
    let both = sandbox.path().join("both.txt");
    std::fs::write(
        &both,
        std::fs::read_to_string(key(1)).unwrap() + &std::fs::read_to_string(key(2)).unwrap(),
    )
    .unwrap();
    let output = run(&sandbox, Some(&both), &["decrypt", "s.yaml"]);
    assert_exit(&output, 0, "both groups");
    assert_eq!(stdout_text(&output), PLAIN);
    let stderr = stderr_text(&run(&sandbox, Some(&key(1)), &["decrypt", "s.yaml"]));
    assert!(stderr.contains("Shamir threshold of 2") && stderr.contains("group 2 (failed)"), "{stderr}");
    if let Some(sops) = common::reference_sops() {
        let output = sandbox
            .command(&sops)
            .env("SOPS_AGE_KEY_FILE", &both)
            .arg("decrypt")
            .arg(&file)
            .output()
            .unwrap();
        assert_exit(&output, 0, "sops opens our 2-of-2 file");
    }
    let output = run(&sandbox, Some(&both), &["groups", "delete", "--file", "s.yaml", "-i", "0"]);
    assert_exit(&output, 0, "groups delete");
    assert!(!decrypts_with(&sandbox, &file, 1));
    assert!(decrypts_with(&sandbox, &file, 2));
    let output = run(&sandbox, Some(&key(2)), &["groups", "delete", "--file", "s.yaml", "-i", "5"]);
    assert_exit(&output, 1, "no such group");
    // The only group left cannot be deleted (sops writes a file nobody can
    // open); the file stays as it was.
    let before = std::fs::read(&file).unwrap();
    let output = run(&sandbox, Some(&key(2)), &["groups", "delete", "--file", "s.yaml", "-i", "0"]);
    assert_exit(&output, 1, "the only group");
    assert!(stderr_text(&output).contains("one key group"), "{}", stderr_text(&output));
    assert_eq!(std::fs::read(&file).unwrap(), before);
}

/// HuaweiCloud KMS keys (sops 3.11's `--hckms`, `--add-hckms`, `--rm-hckms`):
/// sops-rs cannot wrap with one, so adding fails and leaves the file alone,
/// but removing one needs no provider and works.
#[test]
fn hckms_keys_are_removed_and_refused_when_added() {
    let sandbox = Sandbox::new();
    let file = encrypted(&sandbox, &r(1), &[]);
    // A key as sops would record it, next to the age key.
    let text = std::fs::read_to_string(&file).unwrap();
    let with_hckms = text.replacen(
        "sops:\n",
        "sops:\n    hckms:\n        - key_id: tr-west-1:0a1b2c3d\n          created_at: \"2026-01-01T00:00:00Z\"\n          enc: c29tZSB3cmFwcGVkIGtleQ==\n",
        1,
    );
    assert_ne!(with_hckms, text);
    std::fs::write(&file, &with_hckms).unwrap();
    assert!(decrypts_with(&sandbox, &file, 1));

    let output = run(&sandbox, Some(&key(1)), &["rotate", "-i", "--add-hckms", "eu-west-0:4e5f", "s.yaml"]);
    assert_exit(&output, 1, "add hckms");
    assert!(stderr_text(&output).contains("hckms"), "{}", stderr_text(&output));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), with_hckms, "file untouched");

    let output =
        run(&sandbox, Some(&key(1)), &["rotate", "-i", "--rm-hckms", "tr-west-1:0a1b2c3d", "s.yaml"]);
    assert_exit(&output, 0, "rm hckms");
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(!after.contains("hckms") && !after.contains("tr-west-1"), "{after}");
    assert!(decrypts_with(&sandbox, &file, 1));

    std::fs::write(sandbox.path().join("new.yaml"), PLAIN).unwrap();
    let output = run(&sandbox, None, &["encrypt", "--age", &r(1), "--hckms", "tr-west-1:0a1b", "new.yaml"]);
    assert_exit(&output, 1, "encrypt with hckms");
    assert!(stderr_text(&output).contains("hckms"), "{}", stderr_text(&output));
    let output = run(&sandbox, None, &["encrypt", "--age", &r(1), "--hckms", "no-region", "new.yaml"]);
    assert!(stderr_text(&output).contains("region:key-uuid"), "{}", stderr_text(&output));
    assert_eq!(std::fs::read_to_string(sandbox.path().join("new.yaml")).unwrap(), PLAIN);
}

/// sops's `groups add` form: `-f FILE` and each key flag repeated. Key
/// variables meant for `encrypt` (`SOPS_AGE_RECIPIENTS`) stay out of the
/// new group (regression: they were read, adding keys nobody asked for).
#[test]
fn groups_add_takes_repeated_flags_and_no_key_variables() {
    let sandbox = Sandbox::new();
    let file = encrypted(&sandbox, &r(1), &[]);
    let output = sandbox
        .sops_rs()
        .current_dir(sandbox.path())
        .env("SOPS_AGE_KEY_FILE", key(1))
        .env("SOPS_AGE_RECIPIENTS", r(3))
        .args(["groups", "add", "-f", "s.yaml", "-i", "--age", &r(2), "--age", &r(3)])
        .output()
        .unwrap();
    assert_exit(&output, 0, "groups add -f, --age twice");
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.matches(&r(2)).count(), 1, "{text}");
    assert_eq!(text.matches(&r(3)).count(), 1, "key 3 once, from the flag only: {text}");
    assert!(text.contains("shamir_threshold: 2"), "{text}");
    // Both groups are needed; either key of the new group completes key 1.
    assert!(!decrypts_with(&sandbox, &file, 1));
    for n in [2, 3] {
        let pair = sandbox.path().join(format!("1and{n}.txt"));
        let keys = std::fs::read_to_string(key(1)).unwrap() + &std::fs::read_to_string(key(n)).unwrap();
        std::fs::write(&pair, keys).unwrap();
        let output = run(&sandbox, Some(&pair), &["decrypt", "s.yaml"]);
        assert_exit(&output, 0, &format!("keys 1 and {n}"));
        assert_eq!(stdout_text(&output), PLAIN);
    }
    let output = sandbox
        .sops_rs()
        .current_dir(sandbox.path())
        .env("SOPS_AGE_KEY_FILE", key(1))
        .env("SOPS_AGE_RECIPIENTS", r(3))
        .args(["groups", "add", "-f", "s.yaml", "-i"])
        .output()
        .unwrap();
    assert_exit(&output, 1, "groups add without key flags");
    assert!(stderr_text(&output).contains("needs at least one key flag"), "{}", stderr_text(&output));
    let pair = sandbox.path().join("1and2.txt");
    let output = run(&sandbox, Some(&pair), &["groups", "delete", "-f", "s.yaml", "-i", "1"]);
    assert_exit(&output, 0, "groups delete -f");
    assert!(decrypts_with(&sandbox, &file, 1));
    assert!(!decrypts_with(&sandbox, &file, 2));
}
