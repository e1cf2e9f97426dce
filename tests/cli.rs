//! The command line as a user meets it: flags, outputs, exit codes, and
//! every bad-input path with a clear message, sops's exit code, nothing
//! lost, and no secret in the message.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{Sandbox, assert_exit, recipient_of, stderr_text, stdout_text, vectors};

const SECRET: &str = "canary-7f3a9c-do-not-print";

fn key1() -> PathBuf {
    vectors().join("keys/age1.txt")
}

fn key2() -> PathBuf {
    vectors().join("keys/age2.txt")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn plain_yaml() -> String {
    format!(
        "# settings\ndb:\n  user: app   # who\n  password: '{SECRET}'\n  port: 5432\nlist:\n  - one\n  - 2\n"
    )
}

/// Encrypt `file` to key1 with sops-rs and return the ciphertext.
fn encrypt_to_key1(sandbox: &Sandbox, file: &Path, extra: &[&str]) -> String {
    let output = sandbox
        .sops_rs()
        .current_dir(sandbox.path())
        .args(["encrypt", "--age", &recipient_of(&key1())])
        .args(extra)
        .arg(file)
        .output()
        .unwrap();
    assert_exit(&output, 0, "encrypt");
    stdout_text(&output)
}

#[test]
fn encrypt_then_decrypt_gives_the_file_back_byte_for_byte() {
    let sandbox = Sandbox::new();
    for cipher in ["aes256_gcm", "xchacha20_poly1305"] {
        let plain = write(sandbox.path(), "s.yaml", &plain_yaml());
        let encrypted = encrypt_to_key1(&sandbox, &plain, &["--cipher", cipher]);
        assert!(!encrypted.contains(SECRET), "the secret is encrypted");
        assert!(!encrypted.contains("# who"), "comments are encrypted too");
        let enc = write(sandbox.path(), "s.enc.yaml", &encrypted);
        let output =
            sandbox.sops_rs().env("SOPS_AGE_KEY_FILE", key1()).arg("decrypt").arg(&enc).output().unwrap();
        assert_exit(&output, 0, "decrypt");
        assert_eq!(stdout_text(&output), plain_yaml(), "with {cipher}");
    }
}

#[test]
fn default_cipher_is_xchacha_and_aes_is_chosen_by_flag_env_or_rule() {
    let sandbox = Sandbox::new();
    let plain = write(sandbox.path(), "s.yaml", "a: b\n");
    assert!(encrypt_to_key1(&sandbox, &plain, &[]).contains("ENC[XCHACHA20_POLY1305,"));
    assert!(encrypt_to_key1(&sandbox, &plain, &["--cipher", "aes256_gcm"]).contains("ENC[AES256_GCM,"));
    let output = sandbox
        .sops_rs()
        .env("SOPS_RS_CIPHER", "aes256_gcm")
        .args(["encrypt", "--age", &recipient_of(&key1())])
        .arg(&plain)
        .output()
        .unwrap();
    assert!(stdout_text(&output).contains("ENC[AES256_GCM,"));
    write(
        sandbox.path(),
        ".sops-rs.yaml",
        &format!("creation_rules:\n  - age: {}\n    cipher: aes256_gcm\n", recipient_of(&key1())),
    );
    let output = sandbox.sops_rs().current_dir(sandbox.path()).args(["encrypt", "s.yaml"]).output().unwrap();
    assert_exit(&output, 0, "encrypt with rule");
    assert!(stdout_text(&output).contains("ENC[AES256_GCM,"));
    // The flag wins over the rule.
    let output = sandbox
        .sops_rs()
        .current_dir(sandbox.path())
        .args(["encrypt", "--cipher", "xchacha20_poly1305", "s.yaml"])
        .output()
        .unwrap();
    assert!(stdout_text(&output).contains("ENC[XCHACHA20_POLY1305,"));
    let output = sandbox
        .sops_rs()
        .args(["encrypt", "--cipher", "rot13", "--age", &recipient_of(&key1())])
        .arg(&plain)
        .output()
        .unwrap();
    assert_exit(&output, 1, "unknown cipher");
}

#[test]
fn legacy_flags_work_like_subcommands() {
    let sandbox = Sandbox::new();
    let plain = write(sandbox.path(), "s.yaml", &plain_yaml());
    let output =
        sandbox.sops_rs().args(["-e", "--age", &recipient_of(&key1())]).arg(&plain).output().unwrap();
    assert_exit(&output, 0, "sops -e");
    let enc = write(sandbox.path(), "s.enc.yaml", &stdout_text(&output));
    let output = sandbox.sops_rs().env("SOPS_AGE_KEY_FILE", key1()).arg("-d").arg(&enc).output().unwrap();
    assert_exit(&output, 0, "sops -d");
    assert_eq!(stdout_text(&output), plain_yaml());
    // In place with the legacy -i.
    let output =
        sandbox.sops_rs().args(["-e", "-i", "--age", &recipient_of(&key1())]).arg(&plain).output().unwrap();
    assert_exit(&output, 0, "sops -e -i");
    assert!(std::fs::read_to_string(&plain).unwrap().contains("sops:"));
    let output =
        sandbox.sops_rs().env("SOPS_AGE_KEY_FILE", key1()).args(["-d", "-i"]).arg(&plain).output().unwrap();
    assert_exit(&output, 0, "sops -d -i");
    assert_eq!(std::fs::read_to_string(&plain).unwrap(), plain_yaml());
}

#[test]
fn version_is_parseable_as_sops() {
    let sandbox = Sandbox::new();
    let output = sandbox.sops_rs().arg("--version").output().unwrap();
    assert_exit(&output, 0, "--version");
    assert!(stdout_text(&output).starts_with("sops 3.11.0 (sops-rs "), "{}", stdout_text(&output));
}

#[test]
fn refuses_to_encrypt_twice() {
    let sandbox = Sandbox::new();
    let plain = write(sandbox.path(), "s.yaml", &plain_yaml());
    let enc = write(sandbox.path(), "s.enc.yaml", &encrypt_to_key1(&sandbox, &plain, &[]));
    let before = std::fs::read(&enc).unwrap();
    let output = sandbox
        .sops_rs()
        .args(["encrypt", "-i", "--age", &recipient_of(&key1())])
        .arg(&enc)
        .output()
        .unwrap();
    assert_exit(&output, 203, "already encrypted");
    assert!(stderr_text(&output).contains("already encrypted"));
    assert_eq!(std::fs::read(&enc).unwrap(), before, "the file is untouched");
}

#[test]
fn bad_inputs_fail_with_sops_codes_and_leave_files_alone() {
    let sandbox = Sandbox::new();
    let r = recipient_of(&key1());
    let cases: Vec<(&str, &str, i32, &str)> = vec![
        ("empty.yaml", "", 92, "empty"),
        ("list.yaml", "- a\n- b\n", 2, "sequence"),
        ("dup.yaml", "a: 1\na: 2\n", 2, "already defined"),
        ("bad.yaml", "a: [1, 2\n", 2, "yaml"),
        ("bad.json", "{\"a\": }", 2, "json"),
        ("arr.json", "[1, 2]", 2, "json"),
        ("nonstring.yaml", "1: one\n", 23, "non-string key"),
        ("dup.env", "A=s3cret-one\nB=2\nA=s3cret-two\n", 2, "key \"A\" is defined twice"),
        ("dup.json", "{\"a\": {\"b\": \"s3cret\", \"b\": 2}}", 2, "key \"b\" is defined twice"),
        ("dup.ini", "[s]\na = s3cret-one\na = s3cret-two\n", 2, "twice in section [s]"),
        ("unterminated.env", "A=\"s3cret\nmore text\n", 2, "never closed"),
        ("sops.ini", "[sops]\nversion = 3\n", 203, "already encrypted"),
    ];
    for (name, text, code, needle) in cases {
        let path = write(sandbox.path(), name, text);
        let output = sandbox.sops_rs().args(["encrypt", "-i", "--age", &r]).arg(&path).output().unwrap();
        assert_exit(&output, code, name);
        let stderr = stderr_text(&output);
        assert!(stderr.contains(needle), "{name}: {stderr}");
        assert!(!stderr.contains("s3cret"), "{name}: a value in the message: {stderr}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "{name}: input untouched");
    }
}

#[test]
fn flag_conflicts_and_missing_files() {
    let sandbox = Sandbox::new();
    let r = recipient_of(&key1());
    let plain = write(sandbox.path(), "s.yaml", "a: b\n");
    let out = sandbox.path().join("out.yaml");
    let output = sandbox
        .sops_rs()
        .args(["encrypt", "-i", "--output"])
        .arg(&out)
        .args(["--age", &r])
        .arg(&plain)
        .output()
        .unwrap();
    assert_exit(&output, 8, "-i with --output");
    assert!(!out.exists());
    let output = sandbox.sops_rs().args(["encrypt", "--age", &r]).output().unwrap();
    assert_exit(&output, 8, "stdin without --filename-override");
    let output = sandbox
        .sops_rs()
        .args(["encrypt", "--age", &r, "missing.yaml"])
        .current_dir(sandbox.path())
        .output()
        .unwrap();
    assert_exit(&output, 100, "missing file");
    let output =
        sandbox.sops_rs().args(["decrypt", "missing.yaml"]).current_dir(sandbox.path()).output().unwrap();
    assert_exit(&output, 100, "missing file");
    let output = sandbox.sops_rs().args(["decrypt", "--extract", "list"]).arg(&plain).output().unwrap();
    assert_exit(&output, 91, "bad --extract");
}

#[test]
fn keys_come_from_flags_or_rules_with_sops_errors() {
    let sandbox = Sandbox::new();
    write(sandbox.path(), "s.yaml", "a: b\n");
    let output = sandbox.sops_rs().current_dir(sandbox.path()).args(["encrypt", "s.yaml"]).output().unwrap();
    assert_exit(&output, 1, "no keys, no config");
    assert!(stderr_text(&output).contains("no keys provided"), "{}", stderr_text(&output));
    write(
        sandbox.path(),
        ".sops.yaml",
        &format!("creation_rules:\n  - path_regex: \\.env$\n    age: {}\n", recipient_of(&key1())),
    );
    let output = sandbox.sops_rs().current_dir(sandbox.path()).args(["encrypt", "s.yaml"]).output().unwrap();
    assert_exit(&output, 1, "no matching rule");
    assert!(stderr_text(&output).contains("no matching creation rules found"));
    write(sandbox.path(), ".sops.yaml", "creation_rules:\n  - path_regex: yaml\n");
    let output = sandbox.sops_rs().current_dir(sandbox.path()).args(["encrypt", "s.yaml"]).output().unwrap();
    assert_exit(&output, 1, "rule without keys");
    write(sandbox.path(), ".sops.yaml", "creation_rules: [\n");
    let output = sandbox.sops_rs().current_dir(sandbox.path()).args(["decrypt", "s.yaml"]).output().unwrap();
    assert_exit(&output, 1, "broken config");
    assert!(stderr_text(&output).contains(".sops.yaml"));
}

#[test]
fn selection_flags_conflict_with_a_different_rule_option() {
    let sandbox = Sandbox::new();
    write(sandbox.path(), "s.yaml", "a: b\n");
    write(
        sandbox.path(),
        ".sops.yaml",
        &format!("creation_rules:\n  - age: {}\n    unencrypted_suffix: _plain\n", recipient_of(&key1())),
    );
    let output = sandbox
        .sops_rs()
        .current_dir(sandbox.path())
        .args(["encrypt", "--encrypted-regex", "^a$", "s.yaml"])
        .output()
        .unwrap();
    assert_exit(&output, 8, "two selection options");
    // The same option given on the command line overrides the rule's.
    let output = sandbox
        .sops_rs()
        .current_dir(sandbox.path())
        .args(["encrypt", "--unencrypted-suffix", "_x", "s.yaml"])
        .output()
        .unwrap();
    assert_exit(&output, 0, "same option");
    assert!(stdout_text(&output).contains("unencrypted_suffix: _x"));
}

#[test]
fn wrong_key_error_lists_every_recipient_and_why() {
    let sandbox = Sandbox::new();
    let plain = write(sandbox.path(), "s.yaml", &plain_yaml());
    let r1 = recipient_of(&key1());
    let r3 = recipient_of(&vectors().join("keys/age3.txt"));
    let output =
        sandbox.sops_rs().args(["encrypt", "--age", &format!("{r1},{r3}")]).arg(&plain).output().unwrap();
    let enc = write(sandbox.path(), "s.enc.yaml", &stdout_text(&output));
    let output =
        sandbox.sops_rs().env("SOPS_AGE_KEY_FILE", key2()).arg("decrypt").arg(&enc).output().unwrap();
    assert_exit(&output, 128, "wrong key");
    let stderr = stderr_text(&output);
    assert!(stderr.contains(&r1) && stderr.contains(&r3), "both recipients are named:\n{stderr}");
    assert!(stderr.contains("SOPS_AGE_KEY_FILE"), "where identities were looked for:\n{stderr}");
    assert!(!stderr.contains("AGE-SECRET-KEY"), "no identity is printed");
    assert!(!stderr.contains(SECRET));
    assert!(output.stdout.is_empty());
    // No identity at all.
    let output = sandbox.sops_rs().arg("decrypt").arg(&enc).output().unwrap();
    assert_exit(&output, 128, "no identity");
    assert!(stderr_text(&output).contains(&r1));
}

#[test]
fn tampering_is_refused_and_never_prints_the_secret() {
    let sandbox = Sandbox::new();
    let plain = write(sandbox.path(), "s.yaml", &plain_yaml());
    let encrypted = encrypt_to_key1(&sandbox, &plain, &[]);
    // Swap the user and password envelopes: each value's path is bound into
    // its tag, so neither decrypts in the other's place.
    let lines: Vec<&str> = encrypted.lines().collect();
    let user = lines.iter().position(|l| l.trim_start().starts_with("user:")).unwrap();
    let pass = lines.iter().position(|l| l.trim_start().starts_with("password:")).unwrap();
    let mut swapped: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let user_env = lines[user].split_once(": ").unwrap().1.split(' ').next().unwrap().to_owned();
    let pass_env = lines[pass].split_once(": ").unwrap().1.to_owned();
    swapped[user] = lines[user].replace(&user_env, &pass_env);
    swapped[pass] = lines[pass].replace(&pass_env, &user_env);
    let enc = write(sandbox.path(), "swapped.yaml", &(swapped.join("\n") + "\n"));
    let output =
        sandbox.sops_rs().env("SOPS_AGE_KEY_FILE", key1()).arg("decrypt").arg(&enc).output().unwrap();
    assert_exit(&output, 25, "swapped values");
    assert!(!stderr_text(&output).contains(SECRET));
    assert!(output.stdout.is_empty());
    // Drop a list item: every value decrypts, the MAC does not match.
    let dropped: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.trim_start().starts_with("- ENC[") || !l.contains("type:int"))
        .collect();
    let enc = write(sandbox.path(), "dropped.yaml", &(dropped.join("\n") + "\n"));
    let output =
        sandbox.sops_rs().env("SOPS_AGE_KEY_FILE", key1()).arg("decrypt").arg(&enc).output().unwrap();
    assert_exit(&output, 51, "dropped item");
    assert!(!stderr_text(&output).contains(SECRET));
    assert!(stderr_text(&output).contains("--ignore-mac"), "the hint names the way out");
    let output = sandbox
        .sops_rs()
        .env("SOPS_AGE_KEY_FILE", key1())
        .args(["decrypt", "--ignore-mac"])
        .arg(&enc)
        .output()
        .unwrap();
    assert_exit(&output, 0, "--ignore-mac");
    assert!(stdout_text(&output).contains(SECRET));
}

#[test]
fn output_files_are_atomic_and_plaintext_is_private() {
    let sandbox = Sandbox::new();
    let plain = write(sandbox.path(), "s.yaml", &plain_yaml());
    let enc = write(sandbox.path(), "s.enc.yaml", &encrypt_to_key1(&sandbox, &plain, &[]));
    let out = sandbox.path().join("decrypted.yaml");
    let output = sandbox
        .sops_rs()
        .env("SOPS_AGE_KEY_FILE", key1())
        .args(["decrypt", "--output"])
        .arg(&out)
        .arg(&enc)
        .output()
        .unwrap();
    assert_exit(&output, 0, "decrypt --output");
    assert!(output.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), plain_yaml());
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
    // In place keeps the file's mode.
    std::fs::set_permissions(&enc, std::fs::Permissions::from_mode(0o640)).unwrap();
    let output = sandbox
        .sops_rs()
        .env("SOPS_AGE_KEY_FILE", key1())
        .args(["decrypt", "-i"])
        .arg(&enc)
        .output()
        .unwrap();
    assert_exit(&output, 0, "decrypt -i");
    assert_eq!(std::fs::metadata(&enc).unwrap().permissions().mode() & 0o777, 0o640);
    let names: Vec<String> = std::fs::read_dir(sandbox.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains("sops-rs-tmp")), "no temporary files left: {names:?}");
}

