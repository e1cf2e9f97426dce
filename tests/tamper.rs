//! What happens to an encrypted file that someone changed, case by case.
//!
//! sops's format protects each encrypted value with an AEAD whose additional
//! data is the value's path, and the whole set of values with a MAC that is
//! itself encrypted under the data key with `lastmodified` as additional
//! data. This file drives every kind of change an attacker with write access
//! to the file (but no key) can make, and pins down the result: which
//! mechanism catches it, the exit code, and that stderr says what went wrong
//! without printing a value. Where the format cannot notice a change (key
//! names of plain values, the type annotation of an envelope, metadata
//! outside the MAC, removing a recipient, plain values under
//! `mac_only_encrypted`) the test asserts that it indeed goes through, so
//! the table in `docs/security.md` ("Tampering: what is detected") is a
//! statement about tested behaviour, not a hope.
//!
//! The files are written with `--cipher aes256_gcm` so that, when the real
//! sops 3.11 is available (`SOPS_REFERENCE_BIN`), every tampered file is also
//! given to it and its exit code must be the one the table lists for sops.
//! The tampered vectors recorded from sops (`fixtures/sops-3.11`, the cases
//! with `derived_from`) are replayed first.

#[path = "common/child.rs"]
mod child;
mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use child::{DEADLINE, run_within};
use common::{Sandbox, recipient_of, stderr_text, stdout_text, vectors};
use serde_json::Value;

/// A plaintext value that must never show up on a failing run.
const SECRET: &str = "hunter2-tamper-canary";

fn key(n: u8) -> PathBuf {
    vectors().join(format!("keys/age{n}.txt"))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `PROGRAM decrypt [EXTRA] FILE` with `key_file` as the only identity.
fn decrypt_with(sandbox: &Sandbox, program: &Path, file: &Path, key_file: &Path, extra: &[&str]) -> Output {
    let mut cmd = sandbox.command(program);
    cmd.current_dir(sandbox.path()).env("SOPS_AGE_KEY_FILE", key_file).arg("decrypt").args(extra).arg(file);
    run_within(cmd, None, DEADLINE)
}

/// The outcome of decrypting a tampered file with key 1.
struct Tampered<'a> {
    what: &'a str,
    text: String,
    /// Our exit code, and a phrase of the first stderr line.
    code: i32,
    explains: &'a str,
    /// sops 3.11's exit code on the same file (checked when it is present).
    sops_code: i32,
}

/// Decrypt `case.text`; check the exit code, the explanation, that nothing
/// but (on success) the plaintext is printed, that no secret leaks on
/// failure, and that the file is untouched. Returns our output.
fn check(sandbox: &Sandbox, case: &Tampered) -> Output {
    let file = write(sandbox.path(), "tampered.yaml", &case.text);
    let output = decrypt_with(sandbox, &common::bin(), &file, &key(1), &[]);
    let stderr = stderr_text(&output);
    let what = case.what;
    assert_eq!(output.status.code(), Some(case.code), "{what}: exit code\nstderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    if case.code != 0 {
        let first = stderr.lines().next().unwrap_or_default();
        assert!(first.starts_with("Error: ") && first.contains(case.explains), "{what}: explains\n{stderr}");
        assert!(output.stdout.is_empty(), "{what}: no plaintext on a failure");
        assert!(!stderr.contains(SECRET), "{what}: no value in the message");
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), case.text, "{what}: the file is untouched");
    if let Some(sops) = common::reference_sops() {
        let theirs = decrypt_with(sandbox, &sops, &file, &key(1), &[]);
        assert_eq!(
            theirs.status.code(),
            Some(case.sops_code),
            "{what}: sops 3.11's exit code\nsops stderr:\n{}",
            stderr_text(&theirs)
        );
    }
    output
}

/// What sops 3.11 prints on stderr decrypting `text` with key 1, when it is
/// available: where sops-rs is stricter than sops is in its messages.
fn sops_stderr(sandbox: &Sandbox, text: &str) -> Option<String> {
    let sops = common::reference_sops()?;
    let file = write(sandbox.path(), "for-sops.yaml", text);
    Some(stderr_text(&decrypt_with(sandbox, &sops, &file, &key(1), &[])))
}

