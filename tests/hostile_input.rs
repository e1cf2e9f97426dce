//! Hostile input never panics, never hangs and never exhausts memory.
//!
//! A file handed to `sops-rs` is untrusted: it may come from a pull request,
//! a compromised CI cache or a fuzzer. Every case here runs the real binary
//! (with a deadline: a hang kills the child and fails the test instead of
//! blocking CI) on one kind of malicious or broken input and checks four
//! things a user and a script can rely on:
//!
//! 1. the exit code is the documented one (sops's, where sops has one);
//! 2. the first line of stderr is an `Error:` line naming the problem;
//! 3. nothing panicked (no `panicked`, no `RUST_BACKTRACE` note) and nothing
//!    was printed on stdout;
//! 4. the input file is byte for byte what it was.
//!
//! The inputs: a YAML alias bomb; nesting 100,000 levels deep in YAML (block
//! and flow), JSON and TOML, both as plaintext to `encrypt` and inside an
//! encrypted file to `decrypt`; inputs over `SOPS_RS_MAX_FILE_SIZE` (a file
//! and stdin) and a bad value of that variable; a single 8 MB value, which
//! must work; invalid UTF-8 and NUL bytes in each format; broken `ENC[...]`
//! envelopes; metadata of the wrong types or with fields missing; absurd
//! Shamir thresholds; a huge age stanza; and broken `.sops-rs.yaml` files.

#[path = "common/child.rs"]
mod child;
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use child::{DEADLINE, run_within};
use common::{Sandbox, recipient_of, stderr_text, stdout_text, vectors};

const DEPTH: usize = 100_000;

fn key(n: u8) -> PathBuf {
    vectors().join(format!("keys/age{n}.txt"))
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `sops-rs ARGS FILE` in the sandbox with key 1 as the identity.
fn command(sandbox: &Sandbox, args: &[&str], file: &Path) -> Command {
    let mut cmd = sandbox.sops_rs();
    cmd.current_dir(sandbox.path()).env("SOPS_AGE_KEY_FILE", key(1)).args(args).arg(file);
    cmd
}

/// Checks 1 to 4 of the module comment for a run that must fail.
#[track_caller]
fn assert_refused(what: &str, output: &Output, code: i32, needle: &str) {
    let stderr = stderr_text(output);
    assert_eq!(output.status.code(), Some(code), "{what}: expected exit {code}\nstderr:\n{stderr}");
    assert_no_panic(what, output);
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("Error: "), "{what}: the first line is the error\nstderr:\n{stderr}");
    assert!(
        first.to_lowercase().contains(&needle.to_lowercase()),
        "{what}: the error line names the problem ({needle:?})\nstderr:\n{stderr}"
    );
    assert!(output.stdout.is_empty(), "{what}: nothing on stdout, got {} bytes", output.stdout.len());
}

#[track_caller]
fn assert_no_panic(what: &str, output: &Output) {
    let stderr = stderr_text(output);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{what}: a panic\nstderr:\n{stderr}"
    );
}

/// Run `sops-rs ARGS FILE` and check it fails as documented and leaves FILE
/// alone.
#[track_caller]
fn refused(sandbox: &Sandbox, args: &[&str], file: &Path, code: i32, needle: &str) -> Output {
    let before = std::fs::read(file).unwrap();
    let output = run_within(command(sandbox, args, file), None, DEADLINE);
    assert_refused(&format!("{args:?} {}", file.display()), &output, code, needle);
    assert!(std::fs::read(file).unwrap() == before, "{args:?}: the input file was changed");
    output
}

/// The plaintext encrypted to key 1 (so it decrypts in `command`).
fn encrypted(sandbox: &Sandbox, name: &str, plain: &str, extra: &[&str]) -> String {
    let file = write(sandbox.path(), name, plain);
    let mut args = vec!["encrypt", "--age"];
    let recipient = recipient_of(&key(1));
    args.push(&recipient);
    args.extend_from_slice(extra);
    let output = run_within(command(sandbox, &args, &file), None, DEADLINE);
    assert_eq!(output.status.code(), Some(0), "encrypt {name}: {}", stderr_text(&output));
    std::fs::remove_file(&file).unwrap();
    stdout_text(&output)
}

