//! No secret ever leaks through a failing command.
//!
//! Error messages, warnings, hints, panic output and the audit log are read
//! by people who may not hold the keys (CI logs are public more often than
//! anyone intends). This test plants canaries, distinctive strings that
//! occur nowhere else, in every place a secret lives:
//!
//! - plaintext values (a string, a list item, a nested value), and a value
//!   that is itself key material (an age secret key stored in the file);
//! - comments, which YAML encryption covers (a line comment and an inline
//!   one);
//! - the age identity file (its secret key line and a comment in it), a
//!   malformed identity given inline, and AWS credentials in the
//!   environment;
//! - arguments that carry secrets: a `set` value that is not valid JSON.
//!
//! Then it drives every error path the command line offers: tampered
//! ciphertext and comments, wrong and missing and malformed identities, a
//! bad MAC with and without `--ignore-mac`, bad `--extract` paths, refused
//! conversions, bad `set` input, `exec-env` values that cannot be variables,
//! a KMS key whose endpoint (a closed port on 127.0.0.1) refuses, parse
//! errors on the very line holding the secret, and more. Every run has
//! `RUST_BACKTRACE=1` (so a panic would print its message and backtrace)
//! and `SOPS_RS_AUDIT_LOG` set. Each must fail with its documented exit
//! code, without panicking, with no canary on stdout or stderr; at the end
//! the audit log, which recorded every run, must hold none either.

#[path = "common/child.rs"]
mod child;
mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use child::{DEADLINE, run_within};
use common::{Sandbox, recipient_of, stderr_text, stdout_text, vectors};

const VALUE: &str = "canary-value-5e1d";
const INLINE_COMMENT: &str = "canary-inline-comment-19c4";
const LINE_COMMENT: &str = "canary-line-comment-77aa";
const ITEM: &str = "canary-item-0b3c";
const NESTED: &str = "canary-nested-a2f6";
const IDENTITY_COMMENT: &str = "canary-identity-comment-3d80";
const AWS_SECRET: &str = "canary-aws-secret-key-c6b1";
const AWS_TOKEN: &str = "canary-aws-session-token-8e02";
const SET_VALUE: &str = "canary-set-value-4b7e";
const BAD_LINE: &str = "canary-on-a-bad-line-90d3";
/// Malformed inline identity: right prefix, wrong checksum.
const BAD_IDENTITY: &str = "AGE-SECRET-KEY-1CANARYBADIDENTITYQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";

fn key(n: u8) -> PathBuf {
    vectors().join(format!("keys/age{n}.txt"))
}

/// The `AGE-SECRET-KEY-1...` line of a key file: the secret itself.
fn secret_key_of(key_file: &Path) -> String {
    let text = std::fs::read_to_string(key_file).unwrap();
    text.lines().find(|l| l.starts_with("AGE-SECRET-KEY-1")).expect("a secret key line").to_owned()
}