/// Encrypt `plain` to the given keys with AES-GCM, so sops can read it.
fn encrypt(sandbox: &Sandbox, plain: &str, recipients: &[u8], extra: &[&str]) -> String {
    let file = write(sandbox.path(), "plain.yaml", plain);
    let recipients: Vec<String> = recipients.iter().map(|n| recipient_of(&key(*n))).collect();
    let mut cmd = sandbox.sops_rs();
    cmd.current_dir(sandbox.path())
        .args(["encrypt", "--cipher", "aes256_gcm", "--age", &recipients.join(",")])
        .args(extra)
        .arg(&file);
    let output = run_within(cmd, None, DEADLINE);
    assert_eq!(output.status.code(), Some(0), "encrypt: {}", stderr_text(&output));
    std::fs::remove_file(file).unwrap();
    stdout_text(&output)
}

const PLAIN: &str = "\
db:
  user: alice
  password: hunter2-tamper-canary
  host_unencrypted: db.local
tags:
  - one
  - two
  - three
code: \"1234\"
";

#[track_caller]
fn line_starting<'t>(text: &'t str, prefix: &str) -> &'t str {
    text.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix:?} line in\n{text}"))
}

/// The `ENC[...]` on the line starting with `prefix`.
#[track_caller]
fn envelope<'t>(text: &'t str, prefix: &str) -> &'t str {
    let line = line_starting(text, prefix);
    &line[line.find("ENC[").expect("an envelope")..]
}

#[track_caller]
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} occurs once");
    text.replacen(from, to, 1)
}

/// Exchange two distinct substrings that each occur once.
fn swap(text: &str, a: &str, b: &str) -> String {
    replace_once(&replace_once(&replace_once(text, a, "\u{0}"), b, a), "\u{0}", b)
}

#[test]
fn every_tampered_vector_from_sops_is_rejected_as_sops_rejects_it() {
    let manifest: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(vectors().join("manifest.json")).unwrap()).unwrap();
    let mut checked = 0;
    for case in manifest.iter().filter(|c| c["derived_from"].is_string()) {
        let name = case["name"].as_str().unwrap();
        if case["requires_kms_server"].as_bool().unwrap() {
            // neg_kms_context_tampered needs moto: tests/kms_providers.rs
            // (a_tampered_context_fails_with_128_and_says_why) runs it.
            continue;
        }
        let sandbox = Sandbox::new();
        let keys = case["key_sets_that_decrypt"][0].as_array().unwrap();
        assert_eq!(keys.len(), 1, "{name}: one key opens the source");
        let key_file = vectors().join(keys[0].as_str().unwrap());
        let enc = vectors().join(case["enc"].as_str().unwrap());
        let before = std::fs::read(&enc).unwrap();
        let output = decrypt_with(&sandbox, &common::bin(), &enc, &key_file, &[]);
        let stderr = stderr_text(&output);
        let code = case["sops_exit_code"].as_i64().unwrap() as i32;
        assert_eq!(output.status.code(), Some(code), "{name} ({}): {stderr}", case["tamper"]);
        let explains = match case["expect"].as_str().unwrap() {
            "mac_mismatch" => "MAC",
            "fails" => "Error decrypting tree: value at",
            // neg_mac_only_unencrypted_modified: with mac_only_encrypted
            // the plain values are outside the MAC; sops decrypts it too.
            "decrypts_to_plain" => {
                let expected = std::fs::read(vectors().join(case["dec"].as_str().unwrap())).unwrap();
                assert_eq!(output.stdout, expected, "{name}: the changed plain value comes through");
                assert!(stdout_text(&output).contains("evil.local"), "{name}: undetected by design");
                checked += 1;
                continue;
            }
            other => panic!("{name}: unknown expectation {other}"),
        };
        let first = stderr.lines().next().unwrap_or_default();
        assert!(first.starts_with("Error: ") && first.contains(explains), "{name}: explains\n{stderr}");
        assert!(output.stdout.is_empty(), "{name}: nothing printed");
        // What --ignore-mac gives: the values for a MAC problem, the same
        // refusal for a value that does not authenticate.
        let ignored = decrypt_with(&sandbox, &common::bin(), &enc, &key_file, &["--ignore-mac"]);
        let with_ignore = &case["with_ignore_mac"];
        let ignore_code = with_ignore["sops_exit_code"].as_i64().unwrap() as i32;
        assert_eq!(
            ignored.status.code(),
            Some(ignore_code),
            "{name} --ignore-mac: {}",
            stderr_text(&ignored)
        );
        if let Some(expected) = with_ignore["output"].as_str() {
            assert_eq!(
                ignored.stdout,
                std::fs::read(vectors().join(expected)).unwrap(),
                "{name} --ignore-mac"
            );
        }
        assert_eq!(std::fs::read(&enc).unwrap(), before, "{name}: the vector is untouched");
        checked += 1;
    }
    assert!(checked >= 8, "the manifest's tampered cases were found ({checked})");
}