fn encrypted_yaml(sandbox: &Sandbox) -> String {
    encrypted(
        sandbox,
        "base.yaml",
        "user: alice\npassword: hunter2\nport: 5432\n",
        &["--cipher", "aes256_gcm"],
    )
}

/// Replace exactly one occurrence of `from`; the tests depend on it being
/// there.
#[track_caller]
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} occurs once in\n{text}");
    text.replacen(from, to, 1)
}

#[track_caller]
fn line_starting(text: &str, prefix: &str) -> String {
    text.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix:?} line")).to_owned()
}

// ----------------------------------------------------------------------------
// Expansion and depth

const ALIAS_BOMB: &str = "\
a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
";

#[test]
fn a_yaml_alias_bomb_is_refused_as_unreadable_input() {
    let sandbox = Sandbox::new();
    // 9^9 (387 million) scalars once expanded.
    let plain = write(sandbox.path(), "bomb.yaml", ALIAS_BOMB);
    refused(&sandbox, &["encrypt", "--age", &recipient_of(&key(1))], &plain, 2, "alias");
    // The same bomb planted in a file that is otherwise validly encrypted.
    let enc = replace_once(&encrypted_yaml(&sandbox), "sops:\n", &format!("{ALIAS_BOMB}sops:\n"));
    let enc = write(sandbox.path(), "bomb.enc.yaml", enc);
    refused(&sandbox, &["decrypt"], &enc, 2, "alias");
}

/// 100,000 levels of nesting, one document per store and style.
fn deep_documents() -> Vec<(&'static str, &'static str, String)> {
    let open_close = |open: &str, close: &str| format!("{}{}", open.repeat(DEPTH), close.repeat(DEPTH));
    vec![
        // Block style without indentation growth: `- - - v` nests a list
        // in a list on one line.
        ("block.yaml", "recursion limit", format!("deep:\n  {}v\n", "- ".repeat(DEPTH))),
        ("flow.yaml", "recursion limit", format!("deep: {}\n", open_close("[", "]"))),
        (
            "flowmap.yaml",
            "recursion limit",
            format!("deep: {}v{}\n", "{a: ".repeat(DEPTH), "}".repeat(DEPTH)),
        ),
        ("deep.json", "nested", format!("{{\"deep\": {}}}", open_close("[", "]"))),
        ("arrays.toml", "nesting too deep", format!("deep = {}\n", open_close("[", "]"))),
        (
            "tables.toml",
            "nesting too deep",
            format!("deep = {}1{}\n", "{a = ".repeat(DEPTH), "}".repeat(DEPTH)),
        ),
    ]
}

#[test]
fn nesting_100000_levels_deep_is_refused_in_every_structured_format() {
    let sandbox = Sandbox::new();
    let recipient = recipient_of(&key(1));
    for (name, needle, text) in deep_documents() {
        let plain = write(sandbox.path(), name, &text);
        refused(&sandbox, &["encrypt", "--age", &recipient], &plain, 2, needle);
    }
}

#[test]
fn nesting_100000_levels_deep_inside_an_encrypted_file_is_refused() {
    let sandbox = Sandbox::new();
    let yaml = encrypted_yaml(&sandbox);
    let json = encrypted(&sandbox, "base.json", "{\"user\": \"alice\"}\n", &[]);
    let toml = encrypted(&sandbox, "base.toml", "user = \"alice\"\n", &[]);
    for (name, needle, text) in deep_documents() {
        // The deep value goes first, where each format allows a new key.
        let planted = if name.ends_with(".yaml") {
            format!("{text}{yaml}")
        } else if name.ends_with(".json") {
            let body = text.trim_start_matches('{').trim_end_matches('}');
            assert!(json.starts_with('{'));
            format!("{{{body}, {}", &json[1..])
        } else {
            format!("{text}{toml}")
        };
        let enc = write(sandbox.path(), &format!("enc-{name}"), planted);
        refused(&sandbox, &["decrypt"], &enc, 2, needle);
    }
}

// ----------------------------------------------------------------------------
// Size

