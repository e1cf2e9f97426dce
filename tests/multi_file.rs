//! Commands over several files: `rotate` and `updatekeys` with `--json`
//! give one parseable object per file (also for the files they fail on),
//! and the progress bar is drawn at a terminal only: never on a pipe, never
//! for `TERM=dumb`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{Sandbox, assert_exit, recipient_of, stderr_text, stdout_text, vectors};

fn key(n: u8) -> PathBuf {
    vectors().join(format!("keys/age{n}.txt"))
}

fn r(n: u8) -> String {
    recipient_of(&key(n))
}

fn run(sandbox: &Sandbox, args: &[&str]) -> Output {
    sandbox
        .sops_rs()
        .current_dir(sandbox.path())
        .env("SOPS_AGE_KEY_FILE", key(1))
        .args(args)
        .output()
        .unwrap()
}

/// `secrets/a.yaml`, `b.yaml`, `c.yaml` encrypted to key 1, and a config
/// whose rule names keys 1 and 2.
fn repository(sandbox: &Sandbox) {
    std::fs::create_dir_all(sandbox.path().join("secrets")).unwrap();
    for name in ["a", "b", "c"] {
        let file = format!("secrets/{name}.yaml");
        std::fs::write(sandbox.path().join(&file), format!("{name}: secret-{name}\n")).unwrap();
        assert_exit(&run(sandbox, &["encrypt", "-i", "--age", &r(1), &file]), 0, &file);
    }
    std::fs::write(
        sandbox.path().join(".sops.yaml"),
        format!("creation_rules:\n  - path_regex: ^secrets/\n    age: {},{}\n", r(1), r(2)),
    )
    .unwrap();
}

fn json_array(output: &Output) -> Vec<serde_json::Value> {
    let text = stdout_text(output);
    let value: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"));
    value.as_array().expect("a JSON array").clone()
}

fn entry<'a>(report: &'a [serde_json::Value], file: &str) -> &'a serde_json::Value {
    report.iter().find(|e| e["file"] == file).unwrap_or_else(|| panic!("{file} not in {report:?}"))
}

fn text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn rotate_json_reports_every_file_and_the_first_failure_code() {
    let sandbox = Sandbox::new();
    repository(&sandbox);
    let before = text(&sandbox.path().join("secrets/a.yaml"));
    let output = run(
        &sandbox,
        &["rotate", "-i", "--json", "secrets/a.yaml", "secrets/missing.yaml", "secrets/b.yaml"],
    );
    assert_exit(&output, 100, "a missing file is exit 100, as on its own");
    let report = json_array(&output);
    assert_eq!(report.len(), 3, "every file is tried: {report:?}");
    assert_eq!(report[0]["file"], "secrets/a.yaml", "in the order given");
    assert_eq!(entry(&report, "secrets/a.yaml")["status"], "rotated");
    assert_eq!(entry(&report, "secrets/b.yaml")["status"], "rotated");
    let missing = entry(&report, "secrets/missing.yaml");
    assert_eq!(missing["status"], "error");
    assert_eq!(missing["exit_code"], 100);
    assert!(missing["detail"].as_str().unwrap().contains("missing.yaml"), "{missing}");
    assert!(entry(&report, "secrets/a.yaml").get("exit_code").is_none());
    assert_ne!(text(&sandbox.path().join("secrets/a.yaml")), before, "a.yaml was rotated in place");
    let decrypted = run(&sandbox, &["decrypt", "secrets/b.yaml"]);
    assert_exit(&decrypted, 0, "decrypt after rotate");
    assert_eq!(stdout_text(&decrypted), "b: secret-b\n");
}

#[test]
fn rotate_several_files_or_json_needs_somewhere_else_for_the_output() {
    let sandbox = Sandbox::new();
    repository(&sandbox);
    let output = run(&sandbox, &["rotate", "secrets/a.yaml", "secrets/b.yaml"]);
    assert_exit(&output, 8, "several files to stdout");
    let output = run(&sandbox, &["rotate", "--json", "secrets/a.yaml"]);
    assert_exit(&output, 8, "--json and the file on stdout");
    assert!(stdout_text(&output).is_empty());
    // One file, --json and --output: the report on stdout, the file elsewhere.
    let output = run(&sandbox, &["rotate", "--json", "--output", "out.yaml", "secrets/a.yaml"]);
    assert_exit(&output, 0, "--json --output");
    assert_eq!(entry(&json_array(&output), "secrets/a.yaml")["status"], "rotated");
    assert!(text(&sandbox.path().join("out.yaml")).contains("ENC["));
    // Several files in place without --json: silent, every file rotated.
    let before = text(&sandbox.path().join("secrets/c.yaml"));
    let output = run(&sandbox, &["rotate", "-i", "secrets/b.yaml", "secrets/c.yaml"]);
    assert_exit(&output, 0, "rotate -i two files");
    assert!(stdout_text(&output).is_empty());
    assert_ne!(text(&sandbox.path().join("secrets/c.yaml")), before);
}

