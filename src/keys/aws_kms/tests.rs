//! AWS KMS against the fixed-key moto server (see `moto.rs`): round trips,
//! the interop vectors' key entries, and every failure kind. Every test
//! environment sets `AWS_EC2_METADATA_DISABLED=true` and points the
//! endpoints at 127.0.0.1, so nothing leaves the machine.

use std::time::{Duration, Instant};

use super::moto::{self, KEY_1, KEY_2, MISSING_KEY};
use super::*;
use crate::keys::MasterKey;

fn sandbox() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Credentials and endpoint for moto, with an empty HOME.
fn moto_env(endpoint: &str, home: &std::path::Path) -> Environment {
    Environment::empty()
        .with("HOME", home.display().to_string())
        .with("AWS_ACCESS_KEY_ID", "test")
        .with("AWS_SECRET_ACCESS_KEY", "test")
        .with("AWS_EC2_METADATA_DISABLED", "true")
        .with("AWS_ENDPOINT_URL_KMS", endpoint)
}

fn kms(arn: &str) -> KmsKey {
    KmsKey { arn: arn.into(), ..KmsKey::default() }
}

const SECRET: [u8; 32] = *b"0123456789abcdef0123456789abcdef";

#[test]
fn regions_come_from_the_arn() {
    assert_eq!(region_of_arn(KEY_1).unwrap(), "us-east-1");
    assert_eq!(region_of_arn("arn:aws-cn:kms:cn-north-1:123:alias/x").unwrap(), "cn-north-1");
    assert_eq!(region_of_arn("arn:aws:iam::123:role/x").unwrap_err().kind, FailureKind::InvalidKey);
    assert_eq!(region_of_arn("arn:aws:kms:us-east-1:abc:key/x").unwrap_err().kind, FailureKind::InvalidKey);
}

#[test]
fn session_names_follow_sops() {
    assert_eq!(session_name("build-01.example.com"), "sops@build-01.example.com");
    assert_eq!(session_name("we ird/host*name"), "sops@weirdhostname");
    let long = "h".repeat(100);
    assert_eq!(session_name(&long).len(), 64);
}

#[test]
fn endpoints_named_in_messages() {
    let env = Environment::empty();
    assert_eq!(kms_endpoint(&env, "eu-west-1"), "https://kms.eu-west-1.amazonaws.com");
    assert_eq!(kms_endpoint(&env, "cn-north-1"), "https://kms.cn-north-1.amazonaws.com.cn");
    let env = env.with("AWS_ENDPOINT_URL", "http://127.0.0.1:1/");
    assert_eq!(kms_endpoint(&env, "eu-west-1"), "http://127.0.0.1:1");
    let env = env.with("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:2");
    assert_eq!(kms_endpoint(&env, "eu-west-1"), "http://127.0.0.1:2");
    // An override's user info and path never reach a message.
    let env = env.with("AWS_ENDPOINT_URL_KMS", "http://proxyuser:s3cret-canary@127.0.0.1:3/kms?token=x");
    assert_eq!(kms_endpoint(&env, "eu-west-1"), "http://127.0.0.1:3");
}

#[test]
fn round_trip_with_context() {
    let Some(endpoint) = moto::endpoint() else { return };
    let home = sandbox();
    let services = KeyServices::new(moto_env(&endpoint, home.path()));
    let mut key = MasterKey::Kms(KmsKey {
        context: vec![("app".into(), "tests".into()), ("env".into(), "ci".into())],
        ..kms(KEY_1)
    });
    key.wrap(&SECRET, &services).expect("wrap");
    let MasterKey::Kms(wrapped) = &key else { unreachable!() };
    assert!(
        crate::timestamp::Timestamp::parse_rfc3339(&wrapped.created_at).is_some(),
        "{}",
        wrapped.created_at
    );
    assert!(wrapped.created_at.ends_with('Z'));
    // moto's blob starts with the key id; sops stores it as padded base64.
    let blob = STANDARD.decode(&wrapped.enc).unwrap();
    assert!(blob.starts_with(b"11111111-1111-4111-8111-111111111111"));
    assert_eq!(key.unwrap(&services).expect("unwrap").as_slice(), &SECRET);

    // The context is part of the ciphertext: another one is refused.
    let mut tampered = wrapped.clone();
    tampered.context[1].1 = "prod".into();
    let failure = tampered.unwrap(&services).unwrap_err();
    assert_eq!(failure.kind, FailureKind::Corrupt, "{failure:?}");
    assert!(failure.message.contains("InvalidCiphertextException"), "{}", failure.message);
    assert!(failure.message.contains("encryption context"), "{}", failure.message);
    // The runtime and client were created once, on first use.
    assert_eq!(lock(&services.aws().clients).len(), 1);
}

#[test]
fn the_vectors_key_entries_open() {
    let Some(endpoint) = moto::endpoint() else { return };
    let home = sandbox();
    let services = KeyServices::new(moto_env(&endpoint, home.path()));
    let case = |name: &str| {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/sops-3.11/cases")
            .join(name)
            .join("enc.yaml");
        std::fs::read_to_string(path).unwrap()
    };
    let enc_of =
        |text: &str| text.lines().find_map(|l| l.trim().strip_prefix("enc: ")).unwrap().trim().to_owned();
    let key = KmsKey { enc: enc_of(&case("kms_only")), ..kms(KEY_1) };
    assert_eq!(key.unwrap(&services).unwrap().len(), 32);
    let key = KmsKey {
        enc: enc_of(&case("kms_encryption_context")),
        context: vec![("app".into(), "vectors".into()), ("env".into(), "test".into())],
        ..kms(KEY_1)
    };
    assert_eq!(key.unwrap(&services).unwrap().len(), 32);
}