#[test]
fn inputs_over_the_size_limit_are_refused_before_parsing() {
    let sandbox = Sandbox::new();
    let recipient = recipient_of(&key(1));
    let big = format!("key: {}\n", "x".repeat(2000));
    let plain = write(sandbox.path(), "big.yaml", &big);
    let mut cmd = command(&sandbox, &["encrypt", "--age", &recipient], &plain);
    cmd.env("SOPS_RS_MAX_FILE_SIZE", "1K");
    let output = run_within(cmd, None, DEADLINE);
    assert_refused("file over 1K", &output, 2, "larger than the limit of 1024 bytes");
    assert!(stderr_text(&output).contains("hint: set SOPS_RS_MAX_FILE_SIZE="), "the hint names the variable");
    assert_eq!(std::fs::read_to_string(&plain).unwrap(), big);

    // The same file on stdin.
    let mut cmd = sandbox.sops_rs();
    cmd.env("SOPS_RS_MAX_FILE_SIZE", "1K").args([
        "encrypt",
        "--age",
        &recipient,
        "--filename-override",
        "x.yaml",
    ]);
    let output = run_within(cmd, Some(big.clone().into_bytes()), DEADLINE);
    assert_refused("stdin over 1K", &output, 2, "<stdin>");
    assert!(stderr_text(&output).contains("larger than the limit"));

    // An encrypted file to decrypt.
    let enc = write(sandbox.path(), "big.enc.yaml", encrypted(&sandbox, "b.yaml", &big, &[]));
    let mut cmd = command(&sandbox, &["decrypt"], &enc);
    cmd.env("SOPS_RS_MAX_FILE_SIZE", "1K");
    assert_refused("decrypt over 1K", &run_within(cmd, None, DEADLINE), 2, "larger than the limit");

    // A limit that is not a size is a usage error naming the variable, not
    // a silent fallback to the default.
    for bad in ["banana", "-1", "1.5M", "1P", "99999999999G"] {
        let mut cmd = command(&sandbox, &["encrypt", "--age", &recipient], &plain);
        cmd.env("SOPS_RS_MAX_FILE_SIZE", bad);
        assert_refused(
            &format!("limit {bad:?}"),
            &run_within(cmd, None, DEADLINE),
            1,
            "SOPS_RS_MAX_FILE_SIZE",
        );
    }
    assert_eq!(std::fs::read_to_string(&plain).unwrap(), big);
}

#[test]
fn a_single_8_mb_value_round_trips_within_a_time_budget() {
    let sandbox = Sandbox::new();
    let plain_text = format!("blob: {}\nafter: 1\n", "x".repeat(8 << 20));
    let plain = write(sandbox.path(), "long.yaml", &plain_text);
    // A few seconds for an optimised build; the debug build runs AEAD and
    // SHA-512 unoptimised at about a second per MB each way (measured: 8 s
    // per direction), so it gets the generous deadline instead.
    let budget = if cfg!(debug_assertions) { DEADLINE } else { Duration::from_secs(5) };
    let started = Instant::now();
    let output = run_within(
        command(&sandbox, &["encrypt", "--age", &recipient_of(&key(1)), "--output", "long.enc.yaml"], &plain),
        None,
        budget,
    );
    assert_eq!(output.status.code(), Some(0), "encrypt: {}", stderr_text(&output));
    let enc = sandbox.path().join("long.enc.yaml");
    let output = run_within(command(&sandbox, &["decrypt"], &enc), None, budget);
    assert_eq!(output.status.code(), Some(0), "decrypt: {}", stderr_text(&output));
    assert!(output.stdout == plain_text.as_bytes(), "the 8 MB value comes back unchanged");
    assert!(started.elapsed() < budget * 2, "both directions took {:?}", started.elapsed());
}

// ----------------------------------------------------------------------------
// Bytes that are not text

#[test]
fn invalid_utf8_is_refused_in_every_text_format() {
    let sandbox = Sandbox::new();
    let recipient = recipient_of(&key(1));
    let cases: [(&str, &[u8], &str); 5] = [
        ("bad.yaml", b"key: v\xffx\n", "invalid UTF-8"),
        ("bad.json", b"{\"key\": \"v\xffx\"}", "invalid UTF-8"),
        ("bad.env", b"KEY=v\xffx\n", "UTF-8"),
        ("bad.ini", b"[s]\nkey = v\xffx\n", "UTF-8"),
        ("bad.toml", b"key = \"v\xffx\"\n", "invalid UTF-8"),
    ];
    for (name, bytes, needle) in cases {
        let plain = write(sandbox.path(), name, bytes);
        refused(&sandbox, &["encrypt", "--age", &recipient], &plain, 2, needle);
    }
    // Inside an encrypted file: a stray byte in a plain comment.
    let enc = format!("# caf\u{e9}\n{}", encrypted_yaml(&sandbox)).replace('\u{e9}', "\u{fffd}");
    let mut bytes = enc.into_bytes();
    let at = bytes.windows(3).position(|w| w == "\u{fffd}".as_bytes()).unwrap();
    bytes.splice(at..at + 3, [0xff]);
    let enc = write(sandbox.path(), "bad.enc.yaml", bytes);
    refused(&sandbox, &["decrypt"], &enc, 2, "invalid UTF-8");
}

