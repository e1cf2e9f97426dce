//! Everyday workflows, judged by the git diff a user sees and by whether
//! plaintext ever stays on disk: `edit`, `set`, `unset`, and encrypting a
//! plaintext onto an existing encrypted file.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{Sandbox, assert_exit, recipient_of, stderr_text, stdout_text, vectors};

const PLAIN: &str = "# app settings\ndb:\n  user: app   # login\n  password: 'old-secret'\n  port: 5432\nlist:\n  - a\n  - b\n";

fn key1() -> PathBuf {
    vectors().join("keys/age1.txt")
}

fn run(sandbox: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = sandbox.sops_rs();
    cmd.current_dir(sandbox.path())
        .env("SOPS_AGE_KEY_FILE", key1())
        .env("XDG_RUNTIME_DIR", sandbox.path().join("run"))
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// The diff of an edit: the value's line and `mac`, and `lastmodified`
/// unless the edit fell within the same second.
fn assert_only_changed(before: &str, after: &str, value: &str) {
    let mut changed = changed_lines(before, after);
    changed.retain(|line| line != "lastmodified");
    assert_eq!(changed, [value, "mac"]);
}

/// An encrypted `s.yaml` (AES-GCM, so sops can check it too).
fn setup(sandbox: &Sandbox) -> PathBuf {
    std::fs::create_dir_all(sandbox.path().join("run")).unwrap();
    std::fs::write(sandbox.path().join("s.yaml"), PLAIN).unwrap();
    let r = recipient_of(&key1());
    assert_exit(
        &run(sandbox, &["encrypt", "-i", "--cipher", "aes256_gcm", "--age", &r, "s.yaml"], &[]),
        0,
        "encrypt",
    );
    sandbox.path().join("s.yaml")
}

/// The lines that differ between two versions, by position.
fn changed_lines(before: &str, after: &str) -> Vec<String> {
    let (a, b): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    assert_eq!(a.len(), b.len(), "the number of lines changed:\n{before}\n---\n{after}");
    a.iter()
        .zip(&b)
        .filter(|(x, y)| x != y)
        .map(|(x, _)| x.split(':').next().unwrap().trim().to_owned())
        .collect()
}

/// A scripted editor: records the path it was given, then runs `action` on it.
fn editor(sandbox: &Sandbox, action: &str) -> String {
    let script = sandbox.path().join("editor.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$1\" > \"{}\"\n{action}\n", sandbox.path().join("edited-path").display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script.display().to_string()
}

fn decrypted(sandbox: &Sandbox) -> String {
    let output = run(sandbox, &["decrypt", "s.yaml"], &[]);
    assert_exit(&output, 0, "decrypt");
    stdout_text(&output)
}

fn no_plaintext_left(sandbox: &Sandbox) {
    let edited = std::fs::read_to_string(sandbox.path().join("edited-path")).unwrap();
    let edited = Path::new(edited.trim());
    assert!(
        edited.starts_with(sandbox.path().join("run")),
        "edited in the private runtime dir: {}",
        edited.display()
    );
    assert!(!edited.exists(), "the temporary plaintext is gone");
    assert_eq!(
        std::fs::read_dir(sandbox.path().join("run")).unwrap().count(),
        0,
        "the private directory is gone"
    );
    let names: Vec<String> = std::fs::read_dir(sandbox.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| ["s.yaml", "run", "editor.sh", "edited-path", ".sops.yaml"].contains(&n.as_str())),
        "nothing new in the working tree: {names:?}"
    );
}

#[test]
fn edit_changes_only_the_edited_value() {
    let sandbox = Sandbox::new();
    let file = setup(&sandbox);
    let before = std::fs::read_to_string(&file).unwrap();
    let script = editor(&sandbox, "sed -i \"s/old-secret/new-secret/\" \"$1\"");
    let output = run(&sandbox, &["edit", "s.yaml"], &[("EDITOR", &script)]);
    assert_exit(&output, 0, "edit");
    let after = std::fs::read_to_string(&file).unwrap();
    assert_only_changed(&before, &after, "password");
    assert_eq!(decrypted(&sandbox), PLAIN.replace("old-secret", "new-secret"));
    no_plaintext_left(&sandbox);
    if let Some(sops) = common::reference_sops() {
        let output = sandbox
            .command(&sops)
            .env("SOPS_AGE_KEY_FILE", key1())
            .arg("decrypt")
            .arg(&file)
            .output()
            .unwrap();
        assert_exit(&output, 0, "sops decrypts the edited file");
    }
}

#[test]
fn edit_without_change_exits_200_and_leaves_the_file() {
    let sandbox = Sandbox::new();
    let file = setup(&sandbox);
    let before = std::fs::read(&file).unwrap();
    let script = editor(&sandbox, "true");
    let output = run(&sandbox, &["edit", "s.yaml"], &[("SOPS_EDITOR", &script), ("EDITOR", "false")]);
    assert_exit(&output, 200, "unchanged");
    assert_eq!(std::fs::read(&file).unwrap(), before);
    no_plaintext_left(&sandbox);
    // The legacy form `sops FILE` edits too.
    let output = run(&sandbox, &["s.yaml"], &[("EDITOR", &script)]);
    assert_exit(&output, 200, "legacy edit");
}

#[test]
fn a_bad_edit_fails_cleanly_when_not_interactive() {
    let sandbox = Sandbox::new();
    let file = setup(&sandbox);
    let before = std::fs::read(&file).unwrap();
    let script = editor(&sandbox, "printf 'a: [unclosed\\n' > \"$1\"");
    let output = run(&sandbox, &["edit", "s.yaml"], &[("EDITOR", &script)]);
    assert!(!output.status.success());
    assert!(stderr_text(&output).contains("not valid"), "{}", stderr_text(&output));
    assert_eq!(std::fs::read(&file).unwrap(), before, "the file is untouched");
    no_plaintext_left(&sandbox);
    // A `sops` key in the edited plaintext is refused.
    let script = editor(&sandbox, "printf 'sops: 1\\n' >> \"$1\"");
    let output = run(&sandbox, &["edit", "s.yaml"], &[("EDITOR", &script)]);
    assert!(!output.status.success());
    assert_eq!(std::fs::read(&file).unwrap(), before);
    // A failing editor changes nothing.
    let script = editor(&sandbox, "exit 3");
    let output = run(&sandbox, &["edit", "s.yaml"], &[("EDITOR", &script)]);
    assert_exit(&output, 1, "editor failed");
    assert_eq!(std::fs::read(&file).unwrap(), before);
    no_plaintext_left(&sandbox);
    // No editor at all.
    let output = run(&sandbox, &["edit", "s.yaml"], &[("PATH", "/nonexistent")]);
    assert_exit(&output, 201, "no editor");
}

#[test]
fn sigint_while_editing_removes_the_plaintext() {
    let sandbox = Sandbox::new();
    let file = setup(&sandbox);
    let before = std::fs::read(&file).unwrap();
    let script = editor(&sandbox, "sleep 30");
    let mut cmd = sandbox.sops_rs();
    cmd.current_dir(sandbox.path())
        .env("SOPS_AGE_KEY_FILE", key1())
        .env("XDG_RUNTIME_DIR", sandbox.path().join("run"))
        .env("EDITOR", &script)
        .args(["edit", "s.yaml"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let recorded = sandbox.path().join("edited-path");
    for _ in 0..100 {
        if recorded.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(recorded.exists(), "the editor started");
    std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_eq!(std::fs::read(&file).unwrap(), before);
    no_plaintext_left(&sandbox);
}

#[test]
fn edit_creates_a_new_file_from_an_example() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.path().join("run")).unwrap();
    std::fs::write(
        sandbox.path().join(".sops.yaml"),
        format!("creation_rules:\n  - age: {}\n", recipient_of(&key1())),
    )
    .unwrap();
    let script = editor(&sandbox, "printf 'token: t0p\\n' > \"$1\"");
    let output = run(&sandbox, &["edit", "s.yaml"], &[("EDITOR", &script)]);
    assert_exit(&output, 0, "new file");
    assert!(std::fs::read_to_string(sandbox.path().join("s.yaml")).unwrap().contains("token: ENC["));
    assert_eq!(decrypted(&sandbox), "token: t0p\n");
    no_plaintext_left(&sandbox);
}

#[test]
fn set_and_unset_change_only_their_lines() {
    let sandbox = Sandbox::new();
    let file = setup(&sandbox);
    let before = std::fs::read_to_string(&file).unwrap();
    let output = run(&sandbox, &["set", "s.yaml", r#"["db"]["password"]"#, r#""changed""#], &[]);
    assert_exit(&output, 0, "set");
    let after = std::fs::read_to_string(&file).unwrap();
    assert_only_changed(&before, &after, "password");
    // The value keeps the quotes it was written with.
    assert_eq!(decrypted(&sandbox), PLAIN.replace("old-secret", "changed"));
    // The same value again: nothing changes at all.
    let output = run(&sandbox, &["set", "s.yaml", r#"["db"]["password"]"#, r#""changed""#], &[]);
    assert_exit(&output, 0, "set same");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), after, "byte for byte");
    // A new key from stdin (out of the process list).
    let mut child = sandbox
        .sops_rs()
        .current_dir(sandbox.path())
        .env("SOPS_AGE_KEY_FILE", key1())
        .args(["set", "--value-stdin", "s.yaml", r#"["db"]["token"]"#])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(br#""from-stdin""#).unwrap();
    assert!(child.wait().unwrap().success());
    assert!(decrypted(&sandbox).contains("  token: from-stdin\n"), "{}", decrypted(&sandbox));
    let output = run(&sandbox, &["unset", "s.yaml", r#"["db"]["token"]"#], &[]);
    assert_exit(&output, 0, "unset");
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), after.lines().count());
    let output = run(&sandbox, &["unset", "s.yaml", r#"["db"]["nope"]"#], &[]);
    assert_exit(&output, 1, "unset missing");
    let output = run(&sandbox, &["unset", "--idempotent", "s.yaml", r#"["db"]["nope"]"#], &[]);
    assert_exit(&output, 0, "unset --idempotent");
    let output = run(&sandbox, &["set", "s.yaml", "db", "1"], &[]);
    assert_exit(&output, 7, "bad path");
    let output = run(&sandbox, &["set", "s.yaml", r#"["db"]"#, "not json"], &[]);
    assert_exit(&output, 7, "bad value");
    let output = run(&sandbox, &["--set", r#"["list"][1] "legacy""#, "s.yaml"], &[]);
    assert_exit(&output, 0, "legacy --set");
    assert!(decrypted(&sandbox).contains("  - legacy\n"));
    if let Some(sops) = common::reference_sops() {
        let output = sandbox
            .command(&sops)
            .env("SOPS_AGE_KEY_FILE", key1())
            .arg("decrypt")
            .arg(&file)
            .output()
            .unwrap();
        assert_exit(&output, 0, "sops decrypts after set/unset");
    }
}

#[test]
fn encrypting_onto_an_existing_file_keeps_unchanged_ciphertexts() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.path().join("run")).unwrap();
    std::fs::write(
        sandbox.path().join(".sops.yaml"),
        format!("creation_rules:\n  - age: {}\n    cipher: aes256_gcm\n", recipient_of(&key1())),
    )
    .unwrap();
    std::fs::write(sandbox.path().join("plain.yaml"), PLAIN).unwrap();
    let encrypt = || {
        run(
            &sandbox,
            &["encrypt", "--filename-override", "s.enc.yaml", "--output", "s.enc.yaml", "plain.yaml"],
            &[],
        )
    };
    assert_exit(&encrypt(), 0, "first encryption");
    let first = std::fs::read_to_string(sandbox.path().join("s.enc.yaml")).unwrap();
    assert_exit(&encrypt(), 0, "again, unchanged");
    assert_eq!(
        std::fs::read_to_string(sandbox.path().join("s.enc.yaml")).unwrap(),
        first,
        "no change, no rewrite"
    );
    std::fs::write(sandbox.path().join("plain.yaml"), PLAIN.replace("5432", "6543")).unwrap();
    assert_exit(&encrypt(), 0, "one value changed");
    let second = std::fs::read_to_string(sandbox.path().join("s.enc.yaml")).unwrap();
    assert_only_changed(&first, &second, "port");
}
