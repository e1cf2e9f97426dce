//! The one pass against the general path on files the real sops 3.11
//! wrote (`fixtures/sops-3.11`), through key recovery and the MAC check:
//! the same plaintext or the same error, and files sops writes without
//! comments are taken by the one pass.

use std::path::Path;

use super::{Streamed, decrypt_yaml};
use crate::env::Environment;
use crate::keys::KeyServices;
use crate::keys::group::DecryptionOrder;
use crate::ops::{DecryptRequest, Purpose, open_knowing};
use crate::store::{self, Format, Source, StoreOptions};

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sops-3.11")
}

fn services_with(keys: &[&str]) -> KeyServices {
    let identities: String =
        keys.iter().map(|k| std::fs::read_to_string(fixtures().join("keys").join(k)).unwrap()).collect();
    // The files with KMS keys must fail without the network: no instance
    // metadata probe (whose answer carried a date and made the two paths'
    // errors differ by a second), and no KMS endpoint but a closed local port.
    let env = Environment::empty()
        .with("SOPS_AGE_KEY", &identities)
        .with("AWS_EC2_METADATA_DISABLED", "true")
        .with("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:9");
    KeyServices::new(env)
}

fn request() -> DecryptRequest {
    DecryptRequest {
        input_format: Format::Yaml,
        output_format: Format::Yaml,
        ignore_mac: false,
        extract: None,
        decryption_order: DecryptionOrder::default(),
        store_options: StoreOptions::default(),
    }
}

/// What the general path gives: the output, or the error's message.
fn general(bytes: &[u8], services: &KeyServices) -> Result<Vec<u8>, String> {
    let order = DecryptionOrder::default();
    let opened =
        open_knowing(Source::from(bytes), Format::Yaml, false, &order, services, Purpose::Read, None)
            .map_err(|e| e.to_string())?;
    let options = StoreOptions::default();
    store::emit(Format::Yaml, &opened.parsed.tree, Some(&opened.parsed.layout), None, &options)
        .map_err(|e| e.to_string())
}

/// The encrypted YAML files of the vectors.
fn encrypted_yaml_cases() -> Vec<(String, Vec<u8>)> {
    let mut cases = Vec::new();
    for entry in std::fs::read_dir(fixtures().join("cases")).unwrap() {
        let path = entry.unwrap().path().join("enc.yaml");
        if let Ok(bytes) = std::fs::read(&path) {
            cases.push((path.display().to_string(), bytes));
        }
    }
    cases.sort();
    cases
}

#[test]
fn agrees_with_the_general_path_on_what_sops_wrote() {
    let services = services_with(&["age1.txt", "age2.txt", "age3.txt"]);
    let mut taken = 0;
    for (name, bytes) in encrypted_yaml_cases() {
        let expected = general(&bytes, &services);
        match decrypt_yaml(&Source::from(&bytes), &request(), &services) {
            Streamed::Done(result) => {
                taken += 1;
                let got = result.map(|d| d.output.to_vec()).map_err(|e| e.to_string());
                assert_eq!(
                    got.as_ref().map(|o| String::from_utf8_lossy(o).into_owned()),
                    expected.as_ref().map(|o| String::from_utf8_lossy(o).into_owned()),
                    "{name}"
                );
            }
            Streamed::Declined(known) => {
                // A key that could not be recovered is the general path's
                // error too.
                if let Some(Err(error)) = known.map(|k| k.key) {
                    assert_eq!(Err(error.to_string()), expected.map(|_| ()), "{name}");
                }
            }
        }
    }
    // The one pass takes sops's files, comments and tampered ones included
    // (their checks fail the same way).
    // 18 of the 25: the others are the KMS and Shamir files (no key here),
    // and the files outside the block subset (several documents).
    assert!(taken >= 18, "the one pass took only {taken} of sops's YAML files");
}

#[test]
fn a_declined_file_opens_with_the_key_already_recovered() {
    let clean = std::fs::read_to_string(fixtures().join("cases/yaml_basic/enc.yaml")).unwrap();
    // An anchor changes no value (the MAC still holds) but is outside the
    // one pass: it recovers the key, declines, and hands the key over.
    let anchored = clean.replacen("    database:\n", "    database: &db\n", 1);
    assert_ne!(anchored, clean);
    let services = services_with(&["age1.txt"]);
    let Streamed::Declined(Some(known)) = decrypt_yaml(&Source::from(&anchored), &request(), &services)
    else {
        panic!("the one pass took an anchored file, or recovered no key");
    };
    assert!(known.key.is_ok());
    for text in [anchored, clean] {
        let expected = general(text.as_bytes(), &services).expect("opens");
        let got = crate::ops::decrypt(text.as_bytes(), request(), &services).expect("opens");
        assert_eq!(*got.output, expected);
    }
}

#[test]
fn a_missing_key_is_reported_as_the_general_path_reports_it() {
    let services = services_with(&["age3.txt"]);
    let clean = std::fs::read_to_string(fixtures().join("cases/yaml_basic/enc.yaml")).unwrap();
    let anchored = clean.replacen("    database:\n", "    database: &db\n", 1);
    for (case, text) in [("taken", clean), ("declined", anchored)] {
        let bytes = text.into_bytes();
        let expected = general(&bytes, &services).expect_err("age3 does not open it");
        let got = crate::ops::decrypt(bytes.as_slice(), request(), &services).err().map(|e| e.to_string());
        assert_eq!(got.as_deref(), Some(expected.as_str()), "{case}");
    }
}