#[test]
fn nul_bytes_are_refused_where_the_format_forbids_them_and_kept_where_it_allows() {
    let sandbox = Sandbox::new();
    let recipient = recipient_of(&key(1));
    // YAML, JSON and TOML do not allow a raw NUL in a value.
    let refusals: [(&str, &[u8], &str); 3] = [
        ("nul.yaml", b"key: v\0x\n", "unexpected character"),
        ("nul.json", b"{\"key\": \"v\0x\"}", "control character"),
        ("nul.toml", b"key = \"v\0x\"\n", "invalid basic string"),
    ];
    for (name, bytes, needle) in refusals {
        let plain = write(sandbox.path(), name, bytes);
        refused(&sandbox, &["encrypt", "--age", &recipient], &plain, 2, needle);
    }
    // dotenv and INI values are any bytes to the end of the line (sops's
    // stores are the same), and binary is any bytes at all: the NUL is data,
    // encrypted and given back exactly.
    let kept: [(&str, &[u8]); 3] =
        [("nul.env", b"KEY=v\0x\n"), ("nul.ini", b"[s]\nkey = v\0x\n"), ("nul.bin", b"\0\xff\xfe\0")];
    for (name, bytes) in kept {
        let plain = write(sandbox.path(), name, bytes);
        let out_name = format!("enc-{name}");
        let output = run_within(
            command(&sandbox, &["encrypt", "--age", &recipient, "--output", &out_name], &plain),
            None,
            DEADLINE,
        );
        assert_eq!(output.status.code(), Some(0), "{name}: {}", stderr_text(&output));
        let enc = sandbox.path().join(&out_name);
        assert!(!std::fs::read(&enc).unwrap().contains(&0), "{name}: the NUL is inside the ciphertext");
        let output = run_within(command(&sandbox, &["decrypt"], &enc), None, DEADLINE);
        assert_eq!(output.status.code(), Some(0), "{name}: {}", stderr_text(&output));
        assert_eq!(output.stdout, bytes, "{name} round-trips");
    }
}

// ----------------------------------------------------------------------------
// Envelopes

/// The fields of the `password` envelope of `encrypted_yaml`.
struct Fields {
    whole: String,
    cipher: String,
    data: String,
    iv: String,
    tag: String,
}

fn password_envelope(enc: &str) -> Fields {
    let whole = line_starting(enc, "password: ").trim_start_matches("password: ").to_owned();
    let inner = whole.strip_prefix("ENC[").unwrap().strip_suffix(']').unwrap();
    let mut parts = inner.split(',');
    let cipher = parts.next().unwrap().to_owned();
    let mut field = |name: &str| parts.next().unwrap().strip_prefix(name).unwrap().to_owned();
    let (data, iv, tag) = (field("data:"), field("iv:"), field("tag:"));
    Fields { whole, cipher, data, iv, tag }
}