#[test]
fn changes_to_encrypted_values_are_caught_by_their_tag_or_the_mac() {
    let sandbox = Sandbox::new();
    let enc = encrypt(&sandbox, PLAIN, &[1], &[]);
    let user = envelope(&enc, "  user: ");
    let password = envelope(&enc, "  password: ");
    let items: Vec<&str> = enc.lines().filter(|l| l.starts_with("  - ENC[")).collect();
    assert_eq!(items.len(), 3);
    let without_line = |line: &str| replace_once(&enc, &format!("{line}\n"), "");
    let auth = "authentication failed";
    let mac = "MAC mismatch";
    let cases = [
        Tampered {
            what: "list items reordered",
            text: swap(&enc, items[0], items[1]),
            code: 51,
            explains: mac,
            sops_code: 51,
        },
        Tampered {
            what: "two values swapped",
            text: swap(&enc, user, password),
            code: 25,
            explains: auth,
            sops_code: 25,
        },
        Tampered {
            what: "a value copied to another key",
            text: replace_once(&enc, user, password),
            code: 25,
            explains: auth,
            sops_code: 25,
        },
        Tampered {
            what: "an encrypted value's key renamed",
            text: replace_once(&enc, "  user: ", "  login: "),
            code: 25,
            explains: auth,
            sops_code: 25,
        },
        Tampered {
            what: "a key/value pair dropped",
            text: without_line(line_starting(&enc, "  user: ")),
            code: 51,
            explains: mac,
            sops_code: 51,
        },
        Tampered {
            what: "a list item dropped",
            text: without_line(items[2]),
            code: 51,
            explains: mac,
            sops_code: 51,
        },
        Tampered {
            what: "a list item duplicated",
            text: replace_once(&enc, items[2], &format!("{}\n{}", items[2], items[2])),
            code: 51,
            explains: mac,
            sops_code: 51,
        },
    ];
    for case in &cases {
        check(&sandbox, case);
    }
    // --ignore-mac gets past the MAC, never past a value's own tag.
    let file = write(sandbox.path(), "swapped.yaml", &cases[1].text);
    let output = decrypt_with(&sandbox, &common::bin(), &file, &key(1), &["--ignore-mac"]);
    assert_eq!(output.status.code(), Some(25), "{}", stderr_text(&output));
    let file = write(sandbox.path(), "reordered.yaml", &cases[0].text);
    let output = decrypt_with(&sandbox, &common::bin(), &file, &key(1), &["--ignore-mac"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_text(&output));
    assert!(stdout_text(&output).contains("  - two\n  - one\n"), "the reordered list, as asked");
    assert!(stderr_text(&output).is_empty() || !stderr_text(&output).contains(SECRET));
}

#[test]
fn added_and_changed_plain_values_are_caught_by_the_mac_or_the_selection_rule() {
    let sandbox = Sandbox::new();
    let enc = encrypt(&sandbox, PLAIN, &[1], &[]);
    let cases = [
        // Every value not ending in _unencrypted must be an envelope.
        Tampered {
            what: "a plain key added",
            text: replace_once(&enc, "code: ", "extra: evil\ncode: "),
            code: 25,
            explains: "value at [\"extra\"]: the value does not match the ENC[...] envelope format",
            sops_code: 25,
        },
        // Plain values are in the MAC (without mac_only_encrypted).
        Tampered {
            what: "an _unencrypted key added",
            text: replace_once(&enc, "code: ", "extra_unencrypted: evil\ncode: "),
            code: 51,
            explains: "MAC mismatch",
            sops_code: 51,
        },
        Tampered {
            what: "a plain value changed",
            text: replace_once(&enc, "db.local", "evil.local"),
            code: 51,
            explains: "MAC mismatch",
            sops_code: 51,
        },
    ];
    for case in &cases {
        check(&sandbox, case);
    }
    // sops prints the plain value it did not expect; we name its place.
    if let Some(theirs) = sops_stderr(&sandbox, &cases[0].text) {
        assert!(theirs.contains("Input string evil does not match"), "{theirs}");
    }
}

#[test]
fn changes_to_lastmodified_or_the_mac_are_caught() {
    let sandbox = Sandbox::new();
    let enc = encrypt(&sandbox, PLAIN, &[1], &[]);
    let lastmodified = line_starting(&enc, "    lastmodified: ");
    let mac = envelope(&enc, "    mac: ");
    // Flip one base64 character of the MAC's data, keeping valid base64.
    let data_at = mac.find("data:").unwrap() + "data:".len();
    let flipped_char = if &mac[data_at..data_at + 1] == "A" { "B" } else { "A" };
    let flipped = format!("{}{flipped_char}{}", &mac[..data_at], &mac[data_at + 1..]);
    let explains = "MAC";
    let cases = [
        Tampered {
            what: "lastmodified changed",
            text: replace_once(&enc, lastmodified, "    lastmodified: \"2030-01-01T00:00:00Z\""),
            code: 51,
            explains,
            sops_code: 51,
        },
        Tampered {
            what: "mac changed",
            text: replace_once(&enc, mac, &flipped),
            code: 51,
            explains,
            sops_code: 51,
        },
        Tampered {
            what: "mac removed",
            text: replace_once(&enc, &format!("{}\n", line_starting(&enc, "    mac: ")), ""),
            code: 51,
            explains: "MAC mismatch. File has no MAC",
            sops_code: 51,
        },
        Tampered {
            what: "mac cut short",
            text: replace_once(&enc, mac, &mac[..mac.len() / 2]),
            code: 51,
            explains,
            sops_code: 51,
        },
    ];
    for case in &cases {
        let output = check(&sandbox, case);
        assert!(stderr_text(&output).contains("--ignore-mac"), "{}: the hint names the way out", case.what);
        // The values are intact, so --ignore-mac decrypts.
        let file = write(sandbox.path(), "mac.yaml", &case.text);
        let ignored = decrypt_with(&sandbox, &common::bin(), &file, &key(1), &["--ignore-mac"]);
        assert_eq!(ignored.status.code(), Some(0), "{}: {}", case.what, stderr_text(&ignored));
        assert_eq!(stdout_text(&ignored), PLAIN);
    }
}

#[test]
fn a_dropped_or_reordered_yaml_document_fails_the_mac() {
    let sandbox = Sandbox::new();
    let enc = encrypt(&sandbox, "a: 1\n---\nb: 2\n---\nc: 3\n", &[1], &[]);
    // Each document carries its own copy of the metadata; the MAC covers
    // the values of all of them in order.
    let documents: Vec<&str> = enc.split("\n---\n").collect();
    assert_eq!(documents.len(), 3, "{enc}");
    let join = |docs: &[&str]| docs.join("\n---\n");
    let cases = [
        Tampered {
            what: "middle document dropped",
            text: join(&[documents[0], documents[2]]),
            code: 51,
            explains: "MAC mismatch",
            sops_code: 51,
        },
        Tampered {
            what: "last document dropped",
            text: join(&documents[..2]) + "\n",
            code: 51,
            explains: "MAC mismatch",
            sops_code: 51,
        },
        Tampered {
            what: "documents reordered",
            text: join(&[documents[1], documents[0], documents[2]]),
            code: 51,
            explains: "MAC mismatch",
            sops_code: 51,
        },
        Tampered {
            what: "a document repeated",
            text: join(&[documents[0], documents[1], documents[1], documents[2]]),
            code: 51,
            explains: "MAC mismatch",
            sops_code: 51,
        },
    ];
    for case in &cases {
        check(&sandbox, case);
    }
}

#[test]
fn a_removed_recipient_is_not_tampering_with_the_data() {
    let sandbox = Sandbox::new();
    let enc = encrypt(&sandbox, PLAIN, &[1, 2], &[]);
    let second = recipient_of(&key(2));
    let start = enc.find(&format!("        - recipient: {second}")).expect("recipient 2's entry");
    let end = enc.find("    lastmodified:").unwrap();
    let removed = format!("{}{}", &enc[..start], &enc[end..]);
    // The list of master keys is not in the MAC: the remaining key opens
    // the file, values and MAC intact. Removing a recipient denies access;
    // it does not change or reveal data (and anyone who could read the file
    // before still holds the data key; `rotate` is the cure for that).
    let output = check(
        &sandbox,
        &Tampered {
            what: "recipient 2 removed, key 1",
            text: removed.clone(),
            code: 0,
            explains: "",
            sops_code: 0,
        },
    );
    assert_eq!(stdout_text(&output), PLAIN);
    let file = write(sandbox.path(), "removed.yaml", &removed);
    let output = decrypt_with(&sandbox, &common::bin(), &file, &key(2), &[]);
    assert_eq!(output.status.code(), Some(128), "{}", stderr_text(&output));
    let stderr = stderr_text(&output);
    assert!(stderr.starts_with("Error: Failed to get the data key"), "{stderr}");
    // The report lists the one master key left, and says the identity given
    // is for another recipient.
    assert!(stderr.contains(&format!("  - age {}: no age identity", recipient_of(&key(1)))), "{stderr}");
    assert!(!stderr.contains(&format!("  - age {second}")), "the removed recipient is not listed: {stderr}");
}

#[test]
fn what_the_format_cannot_detect_goes_through() {
    let sandbox = Sandbox::new();
    let enc = encrypt(&sandbox, PLAIN, &[1], &[]);
    let code = envelope(&enc, "code: ");
    let user = envelope(&enc, "  user: ");
    // The type annotation is neither in the additional data nor in the MAC
    // (which hashes the value's text): "1234" read as an int is the same
    // bytes, so the string becomes a number. sops behaves the same.
    let as_int = replace_once(&enc, code, &code.replace("type:str]", "type:int]"));
    let output = check(
        &sandbox,
        &Tampered {
            what: "type:str -> type:int on digits",
            text: as_int,
            code: 0,
            explains: "",
            sops_code: 0,
        },
    );
    assert!(stdout_text(&output).contains("\ncode: 1234\n"), "now an int:\n{}", stdout_text(&output));
    // On text that is not a number the conversion fails, naming the value's
    // place but not the value (sops prints it: `parsing "alice"`).
    let on_text = Tampered {
        what: "type:str -> type:int on text",
        text: replace_once(&enc, user, &user.replace("type:str]", "type:int]")),
        code: 25,
        explains: "value at [\"db\"][\"user\"]: the decrypted value is not a valid int",
        sops_code: 25,
    };
    check(&sandbox, &on_text);
    if let Some(theirs) = sops_stderr(&sandbox, &on_text.text) {
        assert!(theirs.contains("parsing \"alice\""), "sops prints the decrypted value: {theirs}");
    }
    // Key names are not hashed: renaming the key of a plain value passes.
    let renamed = replace_once(&enc, "host_unencrypted:", "evil_unencrypted:");
    let output = check(
        &sandbox,
        &Tampered { what: "plain key renamed", text: renamed, code: 0, explains: "", sops_code: 0 },
    );
    assert!(stdout_text(&output).contains("evil_unencrypted: db.local"));
    // `version` is outside the MAC and only informs.
    let version = replace_once(&enc, "version: 3.11.0", "version: 3.7.0");
    check(
        &sandbox,
        &Tampered { what: "version changed", text: version, code: 0, explains: "", sops_code: 0 },
    );
    // The selection rule is outside the MAC, but changing it makes values
    // that were left plain "should be encrypted": refused, not decrypted.
    check(
        &sandbox,
        &Tampered {
            what: "unencrypted_suffix changed",
            text: replace_once(&enc, "unencrypted_suffix: _unencrypted", "unencrypted_suffix: _plain"),
            code: 25,
            explains: "value at [\"db\"][\"host_unencrypted\"]: the value does not match",
            sops_code: 25,
        },
    );
    // A narrower rule leaves encrypted values unselected: they are hashed as
    // their envelopes, and the MAC no longer matches.
    check(
        &sandbox,
        &Tampered {
            what: "selection rule narrowed",
            text: replace_once(&enc, "unencrypted_suffix: _unencrypted", "encrypted_regex: ^password$"),
            code: 51,
            explains: "MAC mismatch",
            sops_code: 51,
        },
    );
}

#[test]
fn with_mac_only_encrypted_plain_values_are_unprotected() {
    let sandbox = Sandbox::new();
    // mac_only_encrypted is a legacy-form flag, as in sops.
    let plain = write(sandbox.path(), "plain.yaml", PLAIN);
    let mut cmd = sandbox.sops_rs();
    cmd.current_dir(sandbox.path())
        .args(["-e", "--cipher", "aes256_gcm", "--mac-only-encrypted", "--age", &recipient_of(&key(1))])
        .arg(&plain);
    let output = run_within(cmd, None, DEADLINE);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_text(&output));
    let enc = stdout_text(&output);
    assert!(enc.contains("mac_only_encrypted: true"), "{enc}");
    let changed = replace_once(&enc, "db.local", "evil.local");
    let output = check(
        &sandbox,
        &Tampered { what: "plain value changed", text: changed, code: 0, explains: "", sops_code: 0 },
    );
    assert!(stdout_text(&output).contains("host_unencrypted: evil.local"));
    let added = replace_once(&enc, "code: ", "extra_unencrypted: evil\ncode: ");
    check(&sandbox, &Tampered { what: "plain key added", text: added, code: 0, explains: "", sops_code: 0 });
    // Encrypted values are still covered.
    let items: Vec<&str> = enc.lines().filter(|l| l.starts_with("  - ENC[")).collect();
    check(
        &sandbox,
        &Tampered {
            what: "encrypted items reordered",
            text: swap(&enc, items[0], items[1]),
            code: 51,
            explains: "MAC mismatch",
            sops_code: 51,
        },
    );
}