#[test]
fn a_ciphertext_of_another_key_is_refused() {
    let Some(endpoint) = moto::endpoint() else { return };
    let home = sandbox();
    let services = KeyServices::new(moto_env(&endpoint, home.path()));
    let mut key = kms(KEY_1);
    key.wrap(&SECRET, &services).unwrap();
    let other = KmsKey { arn: KEY_2.into(), ..key };
    let failure = other.unwrap(&services).unwrap_err();
    // Real KMS answers IncorrectKeyException (WrongKey); moto answers
    // AccessDeniedException for a KeyId that does not match the blob.
    assert!(
        matches!(failure.kind, FailureKind::WrongKey | FailureKind::Corrupt | FailureKind::Provider),
        "{failure:?}"
    );
    assert!(failure.message.contains("KMS Decrypt at"), "{}", failure.message);
}

#[test]
fn a_missing_key_is_named() {
    let Some(endpoint) = moto::endpoint() else { return };
    let home = sandbox();
    let services = KeyServices::new(moto_env(&endpoint, home.path()));
    let failure = kms(MISSING_KEY).wrap(&SECRET, &services).unwrap_err();
    assert_eq!(failure.kind, FailureKind::InvalidKey, "{failure:?}");
    assert!(
        failure.message.contains("key not found") && failure.message.contains("NotFoundException"),
        "{}",
        failure.message
    );
}

#[test]
fn a_profile_from_the_shared_credentials_file() {
    let Some(endpoint) = moto::endpoint() else { return };
    let home = sandbox();
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        "[sops-test]\naws_access_key_id = profilekey\naws_secret_access_key = profilesecret\n",
    )
    .unwrap();
    let mut env = moto_env(&endpoint, home.path());
    env.remove("AWS_ACCESS_KEY_ID");
    env.remove("AWS_SECRET_ACCESS_KEY");
    let services = KeyServices::new(env);
    let mut key = KmsKey { aws_profile: "sops-test".into(), ..kms(KEY_1) };
    key.wrap(&SECRET, &services).expect("wrap with the profile");
    assert_eq!(key.unwrap(&services).unwrap().as_slice(), &SECRET);

    // A profile that is not there is a credentials failure that names it.
    let missing = KmsKey { aws_profile: "nope".into(), ..key };
    let failure = missing.unwrap(&services).unwrap_err();
    assert!(matches!(failure.kind, FailureKind::IdentitySource | FailureKind::NoIdentity), "{failure:?}");
    assert!(failure.message.contains("nope"), "{}", failure.message);
}

#[test]
fn a_role_is_assumed_through_sts() {
    let Some(endpoint) = moto::endpoint() else { return };
    let home = sandbox();
    let mut env = moto_env(&endpoint, home.path());
    env.remove("AWS_ENDPOINT_URL_KMS");
    env.set("AWS_ENDPOINT_URL", &endpoint);
    let services = KeyServices::new(env.clone());
    let mut key = KmsKey { role: "arn:aws:iam::123456789012:role/sops-test".into(), ..kms(KEY_1) };
    key.wrap(&SECRET, &services).expect("wrap with a role");
    assert_eq!(key.unwrap(&services).unwrap().as_slice(), &SECRET);

    // STS elsewhere: the failure says it was the role, and where.
    let closed = closed_port_url();
    let services = KeyServices::new(env.with("AWS_ENDPOINT_URL_STS", &closed));
    let failure = key.unwrap(&services).unwrap_err();
    assert_eq!(failure.kind, FailureKind::IdentitySource, "{failure:?}");
    assert!(
        failure.message.contains("cannot assume role arn:aws:iam::123456789012:role/sops-test"),
        "{}",
        failure.message
    );
    assert!(failure.message.contains(&closed), "{}", failure.message);
}

#[test]
fn no_credentials_fails_fast_and_says_where_it_looked() {
    // No moto needed: nothing is called.
    let home = sandbox();
    let closed = closed_port_url();
    let env = Environment::empty()
        .with("HOME", home.path().display().to_string())
        .with("AWS_EC2_METADATA_DISABLED", "true")
        .with("AWS_ENDPOINT_URL_KMS", &closed);
    let services = KeyServices::new(env);
    let started = Instant::now();
    let failure = MasterKey::Kms(kms(KEY_1)).unwrap(&services).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert_eq!(failure.kind, FailureKind::NoIdentity, "{failure:?}");
    for place in [
        "AWS_ACCESS_KEY_ID",
        ".aws/config (not found)",
        ".aws/credentials (not found)",
        "AWS_EC2_METADATA_DISABLED",
    ] {
        assert!(failure.message.contains(place), "{place}: {}", failure.message);
    }
    assert!(failure.hint.is_some());
}

#[test]
fn an_unreachable_endpoint_is_named() {
    let home = sandbox();
    let closed = closed_port_url();
    let services = KeyServices::new(moto_env(&closed, home.path()));
    let mut key = kms(KEY_1);
    let failure = key.wrap(&SECRET, &services).unwrap_err();
    assert_eq!(failure.kind, FailureKind::Provider, "{failure:?}");
    assert!(
        failure.message.contains("network error") && failure.message.contains(&closed),
        "{}",
        failure.message
    );
}

#[test]
fn nothing_secret_in_debug_output() {
    let services = KeyServices::new(Environment::empty().with("AWS_SECRET_ACCESS_KEY", "very-secret"));
    assert!(!format!("{:?}", services.aws()).contains("very-secret"));
}

fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}