#[test]
fn updatekeys_json_lists_added_and_removed_keys() {
    let sandbox = Sandbox::new();
    repository(&sandbox);
    assert_exit(&run(&sandbox, &["updatekeys", "-y", "secrets/c.yaml"]), 0, "c first");
    let output = run(
        &sandbox,
        &["updatekeys", "-y", "--json", "secrets/a.yaml", "secrets/c.yaml", "secrets/none.yaml"],
    );
    assert_exit(&output, 100, "the missing file's code");
    let report = json_array(&output);
    assert_eq!(report.len(), 3);
    let a = entry(&report, "secrets/a.yaml");
    assert_eq!(a["status"], "updated");
    assert_eq!(a["added"], serde_json::json!([format!("age {}", r(2))]));
    assert_eq!(a["removed"], serde_json::json!([]));
    assert_eq!(entry(&report, "secrets/c.yaml")["status"], "unchanged");
    assert_eq!(entry(&report, "secrets/none.yaml")["status"], "error");
    assert_eq!(entry(&report, "secrets/none.yaml")["exit_code"], 100);
    // -y --json says nothing to a person except the failure itself.
    let stderr = stderr_text(&output);
    assert!(!stderr.contains("+++") && !stderr.contains("up to date"), "{stderr}");
    let opened = sandbox
        .sops_rs()
        .current_dir(sandbox.path())
        .env("SOPS_AGE_KEY_FILE", key(2))
        .args(["decrypt", "secrets/a.yaml"])
        .output()
        .unwrap();
    assert_exit(&opened, 0, "the added key opens a.yaml");
}

#[test]
fn updatekeys_json_without_yes_reports_declined_files() {
    let sandbox = Sandbox::new();
    repository(&sandbox);
    let mut child = sandbox
        .sops_rs()
        .current_dir(sandbox.path())
        .args(["updatekeys", "--json", "secrets/a.yaml"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"n\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert_exit(&output, 0, "declined");
    let report = json_array(&output);
    assert_eq!(report[0]["status"], "declined");
    assert_eq!(report[0]["added"], serde_json::json!([format!("age {}", r(2))]));
    assert!(stderr_text(&output).contains("Is this okay?"), "the question is still asked");
}

#[test]
fn filestatus_json_is_sops_one_line() {
    let sandbox = Sandbox::new();
    repository(&sandbox);
    let output = run(&sandbox, &["filestatus", "secrets/a.yaml"]);
    assert_exit(&output, 0, "filestatus");
    let value: serde_json::Value = serde_json::from_str(&stdout_text(&output)).unwrap();
    assert_eq!(value, serde_json::json!({"encrypted": true}));
    assert_eq!(stdout_text(&output), "{\"encrypted\":true}\n", "byte for byte as sops prints it");
}

/// Marks of a drawn bar: its label, and the carriage return or the
/// erase-line sequence it redraws with.
fn has_progress(stderr: &str) -> bool {
    stderr.contains("checking")
        || stderr.contains("updating keys")
        || stderr.contains('\r')
        || stderr.contains("\x1b[")
}

#[test]
fn piped_runs_print_no_progress() {
    let sandbox = Sandbox::new();
    repository(&sandbox);
    let output = sandbox
        .sops_rs()
        .current_dir(sandbox.path())
        .env("TERM", "xterm-256color")
        .args(["check"])
        .output()
        .unwrap();
    assert_exit(&output, 1, "check: a.yaml and b.yaml lack key 2");
    let stderr = stderr_text(&output);
    assert!(!has_progress(&stderr), "no bar on a pipe: {stderr:?}");
    assert!(stderr.contains("checked 3 file(s)"), "{stderr}");
    let output = run(&sandbox, &["updatekeys", "-y", "secrets/a.yaml", "secrets/b.yaml"]);
    assert_exit(&output, 0, "updatekeys");
    assert!(!has_progress(&stderr_text(&output)), "{:?}", stderr_text(&output));
    let output = run(&sandbox, &["rotate", "-i", "secrets/a.yaml", "secrets/b.yaml"]);
    assert_exit(&output, 0, "rotate");
    assert!(stderr_text(&output).is_empty(), "{:?}", stderr_text(&output));
}

/// Run `sops-rs check` with stderr on a pseudo-terminal, through
/// util-linux `script`; None when it is not installed.
fn check_on_a_terminal(sandbox: &Sandbox, term: &str, paths: &str) -> Option<String> {
    let script = Path::new("/usr/bin/script");
    if !script.is_file() {
        eprintln!("note: /usr/bin/script is missing; skipping the terminal half of this test");
        return None;
    }
    let command = format!("{} check {paths}", common::bin().display());
    let output = sandbox
        .command(script)
        .current_dir(sandbox.path())
        .env("TERM", term)
        .args(["-qec", &command, "/dev/null"])
        .output()
        .unwrap();
    Some(stdout_text(&output))
}

#[test]
fn a_terminal_gets_a_bar_unless_dumb_or_one_file() {
    let sandbox = Sandbox::new();
    repository(&sandbox);
    let Some(shown) = check_on_a_terminal(&sandbox, "xterm", "") else { return };
    assert!(shown.contains("checking"), "a bar at a terminal: {shown:?}");
    let dumb = check_on_a_terminal(&sandbox, "dumb", "").unwrap();
    assert!(!dumb.contains("checking"), "TERM=dumb: {dumb:?}");
    assert!(dumb.contains("checked 3 file(s)"), "{dumb:?}");
    let single = check_on_a_terminal(&sandbox, "xterm", "secrets/a.yaml").unwrap();
    assert!(!single.contains("checking"), "one file: {single:?}");
}
