//! The audit log: valid JSON lines, one per operation, with the master key
//! used and the outcome, and never a value.

mod common;

use std::path::PathBuf;

use common::{Sandbox, assert_exit, recipient_of, vectors};

const CANARY: &str = "canary-audit-91f0";

fn key(n: u8) -> PathBuf {
    vectors().join(format!("keys/age{n}.txt"))
}

#[test]
fn every_operation_is_one_line_without_values() {
    let sandbox = Sandbox::new();
    let log = sandbox.path().join("audit.log");
    std::fs::write(sandbox.path().join("s.yaml"), format!("token: {CANARY}\n")).unwrap();
    let run = |args: &[&str], key_file: u8| {
        sandbox
            .sops_rs()
            .current_dir(sandbox.path())
            .env("SOPS_RS_AUDIT_LOG", &log)
            .env("SOPS_AGE_KEY_FILE", key(key_file))
            .args(args)
            .output()
            .unwrap()
    };
    let r1 = recipient_of(&key(1));
    assert_exit(&run(&["encrypt", "-i", "--age", &r1, "s.yaml"], 1), 0, "encrypt");
    assert_exit(&run(&["decrypt", "s.yaml"], 1), 0, "decrypt");
    assert_exit(&run(&["decrypt", "s.yaml"], 2), 128, "wrong key");
    assert_exit(&run(&["exec-env", "s.yaml", "true"], 1), 0, "exec-env");
    assert_exit(&run(&["filestatus", "s.yaml"], 1), 0, "filestatus is not logged");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains(CANARY), "no value in the log");
    let lines: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).expect("valid JSON")).collect();
    let operations: Vec<&str> = lines.iter().map(|l| l["operation"].as_str().unwrap()).collect();
    assert_eq!(operations, ["encrypt", "decrypt", "decrypt", "exec-env"]);
    assert_eq!(lines[1]["keys"][0], format!("age {r1}"), "the key that opened the data key");
    assert_eq!(lines[1]["outcome"], "ok");
    assert_eq!(lines[2]["outcome"]["exit_code"], 128);
    assert!(lines[0]["files"][0].as_str().unwrap().ends_with("s.yaml"));
    for line in &lines {
        assert!(line["time"].is_string() && line["user"].is_string() && line["host"].is_string());
    }
}

#[test]
fn an_unwritable_log_stops_the_operation() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.path().join("s.yaml"), "a: b\n").unwrap();
    let output = sandbox
        .sops_rs()
        .current_dir(sandbox.path())
        .env("SOPS_RS_AUDIT_LOG", "/nonexistent-dir/audit.log")
        .args(["encrypt", "-i", "--age", &recipient_of(&key(1)), "s.yaml"])
        .output()
        .unwrap();
    assert_exit(&output, 1, "unwritable log");
    assert_eq!(std::fs::read_to_string(sandbox.path().join("s.yaml")).unwrap(), "a: b\n", "nothing was done");
}

#[test]
fn the_config_can_turn_it_on() {
    let sandbox = Sandbox::new();
    std::fs::write(
        sandbox.path().join(".sops-rs.yaml"),
        format!("audit:\n  path: logs/audit.jsonl\ncreation_rules:\n  - age: {}\n", recipient_of(&key(1))),
    )
    .unwrap();
    std::fs::create_dir_all(sandbox.path().join("logs")).unwrap();
    std::fs::write(sandbox.path().join("s.yaml"), "a: b\n").unwrap();
    let output =
        sandbox.sops_rs().current_dir(sandbox.path()).args(["encrypt", "-i", "s.yaml"]).output().unwrap();
    assert_exit(&output, 0, "encrypt");
    let text = std::fs::read_to_string(sandbox.path().join("logs/audit.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 1);
}