#[test]
fn a_tampered_encrypted_comment_is_kept_verbatim_with_a_warning() {
    let sandbox = Sandbox::new();
    let enc = encrypt(&sandbox, "# a comment to hide\nkey: value\n", &[1], &[]);
    let comment = enc.lines().find(|l| l.starts_with("#ENC[")).expect("the comment is encrypted");
    let at = comment.find("data:").unwrap() + "data:".len();
    let flipped_char = if &comment[at..=at] == "A" { "B" } else { "A" };
    let flipped = format!("{}{flipped_char}{}", &comment[..at], &comment[at + 1..]);
    // Comments are outside the MAC, and a comment that does not decrypt is
    // taken for one written before comments were encrypted: sops and
    // sops-rs print it as it is and go on. sops-rs also warns.
    let output = check(
        &sandbox,
        &Tampered {
            what: "encrypted comment changed",
            text: replace_once(&enc, comment, &flipped),
            code: 0,
            explains: "",
            sops_code: 0,
        },
    );
    assert_eq!(stdout_text(&output), format!("{flipped}\nkey: value\n"));
    assert!(
        stderr_text(&output)
            .contains("warning: a comment at the top level could not be decrypted and is kept as it is"),
        "{}",
        stderr_text(&output)
    );
}

#[test]
fn a_lowered_shamir_threshold_does_not_open_the_file_with_fewer_keys() {
    let sandbox = Sandbox::new();
    // shamir_threshold is outside the MAC, but one share is not the data
    // key whatever the metadata says (Shamir needs two points of a degree-1
    // polynomial): key 1 alone still fails. Raised thresholds are in
    // tests/hostile_input.rs (absurd_shamir_thresholds_fail_cleanly).
    let source = std::fs::read_to_string(vectors().join("cases/shamir_2of3/enc.yaml")).unwrap();
    check(
        &sandbox,
        &Tampered {
            what: "shamir_threshold 2 -> 1, one key",
            text: replace_once(&source, "shamir_threshold: 2", "shamir_threshold: 1"),
            code: 128,
            explains: "Failed to get the data key",
            sops_code: 128,
        },
    );
}