#[test]
fn malformed_envelopes_are_decryption_errors_naming_the_value() {
    let sandbox = Sandbox::new();
    let enc = encrypted_yaml(&sandbox);
    let Fields { whole, cipher: c, data: d, iv, tag } = password_envelope(&enc);
    assert_eq!(c, "AES256_GCM");
    let half = &whole[..whole.len() / 2];
    let cases = [
        (
            "bad base64 data",
            format!("ENC[{c},data:!!!notbase64,iv:{iv},tag:{tag},type:str]"),
            "data field is not valid base64",
        ),
        (
            "bad base64 iv",
            format!("ENC[{c},data:{d},iv:@@@@,tag:{tag},type:str]"),
            "iv field is not valid base64",
        ),
        (
            "bad base64 tag",
            format!("ENC[{c},data:{d},iv:{iv},tag:#,type:str]"),
            "tag field is not valid base64",
        ),
        ("3-byte IV", format!("ENC[{c},data:{d},iv:AAAA,tag:{tag},type:str]"), "IV is 3 bytes"),
        (
            "3-byte tag",
            format!("ENC[{c},data:{d},iv:{iv},tag:AAAA,type:str]"),
            "tag is 3 bytes; it must be 16",
        ),
        (
            "24-byte tag",
            format!("ENC[{c},data:{d},iv:{iv},tag:{},type:str]", "A".repeat(32)),
            "tag is 24 bytes; it must be 16",
        ),
        (
            "unknown cipher",
            format!("ENC[ROT13,data:{d},iv:{iv},tag:{tag},type:str]"),
            "unknown cipher \"ROT13\"",
        ),
        (
            "unknown type",
            format!("ENC[{c},data:{d},iv:{iv},tag:{tag},type:pointer]"),
            "unknown value type \"pointer\"",
        ),
        (
            "no tag",
            format!("ENC[{c},data:{d},iv:{iv},type:str]"),
            "does not match the ENC[...] envelope format",
        ),
        (
            "no iv",
            format!("ENC[{c},data:{d},tag:{tag},type:str]"),
            "does not match the ENC[...] envelope format",
        ),
        (
            "no type",
            format!("ENC[{c},data:{d},iv:{iv},tag:{tag}]"),
            "does not match the ENC[...] envelope format",
        ),
        ("truncated", format!("'{half}'"), "does not match the ENC[...] envelope format"),
        (
            "no closing bracket",
            format!("'{}'", &whole[..whole.len() - 1]),
            "does not match the ENC[...] envelope format",
        ),
        ("empty", "'ENC[]'".to_owned(), "does not match the ENC[...] envelope format"),
    ];
    for (what, envelope, reason) in cases {
        let file = write(sandbox.path(), "env.yaml", replace_once(&enc, &whole, &envelope));
        let output = refused(&sandbox, &["decrypt"], &file, 25, "value at [\"password\"]");
        assert!(stderr_text(&output).contains(reason), "{what}: reason {reason:?}\n{}", stderr_text(&output));
    }
    // XChaCha20-Poly1305 envelopes need a 24-byte nonce.
    let enc = encrypted(&sandbox, "x.yaml", "password: hunter2\n", &["--cipher", "xchacha20_poly1305"]);
    let Fields { whole, tag, data, .. } = password_envelope(&enc);
    let short = format!("ENC[XCHACHA20_POLY1305,data:{data},iv:AAAAAAAAAAAAAAAA,tag:{tag},type:str]");
    let file = write(sandbox.path(), "x.enc.yaml", replace_once(&enc, &whole, &short));
    let output = refused(&sandbox, &["decrypt"], &file, 25, "value at [\"password\"]");
    assert!(stderr_text(&output).contains("IV is 12 bytes"), "{}", stderr_text(&output));
}

// ----------------------------------------------------------------------------
// Metadata