/// Every canary: the fixed ones and the secret keys of the identities.
fn canaries() -> Vec<String> {
    let mut all: Vec<String> = [
        VALUE,
        INLINE_COMMENT,
        LINE_COMMENT,
        ITEM,
        NESTED,
        IDENTITY_COMMENT,
        AWS_SECRET,
        AWS_TOKEN,
        SET_VALUE,
        BAD_LINE,
        BAD_IDENTITY,
    ]
    .map(str::to_owned)
    .to_vec();
    all.extend((1..=3).map(|n| secret_key_of(&key(n))));
    all
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

struct World {
    sandbox: Sandbox,
    identity: PathBuf,
    audit: PathBuf,
    runs: usize,
}

impl World {
    fn new() -> World {
        let sandbox = Sandbox::new();
        // Key 1 with a comment of its own: the whole file is secret.
        let identity = sandbox.path().join("identity.txt");
        std::fs::write(
            &identity,
            format!("# {IDENTITY_COMMENT}\n{}", std::fs::read_to_string(key(1)).unwrap()),
        )
        .unwrap();
        let audit = sandbox.path().join("audit.log");
        World { sandbox, identity, audit, runs: 0 }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.sandbox.path().join(name)
    }

    fn write(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `sops-rs` with the identity, the audit log, backtraces on, and AWS
    /// credentials that are canaries too.
    fn command(&self) -> Command {
        let mut cmd = self.sandbox.sops_rs();
        cmd.current_dir(self.sandbox.path())
            .env("SOPS_AGE_KEY_FILE", &self.identity)
            .env("SOPS_RS_AUDIT_LOG", &self.audit)
            .env("RUST_BACKTRACE", "1")
            .env("AWS_ACCESS_KEY_ID", "AKIADUMMYDUMMYDUMMY")
            .env("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
            .env("AWS_SESSION_TOKEN", AWS_TOKEN)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL", closed_port_url());
        cmd
    }

    fn run(&mut self, cmd: Command) -> Output {
        self.runs += 1;
        run_within(cmd, None, DEADLINE)
    }

    /// A run that must fail with `code` and print no canary anywhere.
    #[track_caller]
    fn fails(&mut self, what: &str, cmd: Command, code: i32) -> Output {
        let output = self.run(cmd);
        let stderr = stderr_text(&output);
        assert_eq!(output.status.code(), Some(code), "{what}: exit code\nstderr:\n{stderr}");
        assert!(!stderr.trim().is_empty(), "{what}: says something");
        assert_clean(what, &output);
        output
    }
}

#[track_caller]
fn assert_clean(what: &str, output: &Output) {
    let stdout = stdout_text(output);
    let stderr = stderr_text(output);
    assert!(!stderr.contains("panicked"), "{what}: panicked\n{stderr}");
    for canary in canaries() {
        assert!(!stdout.contains(&canary), "{what}: {canary:?} on stdout\n{stdout}");
        assert!(!stderr.contains(&canary), "{what}: {canary:?} on stderr\n{stderr}");
    }
}

fn plain_yaml() -> String {
    format!(
        "# {LINE_COMMENT}\ndb:\n  password: {VALUE}  # {INLINE_COMMENT}\n  port: 5432\n\
         signing_key: {}\nlist:\n  - {ITEM}\n  - two\nnested:\n  deep:\n    value: {NESTED}\n",
        secret_key_of(&key(3))
    )
}

/// Encrypt `plain` to key 1 and return the ciphertext; checks it holds no
/// canary (values and comments are encrypted).
fn encrypt(world: &mut World, name: &str, plain: &str) -> String {
    let file = world.write(name, plain);
    let mut cmd = world.command();
    cmd.args(["encrypt", "--age", &recipient_of(&key(1))]).arg(&file);
    let output = world.run(cmd);
    assert_eq!(output.status.code(), Some(0), "encrypt {name}: {}", stderr_text(&output));
    std::fs::remove_file(&file).unwrap();
    assert_clean("the ciphertext", &output);
    stdout_text(&output)
}

/// Change one base64 character of the envelope on the line starting with
/// `prefix` (inside its data, keeping the base64 valid).
fn tamper_line(text: &str, prefix: &str, nth_envelope: usize) -> String {
    let line = text.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("{prefix:?}"));
    let at = line.match_indices("data:").nth(nth_envelope).expect("an envelope").0 + "data:".len();
    let replacement = if &line[at..=at] == "A" { "B" } else { "A" };
    let changed = format!("{}{replacement}{}", &line[..at], &line[at + 1..]);
    text.replacen(line, &changed, 1)
}

fn decrypt(world: &World, file: &Path, extra: &[&str]) -> Command {
    let mut cmd = world.command();
    cmd.arg("decrypt").args(extra).arg(file);
    cmd
}

#[test]
fn no_canary_leaks_from_any_error_path() {
    let mut world = World::new();
    let plain = plain_yaml();
    let enc = encrypt(&mut world, "base.yaml", &plain);
    let good = world.write("good.yaml", &enc);

    // The identity works, and a successful decrypt prints the values (the
    // canaries are real plaintext, so their absence elsewhere means something).
    let output = world.run(decrypt(&world, &good, &[]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr_text(&output));
    assert_eq!(stdout_text(&output), plain);
    assert!(output.stderr.is_empty());

    // Tampered ciphertext: a value, a comment, a list item.
    let file = world.write("t1.yaml", tamper_line(&enc, "  password: ", 0));
    world.fails("tampered value", decrypt(&world, &file, &[]), 25);
    // A comment that does not decrypt is kept as it is, with a warning, as
    // sops does (files from old sops versions have plain comments; comments
    // are outside the MAC). Its plaintext cannot appear, and the warning
    // names the place, not the text.
    for (what, prefix, nth, canary) in
        [("inline comment", "  password: ", 1, INLINE_COMMENT), ("line comment", "#ENC[", 0, LINE_COMMENT)]
    {
        let file = world.write("t2.yaml", tamper_line(&enc, prefix, nth));
        let output = world.run(decrypt(&world, &file, &[]));
        assert_eq!(output.status.code(), Some(0), "tampered {what}: {}", stderr_text(&output));
        assert!(stderr_text(&output).contains("could not be decrypted and is kept as it is"), "{what}");
        assert!(!stdout_text(&output).contains(canary), "tampered {what}: its plaintext is not recovered");
        assert!(stdout_text(&output).contains(VALUE), "tampered {what}: the values decrypt");
        for canary in canaries() {
            assert!(!stderr_text(&output).contains(&canary), "tampered {what}: {canary} in the warning");
        }
    }
    let file = world.write("t4.yaml", tamper_line(&enc, "  - ENC[", 0));
    world.fails("tampered list item", decrypt(&world, &file, &["--ignore-mac"]), 25);

    // Bad MAC: two list items swapped (each decrypts, the order is wrong).
    let items: Vec<&str> = enc.lines().filter(|l| l.starts_with("  - ENC[")).collect();
    let swapped =
        enc.replacen(items[0], "\u{0}", 1).replacen(items[1], items[0], 1).replacen('\u{0}', items[1], 1);
    let bad_mac = world.write("mac.yaml", &swapped);
    world.fails("bad MAC", decrypt(&world, &bad_mac, &[]), 51);
    world.fails(
        "bad MAC, --extract",
        decrypt(&world, &bad_mac, &["--extract", "[\"db\"][\"password\"]"]),
        51,
    );
    world.fails(
        "bad MAC, exec-env",
        {
            let mut cmd = world.command();
            cmd.args(["exec-env"]).arg(&bad_mac).arg("true");
            cmd
        },
        51,
    );
    // --ignore-mac: the warning, if any, holds no value; a value that does
    // not authenticate is still refused; a missing path still fails.
    let output = world.run(decrypt(&world, &bad_mac, &["--ignore-mac"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr_text(&output));
    assert!(stdout_text(&output).contains(VALUE), "--ignore-mac decrypts");
    for canary in canaries() {
        assert!(!stderr_text(&output).contains(&canary), "--ignore-mac warning: {canary}");
    }
    let both = world.write("both.yaml", tamper_line(&swapped, "  password: ", 0));
    world.fails("bad MAC and a tampered value, --ignore-mac", decrypt(&world, &both, &["--ignore-mac"]), 25);
    world.fails(
        "--ignore-mac, missing --extract path",
        decrypt(&world, &bad_mac, &["--ignore-mac", "--extract", "[\"nope\"]"]),
        1,
    );
    // The MAC itself changed.
    let file = world.write("macflip.yaml", tamper_line(&enc, "    mac: ", 0));
    world.fails("changed MAC", decrypt(&world, &file, &[]), 51);

    // Identities: not a recipient, missing, malformed, and no identity.
    let mut cmd = decrypt(&world, &good, &[]);
    cmd.env("SOPS_AGE_KEY_FILE", key(2));
    world.fails("wrong key", cmd, 128);
    let mut cmd = decrypt(&world, &good, &[]);
    cmd.env("SOPS_AGE_KEY_FILE", world.path("no-such-identity.txt"));
    world.fails("missing identity file", cmd, 128);
    let mut cmd = decrypt(&world, &good, &[]);
    cmd.env_remove("SOPS_AGE_KEY_FILE")
        .env("SOPS_AGE_KEY", format!("# {IDENTITY_COMMENT}\n{BAD_IDENTITY}\n"));
    world.fails("malformed inline identity", cmd, 128);
    let broken = world.write("broken-identity.txt", format!("{BAD_IDENTITY}\n{}\n", secret_key_of(&key(2))));
    let mut cmd = decrypt(&world, &good, &[]);
    cmd.env("SOPS_AGE_KEY_FILE", &broken);
    world.fails("malformed identity file", cmd, 128);
    let mut cmd = decrypt(&world, &good, &[]);
    cmd.env_remove("SOPS_AGE_KEY_FILE");
    world.fails("no identity at all", cmd, 128);
    let mut cmd = world.command();
    cmd.args(["rotate"]).arg(&good).env("SOPS_AGE_KEY_FILE", key(2));
    world.fails("rotate with the wrong key", cmd, 128);

    // --extract paths.
    world.fails("bad --extract syntax", decrypt(&world, &good, &["--extract", "[\"db\""]), 91);
    world.fails("missing --extract component", decrypt(&world, &good, &["--extract", "[\"nope\"]"]), 1);
    world.fails(
        "--extract through a string",
        decrypt(&world, &good, &["--extract", "[\"db\"][\"password\"][\"x\"]"]),
        1,
    );
    world.fails("--extract past a list's end", decrypt(&world, &good, &["--extract", "[\"list\"][9]"]), 1);

    // Conversions a format cannot hold.
    world.fails("nested YAML to dotenv", decrypt(&world, &good, &["--output-type", "dotenv"]), 4);
    world.fails("nested YAML to INI", decrypt(&world, &good, &["--output-type", "ini"]), 4);
    let multi = encrypt(&mut world, "multi.yaml", &format!("a: {VALUE}\n---\nb: {NESTED}\n"));
    let multi = world.write("multi.enc.yaml", multi);
    world.fails("two documents to JSON", decrypt(&world, &multi, &["--output-type", "json"]), 4);

    // set: a value that is not JSON (the value is the secret), a bad path,
    // a path through a string.
    let target = world.write("set.yaml", &enc);
    let mut cmd = world.command();
    cmd.arg("set").arg(&target).args(["[\"db\"][\"password\"]", &format!("{{\"x\": {SET_VALUE}")]);
    world.fails("set: invalid JSON value", cmd, 7);
    let mut cmd = world.command();
    cmd.arg("set").arg(&target).args(["[\"db\"", &format!("\"{SET_VALUE}\"")]);
    world.fails("set: bad path", cmd, 7);
    let mut cmd = world.command();
    cmd.arg("set").arg(&target).arg("[\"db\"]").arg("--value-stdin");
    let output = world.run(cmd);
    assert_ne!(output.status.code(), Some(0), "set with an empty stdin value: {}", stderr_text(&output));
    assert_clean("set --value-stdin, empty", &output);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), enc, "the file was not changed");

    // exec-env: names and values that cannot be variables.
    let env_enc = encrypt(&mut world, "env.yaml", &format!("\"A=B\": {VALUE}\n"));
    let env_file = world.write("env.enc.yaml", env_enc);
    let mut cmd = world.command();
    cmd.arg("exec-env").arg(&env_file).arg("true");
    let output = world.fails("exec-env: '=' in a name", cmd, 1);
    assert!(stderr_text(&output).contains("cannot be an environment variable name"));
    let nul_enc = encrypt(&mut world, "nul.yaml", &format!("db:\n  token: \"{VALUE}\\0{NESTED}\"\n"));
    let nul_file = world.write("nul.enc.yaml", nul_enc);
    let mut cmd = world.command();
    cmd.arg("exec-env").arg(&nul_file).arg("true");
    let output = world.fails("exec-env: a NUL in a value", cmd, 1);
    assert!(
        stderr_text(&output).contains("the value of db__token contains a NUL byte"),
        "{}",
        stderr_text(&output)
    );
    // A failing command: its exit code, and nothing from us.
    let mut cmd = world.command();
    cmd.arg("exec-env").arg(&good).arg("exit 3");
    let output = world.run(cmd);
    assert_eq!(output.status.code(), Some(3));
    assert_clean("exec-env: failing command", &output);
    let mut cmd = world.command();
    cmd.arg("exec-file").arg(&good).arg("false {}");
    let output = world.run(cmd);
    assert_eq!(output.status.code(), Some(1));
    assert_clean("exec-file: failing command", &output);

    // A KMS key whose provider fails (closed port on 127.0.0.1), next to an
    // age key the identity does not match. The key list is outside the MAC,
    // so the entry can be added to our file.
    let kms_entry = "    kms:\n        - arn: arn:aws:kms:us-east-1:123456789012:key/22222222-2222-4222-8222-222222222222\n          created_at: \"2026-11-22T19:15:10Z\"\n          enc: MjIyMjIyMjItMjIyMi00MjIyLTgyMjItMjIyMjIyMjIyMjIydX6+i96BDO+lOx9zA8VPhSuF8/eKPvGVI6rSLHpVMWuA6oWFpTZ0u2jnJe3fyUA+8I6ILoWd4hulTPVu\n          aws_profile: \"\"\n";
    let with_kms = world
        .write("kms.yaml", enc.replacen("    lastmodified:", &format!("{kms_entry}    lastmodified:"), 1));
    let mut cmd = decrypt(&world, &with_kms, &[]);
    cmd.env("SOPS_AGE_KEY_FILE", key(2));
    let output = world.fails("KMS endpoint refuses", cmd, 128);
    assert!(stderr_text(&output).contains("127.0.0.1"), "names the endpoint\n{}", stderr_text(&output));
    let kms_plain = world.write("kms-plain.yaml", &plain);
    let mut cmd = world.command();
    cmd.args([
        "encrypt",
        "--kms",
        "arn:aws:kms:us-east-1:123456789012:key/22222222-2222-4222-8222-222222222222",
    ])
    .arg(&kms_plain);
    world.fails("encrypt to an unreachable KMS", cmd, 1);

    // Parse errors on the line holding the secret: the message gives a
    // position, never the line (sops prints the offending dotenv line).
    let bad_inputs = [
        ("bad.yaml", format!("a: [{BAD_LINE}\n")),
        ("bad.json", format!("{{\"a\": {BAD_LINE}}}")),
        ("bad.env", format!("{BAD_LINE}\n")),
        ("bad2.env", format!("export {BAD_LINE} {BAD_LINE}\n")),
        ("bad.ini", format!("[{BAD_LINE}\na = b\n")),
        ("bad.toml", format!("a = {BAD_LINE}\n")),
    ];
    for (name, text) in bad_inputs {
        let file = world.write(name, &text);
        let mut cmd = world.command();
        cmd.args(["encrypt", "--age", &recipient_of(&key(1))]).arg(&file);
        world.fails(&format!("parse error in {name}"), cmd, 2);
        // And the same broken text given to decrypt.
        world.fails(&format!("parse error in {name}, decrypt"), decrypt(&world, &file, &[]), 2);
    }

    // Already encrypted; stdin without a name; a decryption order repeated.
    let mut cmd = world.command();
    cmd.args(["encrypt", "--age", &recipient_of(&key(1))]).arg(&good);
    world.fails("already encrypted", cmd, 203);
    world.fails("repeated decryption order", decrypt(&world, &good, &["--decryption-order", "age,age"]), 112);
    let mut cmd = world.command();
    cmd.args(["decrypt", "--input-type", "yaml", "-"]);
    world.runs += 1;
    let output = run_within(cmd, Some(tamper_line(&enc, "  password: ", 0).into_bytes()), DEADLINE);
    assert_eq!(output.status.code(), Some(25), "tampered stdin: {}", stderr_text(&output));
    assert_clean("tampered stdin", &output);

    // The audit log recorded the runs, and none of the canaries.
    let log = std::fs::read_to_string(&world.audit).expect("the audit log was written");
    let lines: Vec<serde_json::Value> =
        log.lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect();
    assert!(lines.len() >= 30, "most runs are logged: {} lines for {} runs", lines.len(), world.runs);
    assert!(lines.iter().any(|l| l["outcome"]["exit_code"] == 25), "failures are logged with their code");
    for canary in canaries() {
        assert!(!log.contains(&canary), "{canary:?} in the audit log");
    }
}