/// Regression: `--output /dev/stdout` failed (a temporary file was made
/// next to /proc/self/fd/1 to be renamed over it); sops writes into it, so
/// scripts that name stdout as the output file work.
#[test]
fn output_to_dev_stdout_writes_into_the_pipe() {
    let sandbox = Sandbox::new();
    let plain = write(sandbox.path(), "s.yaml", &plain_yaml());
    let enc = write(sandbox.path(), "s.enc.yaml", &encrypt_to_key1(&sandbox, &plain, &[]));
    let output = sandbox
        .sops_rs()
        .env("SOPS_AGE_KEY_FILE", key1())
        .args(["decrypt", "--output", "/dev/stdout"])
        .arg(&enc)
        .output()
        .unwrap();
    assert_exit(&output, 0, "decrypt --output /dev/stdout");
    assert_eq!(stdout_text(&output), plain_yaml());
    let r = recipient_of(&key1());
    let output = sandbox
        .sops_rs()
        .args(["encrypt", "--age", &r, "--output", "/dev/stdout"])
        .arg(&plain)
        .output()
        .unwrap();
    assert_exit(&output, 0, "encrypt --output /dev/stdout");
    assert!(stdout_text(&output).contains("ENC[") && stdout_text(&output).contains("sops:"));
}

#[test]
fn output_into_a_missing_directory_names_the_directory() {
    let sandbox = Sandbox::new();
    let plain = write(sandbox.path(), "s.yaml", &plain_yaml());
    let enc = write(sandbox.path(), "s.enc.yaml", &encrypt_to_key1(&sandbox, &plain, &[]));
    let missing = sandbox.path().join("missing");
    let output = sandbox
        .sops_rs()
        .env("SOPS_AGE_KEY_FILE", key1())
        .args(["decrypt", "--output"])
        .arg(missing.join("out.yaml"))
        .arg(&enc)
        .output()
        .unwrap();
    assert_exit(&output, 3, "decrypt --output into a missing directory");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("no directory {}", missing.display())), "{stderr}");
    assert!(stderr.contains("create the directory first"), "{stderr}");
    assert!(!stderr.contains("sops-rs-tmp") && !stderr.contains(SECRET), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn extract_prints_one_value() {
    let sandbox = Sandbox::new();
    let plain = write(sandbox.path(), "s.yaml", &plain_yaml());
    let enc = write(sandbox.path(), "s.enc.yaml", &encrypt_to_key1(&sandbox, &plain, &[]));
    let run = |path: &str| {
        sandbox
            .sops_rs()
            .env("SOPS_AGE_KEY_FILE", key1())
            .args(["decrypt", "--extract", path])
            .arg(&enc)
            .output()
            .unwrap()
    };
    let output = run(r#"["db"]["password"]"#);
    assert_exit(&output, 0, "extract string");
    assert_eq!(stdout_text(&output), SECRET, "a string is printed raw, without newline");
    let output = run(r#"["db"]["port"]"#);
    assert_eq!(stdout_text(&output), "5432\n");
    let output = run(r#"["list"][0]"#);
    assert_eq!(stdout_text(&output), "one");
    let output = run(r#"["db"]["nope"]"#);
    assert_exit(&output, 1, "missing component");
    assert!(stderr_text(&output).contains("nope"));
}

#[test]
fn stdin_works_with_filename_override() {
    use std::io::Write;
    let sandbox = Sandbox::new();
    let mut child = sandbox
        .sops_rs()
        .args(["encrypt", "--filename-override", "x.yaml", "--age", &recipient_of(&key1())])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"k: v\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert_exit(&output, 0, "encrypt from stdin");
    let mut child = sandbox
        .sops_rs()
        .env("SOPS_AGE_KEY_FILE", key1())
        .args(["decrypt", "--input-type", "yaml", "--output-type", "yaml"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&output.stdout).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_exit(&output, 0, "decrypt from stdin");
    assert_eq!(stdout_text(&output), "k: v\n");
}

#[test]
fn converts_between_yaml_and_json() {
    let sandbox = Sandbox::new();
    let plain = write(sandbox.path(), "s.yaml", "a: 1\nb:\n  - x\n  - true\n");
    let enc = write(sandbox.path(), "s.enc.yaml", &encrypt_to_key1(&sandbox, &plain, &[]));
    let output = sandbox
        .sops_rs()
        .env("SOPS_AGE_KEY_FILE", key1())
        .args(["decrypt", "--output-type", "json"])
        .arg(&enc)
        .output()
        .unwrap();
    assert_exit(&output, 0, "to json");
    assert_eq!(stdout_text(&output), "{\n\t\"a\": 1,\n\t\"b\": [\n\t\t\"x\",\n\t\ttrue\n\t]\n}\n");
}

#[test]
fn converts_to_every_format_and_refuses_what_a_format_cannot_hold() {
    let sandbox = Sandbox::new();
    let decrypt_as = |enc: &Path, to: &str, out: Option<&Path>| {
        let mut command = sandbox.sops_rs();
        command.env("SOPS_AGE_KEY_FILE", key1()).args(["decrypt", "--output-type", to]);
        if let Some(out) = out {
            command.arg("--output").arg(out);
        }
        command.arg(enc).output().unwrap()
    };
    let flat = write(sandbox.path(), "flat.yaml", "A: one\nB: 2\n");
    let flat = write(sandbox.path(), "flat.enc.yaml", &encrypt_to_key1(&sandbox, &flat, &[]));
    for (to, want) in [
        ("dotenv", "A=one\nB=2\n"),
        ("json", "{\n\t\"A\": \"one\",\n\t\"B\": 2\n}\n"),
        ("toml", "A = \"one\"\nB = 2\n"),
    ] {
        let output = decrypt_as(&flat, to, None);
        assert_exit(&output, 0, to);
        assert_eq!(stdout_text(&output), want, "{to}");
    }
    let sections = write(sandbox.path(), "sections.yaml", "db:\n  user: app\n");
    let sections = write(sandbox.path(), "sections.enc.yaml", &encrypt_to_key1(&sandbox, &sections, &[]));
    let output = decrypt_as(&sections, "ini", None);
    assert_exit(&output, 0, "ini");
    assert_eq!(stdout_text(&output), "[db]\nuser = app\n");

    // What the target cannot hold: exit 4, a message naming the problem, no
    // value in it, and no output file.
    let nested = write(sandbox.path(), "nested.yaml", "top:\n  inner: s3cret\n");
    let nested = write(sandbox.path(), "nested.enc.yaml", &encrypt_to_key1(&sandbox, &nested, &[]));
    let nulls = write(sandbox.path(), "null.yaml", "a: null\nb: s3cret\n");
    let nulls = write(sandbox.path(), "null.enc.yaml", &encrypt_to_key1(&sandbox, &nulls, &[]));
    let docs = write(sandbox.path(), "docs.yaml", "a: s3cret\n---\nb: 2\n");
    let docs = write(sandbox.path(), "docs.enc.yaml", &encrypt_to_key1(&sandbox, &docs, &[]));
    for (enc, to, needle) in [
        (&nested, "dotenv", "complex value"),
        (&nulls, "toml", "null"),
        (&docs, "json", "one document"),
        (&docs, "dotenv", "one document"),
    ] {
        let out = sandbox.path().join(format!("out-{to}"));
        let output = decrypt_as(enc, to, Some(&out));
        assert_exit(&output, 4, &format!("{} to {to}", enc.display()));
        let stderr = stderr_text(&output);
        assert!(stderr.contains(needle), "{to}: {stderr}");
        assert!(!stderr.contains("s3cret"), "{to}: {stderr}");
        assert!(!out.exists(), "{to}: no partial output");
    }
}

/// sops's flags that have no work to do here are accepted, so sops command
/// lines run unchanged, and each says what it does (or why it cannot).
#[test]
fn sops_flags_without_a_job_here_are_accepted_and_explained() {
    let sandbox = Sandbox::new();
    let plain = write(sandbox.path(), "s.yaml", &plain_yaml());
    let enc = write(sandbox.path(), "s.enc.yaml", &encrypt_to_key1(&sandbox, &plain, &[]));
    let decrypt = |flags: &[&str], env: &[(&str, &str)]| {
        let mut command = sandbox.sops_rs();
        // After the command, where sops's help puts them.
        command.env("SOPS_AGE_KEY_FILE", key1()).arg("decrypt").args(flags).arg(&enc);
        command.envs(env.iter().copied()).output().unwrap()
    };
    // Remote key services are tried after the local one in sops: not used
    // here (nothing listens at the address), with a warning that does not
    // echo the address.
    for (flags, env) in [
        (&["--keyservice", "tcp://127.0.0.1:9"][..], &[][..]),
        (&[][..], &[("SOPS_KEYSERVICE", "tcp://127.0.0.1:9,unix:///nowhere")][..]),
        (&["--enable-local-keyservice"][..], &[][..]),
        (&["--enable-local-keyservice=true"][..], &[("SOPS_ENABLE_LOCAL_KEYSERVICE", "1")][..]),
    ] {
        let output = decrypt(flags, env);
        assert_exit(&output, 0, &format!("{flags:?} {env:?}"));
        assert_eq!(stdout_text(&output), plain_yaml());
        let warned = stderr_text(&output).contains("--keyservice (SOPS_KEYSERVICE) is ignored");
        assert_eq!(
            warned,
            flags.contains(&"--keyservice") || !env.is_empty() && env[0].0 == "SOPS_KEYSERVICE"
        );
        assert!(!stderr_text(&output).contains("127.0.0.1"), "{}", stderr_text(&output));
    }
    for (flags, env) in [
        (&["--enable-local-keyservice=false"][..], &[][..]),
        (&[][..], &[("SOPS_ENABLE_LOCAL_KEYSERVICE", "false")][..]),
    ] {
        let output = decrypt(flags, env);
        assert_exit(&output, 1, "local key service off");
        assert!(stderr_text(&output).contains("no key service client"), "{}", stderr_text(&output));
        assert_eq!(stdout_text(&output), "");
    }
    // `set` and `unset` take sops's threshold flag and, like sops, keep the file's.
    let before = std::fs::read_to_string(&enc).unwrap();
    let output = sandbox
        .sops_rs()
        .env("SOPS_AGE_KEY_FILE", key1())
        .args(["set", "--shamir-secret-sharing-threshold", "2"])
        .arg(&enc)
        .args(["[\"db\"][\"port\"]", "6543"])
        .output()
        .unwrap();
    assert_exit(&output, 0, "set with a threshold");
    let after = std::fs::read_to_string(&enc).unwrap();
    assert_ne!(after, before);
    assert!(!after.contains("shamir_threshold"), "{after}");
    let output = sandbox
        .sops_rs()
        .env("SOPS_AGE_KEY_FILE", key1())
        .args(["unset", "--shamir-secret-sharing-threshold", "2"])
        .arg(&enc)
        .arg("[\"list\"]")
        .output()
        .unwrap();
    assert_exit(&output, 0, "unset with a threshold");
    assert!(!std::fs::read_to_string(&enc).unwrap().contains("shamir_threshold"));

    // `-s` (edit the metadata too) is refused before any editor runs; with
    // `-d` it has no job in sops either and is ignored.
    let before = std::fs::read_to_string(&enc).unwrap();
    for args in [&["edit", "-s"][..], &["--show-master-keys"][..], &["-s"][..]] {
        let output = sandbox
            .sops_rs()
            .env("SOPS_AGE_KEY_FILE", key1())
            .env("EDITOR", "false")
            .args(args)
            .arg(&enc)
            .output()
            .unwrap();
        assert_exit(&output, 1, &format!("{args:?}"));
        assert!(
            stderr_text(&output).contains("--show-master-keys (-s) is not supported"),
            "{}",
            stderr_text(&output)
        );
        assert_eq!(std::fs::read_to_string(&enc).unwrap(), before);
    }
    let output =
        sandbox.sops_rs().env("SOPS_AGE_KEY_FILE", key1()).args(["-d", "-s"]).arg(&enc).output().unwrap();
    assert_exit(&output, 0, "-d -s");
    assert!(stdout_text(&output).contains(SECRET));
}