#[test]
fn metadata_of_the_wrong_shape_is_refused_with_the_field_named() {
    let sandbox = Sandbox::new();
    let enc = encrypted_yaml(&sandbox);
    let without = |prefix: &str| {
        let kept: Vec<&str> = enc.lines().filter(|l| !l.starts_with(prefix)).collect();
        assert!(kept.len() < enc.lines().count(), "{prefix:?} is in the file");
        kept.join("\n") + "\n"
    };
    let lastmodified = line_starting(&enc, "    lastmodified: ");
    let mac = line_starting(&enc, "    mac: ");
    let age_start = enc.find("    age:\n").unwrap();
    let age_end = enc.find("    lastmodified:").unwrap();
    let with_age = |replacement: &str| format!("{}{replacement}{}", &enc[..age_start], &enc[age_end..]);
    let sops_at = enc.find("sops:\n").unwrap();
    let add = |field: &str| {
        replace_once(&enc, "    unencrypted_suffix:", &format!("    {field}\n    unencrypted_suffix:"))
    };
    let cases: Vec<(&str, String, i32, &str)> = vec![
        // sops: "MAC mismatch. File has no MAC" (exit 51).
        ("mac missing", without("    mac:"), 51, "File has no MAC"),
        ("mac empty", replace_once(&enc, &mac, "    mac: \"\""), 51, "File has no MAC"),
        ("mac a list", replace_once(&enc, &mac, "    mac: [1, 2]"), 1, "mac must be a string"),
        (
            "lastmodified not a date",
            replace_once(&enc, &lastmodified, "    lastmodified: yesterday"),
            1,
            "\"yesterday\" is not an RFC 3339 time",
        ),
        (
            "lastmodified a number",
            replace_once(&enc, &lastmodified, "    lastmodified: 12"),
            1,
            "lastmodified must be a string",
        ),
        ("lastmodified missing", without("    lastmodified:"), 1, "lastmodified is missing"),
        ("age a string", with_age("    age: age1xyz\n"), 1, "age is not a list"),
        ("age a mapping", with_age("    age: {recipient: x}\n"), 1, "age is not a list"),
        (
            "age entry a string",
            with_age("    age:\n        - hello\n"),
            1,
            "an entry of age is not a mapping",
        ),
        ("no master keys", with_age(""), 1, "No keys found in file"),
        ("version missing", without("    version:"), 1, "version is missing"),
        (
            "version a number",
            replace_once(&enc, "version: 3.11.0", "version: 3"),
            1,
            "version must be a string",
        ),
        (
            "version not semver",
            replace_once(&enc, "version: 3.11.0", "version: banana"),
            1,
            "version \"banana\"",
        ),
        ("key_groups a string", with_age("    key_groups: weird\n"), 1, "key_groups is not a list"),
        ("key_groups empty", with_age("    key_groups: []\n"), 1, "No keys found in file"),
        ("sops a string", format!("{}sops: hello\n", &enc[..sops_at]), 1, "the sops entry is not a mapping"),
        ("sops a list", format!("{}sops: [1]\n", &enc[..sops_at]), 1, "the sops entry is not a mapping"),
        ("sops empty", format!("{}sops: {{}}\n", &enc[..sops_at]), 1, "is missing"),
        (
            "suffix a number",
            replace_once(&enc, "unencrypted_suffix: _unencrypted", "unencrypted_suffix: 5"),
            1,
            "unencrypted_suffix must be a string",
        ),
        ("two selection rules", add("encrypted_regex: x"), 1, "cannot use both"),
        (
            "encrypted_regex invalid",
            replace_once(&enc, "unencrypted_suffix: _unencrypted", "encrypted_regex: '(['"),
            1,
            "invalid encrypted_regex \"([\": unclosed character class",
        ),
    ];
    for (what, text, code, needle) in cases {
        let file = write(sandbox.path(), "meta.yaml", text);
        let output = refused(&sandbox, &["decrypt"], &file, code, needle);
        // One line, except for the hint that follows MAC errors: the regex
        // crate's multi-line caret drawing is folded (see walk::regex_problem).
        let lines = stderr_text(&output).lines().filter(|l| !l.starts_with("hint: ")).count();
        assert_eq!(lines, 1, "{what}: one line\n{}", stderr_text(&output));
    }
    // With the flat `age:` list present, `key_groups` is not read at all
    // (flat lists win, spec 5.1, as in sops), so a nonsense value there is
    // inert.
    let file = write(sandbox.path(), "meta.yaml", add("key_groups: weird"));
    let output = run_within(command(&sandbox, &["decrypt"], &file), None, DEADLINE);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_text(&output));
    assert_eq!(stdout_text(&output), "user: alice\npassword: hunter2\nport: 5432\n");
}

