//! The spec's fixtures (`fixtures/spec`): files real sops wrote and files an
//! independent implementation crafted with fixed keys and IVs must decrypt
//! to sops's recorded output; and the plaintexts, encrypted by sops-rs with
//! the options recorded in the fixture README, must decrypt with the real
//! sops to that same output.

mod common;

use std::path::PathBuf;

use common::{Sandbox, assert_exit, recipient_of, stdout_text};

fn spec() -> PathBuf {
    common::root().join("fixtures/spec")
}

fn key(n: u8) -> PathBuf {
    spec().join(format!("keys/age-key{n}.txt"))
}

/// Fixtures of every text format: (encrypted file, expected output, key files).
fn decrypt_cases() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    vec![
        ("sops/basic.yaml", "expected/sops-basic.yaml", vec![1]),
        ("sops/comment-regex.yaml", "expected/sops-comment-regex.yaml", vec![1]),
        ("sops/comments.yaml", "expected/sops-comments.yaml", vec![1]),
        ("sops/maconly.yaml", "expected/sops-maconly.yaml", vec![1]),
        ("sops/multidoc.yaml", "expected/sops-multidoc.yaml", vec![1]),
        ("sops/yaml-typing.yaml", "expected/sops-yaml-typing.yaml", vec![1]),
        ("sops/shamir-2of3.yaml", "expected/sops-shamir-2of3.yaml", vec![1, 3]),
        ("crafted/exA.yaml", "expected/crafted-exA.yaml", vec![1]),
        ("crafted/exB.json", "expected/crafted-exB.json", vec![1]),
        ("crafted/exD.yaml", "expected/crafted-exD.yaml", vec![1]),
        ("sops/numbers.json", "expected/sops-numbers.json", vec![1]),
        ("sops/dotenv.env", "expected/sops-dotenv.env", vec![1]),
        ("crafted/exC.env", "expected/crafted-exC.env", vec![1]),
        ("sops/sections.ini", "expected/sops-sections.ini", vec![1]),
        ("crafted/exE.ini", "expected/crafted-exE.ini", vec![1]),
    ]
}

#[test]
fn decrypts_the_binary_store_fixture_byte_for_byte() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .sops_rs()
        .env("SOPS_AGE_KEY_FILE", key(1))
        .args(["decrypt", "--input-type", "json", "--output-type", "binary"])
        .arg(spec().join("sops/blob.bin.json"))
        .output()
        .unwrap();
    assert_exit(&output, 0, "blob.bin.json");
    assert_eq!(output.stdout, std::fs::read(spec().join("expected/blob.bin")).unwrap());
}

fn key_file(sandbox: &Sandbox, keys: &[u8]) -> PathBuf {
    let text: String = keys.iter().map(|n| std::fs::read_to_string(key(*n)).unwrap() + "\n").collect();
    let path = sandbox.path().join("keys.txt");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn decrypts_sops_and_crafted_fixtures_to_sops_output() {
    for (enc, expected, keys) in decrypt_cases() {
        let sandbox = Sandbox::new();
        let output = sandbox
            .sops_rs()
            .env("SOPS_AGE_KEY_FILE", key_file(&sandbox, &keys))
            .arg("decrypt")
            .arg(spec().join(enc))
            .output()
            .unwrap();
        assert_exit(&output, 0, enc);
        let expected_text = std::fs::read_to_string(spec().join(expected)).unwrap();
        assert_eq!(stdout_text(&output), expected_text, "{enc}");
    }
}

/// Plaintexts and the options sops was given for them (fixtures/spec/README.md).
fn encrypt_cases() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    vec![
        ("plain/basic.yaml", "expected/sops-basic.yaml", vec!["encrypt"]),
        ("plain/comments.yaml", "expected/sops-comments.yaml", vec!["encrypt"]),
        ("plain/multidoc.yaml", "expected/sops-multidoc.yaml", vec!["encrypt"]),
        ("plain/yaml-typing.yaml", "expected/sops-yaml-typing.yaml", vec!["encrypt"]),
        ("plain/maconly.yaml", "expected/sops-maconly.yaml", vec!["-e", "--mac-only-encrypted"]),
        (
            "plain/comment-regex.yaml",
            "expected/sops-comment-regex.yaml",
            vec!["-e", "--encrypted-comment-regex", "sops:enc"],
        ),
        ("plain/numbers.json", "expected/sops-numbers.json", vec!["encrypt"]),
        ("plain/dotenv.env", "expected/sops-dotenv.env", vec!["encrypt"]),
        ("plain/sections.ini", "expected/sops-sections.ini", vec!["encrypt"]),
    ]
}

#[test]
fn sops_decrypts_our_encryption_of_the_plaintexts() {
    let Some(reference) = common::reference_sops() else { return };
    for (plain, expected, args) in encrypt_cases() {
        let sandbox = Sandbox::new();
        let target = sandbox.path().join(plain.rsplit('/').next().unwrap());
        std::fs::copy(spec().join(plain), &target).unwrap();
        let output = sandbox
            .sops_rs()
            .env("SOPS_RS_CIPHER", "aes256_gcm")
            .args(&args)
            .args(["--age", &recipient_of(&key(1))])
            .arg(&target)
            .output()
            .unwrap();
        assert_exit(&output, 0, plain);
        let ours = stdout_text(&output);
        let enc = sandbox.path().join(format!("enc-{}", target.file_name().unwrap().to_string_lossy()));
        std::fs::write(&enc, &ours).unwrap();
        let output = sandbox
            .command(&reference)
            .env("SOPS_AGE_KEY_FILE", key(1))
            .arg("decrypt")
            .arg(&enc)
            .output()
            .unwrap();
        assert_exit(&output, 0, &format!("sops decrypting our {plain}"));
        let expected_text = std::fs::read_to_string(spec().join(expected)).unwrap();
        assert_eq!(stdout_text(&output), expected_text, "{plain}; our file was:\n{ours}");
        // And we give the plaintext back exactly.
        let output =
            sandbox.sops_rs().env("SOPS_AGE_KEY_FILE", key(1)).arg("decrypt").arg(&enc).output().unwrap();
        assert_exit(&output, 0, plain);
        // An alias whose value is encrypted is replaced by its expansion
        // (docs/compatibility.md): the additional data binds values to paths.
        let plain_text =
            std::fs::read_to_string(spec().join(plain)).unwrap().replace("alias: *anc", "alias: {k: v}");
        assert_eq!(stdout_text(&output), plain_text, "{plain}");
    }
}