#[test]
fn absurd_shamir_thresholds_fail_cleanly() {
    let sandbox = Sandbox::new();
    let source = std::fs::read_to_string(vectors().join("cases/shamir_2of3/enc.yaml")).unwrap();
    let keys: String = (1..=3).map(|n| std::fs::read_to_string(key(n)).unwrap() + "\n").collect();
    let all_keys = write(sandbox.path(), "all-keys.txt", keys);
    let plain = std::fs::read_to_string(vectors().join("cases/shamir_2of3/dec.yaml"))
        .or_else(|_| std::fs::read_to_string(vectors().join("cases/shamir_2of3/plain.yaml")))
        .unwrap();
    let run = |threshold: &str, key_file: &Path| {
        let text = replace_once(&source, "shamir_threshold: 2", &format!("shamir_threshold: {threshold}"));
        let file = write(sandbox.path(), "shamir.yaml", text);
        let mut cmd = command(&sandbox, &["decrypt"], &file);
        cmd.env("SOPS_AGE_KEY_FILE", key_file);
        let before = std::fs::read(&file).unwrap();
        let output = run_within(cmd, None, DEADLINE);
        assert_eq!(std::fs::read(&file).unwrap(), before);
        output
    };
    // 0 reads as "every group" (the field is omitted when unset), so with
    // all three keys it opens.
    let output = run("0", &all_keys);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_text(&output));
    assert_eq!(stdout_text(&output), plain);
    // More groups required than exist: exit 128 and the report says why.
    for threshold in ["4", "255"] {
        let output = run(threshold, &all_keys);
        assert_refused(threshold, &output, 128, "Failed to get the data key");
        assert!(
            stderr_text(&output).contains(&format!("Shamir threshold of {threshold}, but only 3 group(s)")),
            "{}",
            stderr_text(&output)
        );
    }
    // Lowered to 1: one share is not the secret; the recombination is
    // refused, not turned into a wrong data key.
    assert_refused("threshold 1, one key", &run("1", &key(1)), 128, "Failed to get the data key");
    // Not a non-negative integer: bad metadata.
    for threshold in ["-1", "two", "1.5", "99999999999999999999"] {
        assert_refused(
            threshold,
            &run(threshold, &all_keys),
            1,
            "shamir_threshold must be a non-negative integer",
        );
    }
}

#[test]
fn a_huge_age_stanza_fails_fast_as_a_damaged_key() {
    let sandbox = Sandbox::new();
    let enc = encrypted_yaml(&sandbox);
    let start = enc.find("            -----BEGIN AGE ENCRYPTED FILE-----").unwrap();
    let end_marker = "            -----END AGE ENCRYPTED FILE-----\n";
    let end = enc.find(end_marker).unwrap() + end_marker.len();
    // 600 KB of base64 in the armour: far beyond any wrapped data key.
    let line = format!("            {}\n", "A".repeat(64));
    let armour = format!(
        "            -----BEGIN AGE ENCRYPTED FILE-----\n{}{end_marker}",
        line.repeat(600 * 1024 / 64)
    );
    let file = write(sandbox.path(), "huge.yaml", format!("{}{armour}{}", &enc[..start], &enc[end..]));
    let started = Instant::now();
    let output = refused(&sandbox, &["decrypt"], &file, 128, "Failed to get the data key");
    assert!(stderr_text(&output).contains("is damaged: its enc is"), "{}", stderr_text(&output));
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
}

// ----------------------------------------------------------------------------
// Configuration

#[test]
fn a_broken_config_is_a_one_line_error_naming_the_file() {
    let sandbox = Sandbox::new();
    let recipient = recipient_of(&key(1));
    let cases = [
        (
            "invalid path_regex",
            format!("creation_rules:\n  - path_regex: '(['\n    age: {recipient}\n"),
            "path_regex \"([\" is invalid: unclosed character class",
        ),
        (
            "invalid encrypted_regex",
            format!("creation_rules:\n  - path_regex: .*\n    encrypted_regex: '(['\n    age: {recipient}\n"),
            "invalid encrypted_regex \"([\": unclosed character class",
        ),
        (
            "regex too big",
            format!("creation_rules:\n  - path_regex: 'a{{1000}}{{1000}}{{1000}}'\n    age: {recipient}\n"),
            "exceeds size limit",
        ),
        ("not YAML", "this is: not: yaml: [\n".to_owned(), "Error unmarshalling input yaml"),
        ("a list", "[1, 2, 3]\n".to_owned(), "a sequence, not a mapping"),
        ("rules not a list", "creation_rules: 5\n".to_owned(), "creation_rules must be a list"),
        ("not UTF-8", "\u{fffd}".to_owned(), "invalid UTF-8"),
    ];
    let plain = write(sandbox.path(), "s.yaml", "a: b\n");
    for (what, config, needle) in cases {
        let config = if what == "not UTF-8" { vec![0xff, 0xfe, 0] } else { config.into_bytes() };
        write(sandbox.path(), ".sops-rs.yaml", config);
        let output = refused(&sandbox, &["encrypt"], &plain, 1, needle);
        let stderr = stderr_text(&output);
        assert!(stderr.starts_with("Error: error loading config file "), "{what}: names the file\n{stderr}");
        assert!(stderr.contains(".sops-rs.yaml"), "{what}: names the file\n{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{what}: one line\n{stderr}");
    }
}
