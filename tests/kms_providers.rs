//! The cloud KMS providers through the binary.
//!
//! AWS runs against the fixed-key moto server (`SOPS_RS_MOTO_ENDPOINT` from
//! `scripts/test`, or one started here with `SOPS_RS_PYTHON`; see
//! `src/keys/aws_kms/moto.rs`) and, for interop, the real sops 3.11
//! (`SOPS_REFERENCE_BIN`). GCP and Azure run against a local server that
//! answers as their REST APIs do (`src/keys/http/test_server.rs`). Every
//! command runs in a `Sandbox` (empty environment, temporary HOME,
//! `AWS_EC2_METADATA_DISABLED=true`), and every endpoint, including the
//! GCE and Azure metadata services, points at 127.0.0.1.

mod common;
#[path = "../src/keys/aws_kms/moto.rs"]
mod moto;
#[path = "../src/keys/http/test_server.rs"]
mod test_server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::{Sandbox, assert_exit, reference_sops, stderr_text, stdout_text, vectors};
use moto::KEY_1;
use test_server::{Request, Response, TestServer, closed_port_url, fake_open, fake_seal};

fn case(name: &str) -> PathBuf {
    vectors().join("cases").join(name)
}

/// Credentials and endpoint for moto.
fn with_moto(mut cmd: Command, endpoint: &str) -> Command {
    cmd.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_ENDPOINT_URL_KMS", endpoint);
    cmd
}

#[test]
fn kms_vectors_decrypt_byte_for_byte() {
    let Some(endpoint) = moto::endpoint() else { return };
    let sandbox = Sandbox::new();
    for (name, enc, dec) in [
        ("kms_only", "enc.yaml", "dec.yaml"),
        ("kms_encryption_context", "enc.yaml", "dec.yaml"),
        // No age key here: only the KMS key can open it.
        ("kms_and_age", "enc.json", "dec.json"),
    ] {
        let output = with_moto(sandbox.sops_rs(), &endpoint)
            .arg("decrypt")
            .arg(case(name).join(enc))
            .output()
            .unwrap();
        assert_exit(&output, 0, name);
        assert_eq!(output.stdout, std::fs::read(case(name).join(dec)).unwrap(), "{name}");
    }
}

#[test]
fn a_tampered_context_fails_with_128_and_says_why() {
    let Some(endpoint) = moto::endpoint() else { return };
    let sandbox = Sandbox::new();
    for extra in [&[][..], &["--ignore-mac"][..]] {
        let output = with_moto(sandbox.sops_rs(), &endpoint)
            .arg("decrypt")
            .args(extra)
            .arg(case("neg_kms_context_tampered").join("enc.yaml"))
            .output()
            .unwrap();
        assert_exit(&output, 128, "tampered context");
        let stderr = stderr_text(&output);
        assert!(stderr.contains(KEY_1), "{stderr}");
        assert!(
            stderr.contains("InvalidCiphertextException") && stderr.contains("encryption context"),
            "{stderr}"
        );
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn our_kms_encryption_is_read_by_sops() {
    let Some(endpoint) = moto::endpoint() else { return };
    let sandbox = Sandbox::new();
    let plain = case("kms_encryption_context").join("plain.yaml");
    let output = with_moto(sandbox.sops_rs(), &endpoint)
        .current_dir(sandbox.path())
        .args([
            "encrypt",
            "--cipher",
            "aes256_gcm",
            "--kms",
            KEY_1,
            "--encryption-context",
            "app:sops-rs,env:ci",
        ])
        .arg(&plain)
        .output()
        .unwrap();
    assert_exit(&output, 0, "encrypt");
    let encrypted = stdout_text(&output);
    assert!(encrypted.contains("app: sops-rs") && encrypted.contains("aws_profile: \"\""), "{encrypted}");
    let enc = write(sandbox.path(), "ours.enc.yaml", &encrypted);
    let expected = std::fs::read(case("kms_encryption_context").join("dec.yaml")).unwrap();

    // We keep the layout of the file we encrypted; sops re-emits with its own.
    let ours = with_moto(sandbox.sops_rs(), &endpoint).arg("decrypt").arg(&enc).output().unwrap();
    assert_exit(&ours, 0, "our decrypt");
    assert_eq!(ours.stdout, std::fs::read(&plain).unwrap());
    let Some(sops) = reference_sops() else { return };
    let theirs = with_moto(sandbox.command(&sops), &endpoint).arg("decrypt").arg(&enc).output().unwrap();
    assert_exit(&theirs, 0, "sops decrypt");
    assert_eq!(theirs.stdout, expected);
}

#[test]
fn an_aws_profile_from_a_shared_credentials_file_works_for_both() {
    let Some(endpoint) = moto::endpoint() else { return };
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.path().join(".aws")).unwrap();
    write(
        &sandbox.path().join(".aws"),
        "credentials",
        "[sops-test]\naws_access_key_id = profilekey\naws_secret_access_key = profilesecret\n",
    );
    let plain = case("kms_only").join("plain.yaml");
    let run = |cmd: &mut Command| cmd.env("AWS_ENDPOINT_URL_KMS", &endpoint).output().unwrap();
    let output = run(sandbox
        .sops_rs()
        .current_dir(sandbox.path())
        .args(["encrypt", "--cipher", "aes256_gcm", "--kms", KEY_1, "--aws-profile", "sops-test"])
        .arg(&plain));
    assert_exit(&output, 0, "encrypt with a profile");
    let encrypted = stdout_text(&output);
    assert!(encrypted.contains("aws_profile: sops-test"), "{encrypted}");
    let enc = write(sandbox.path(), "profile.enc.yaml", &encrypted);
    let expected = std::fs::read(case("kms_only").join("dec.yaml")).unwrap();
    let ours = run(sandbox.sops_rs().arg("decrypt").arg(&enc));
    assert_exit(&ours, 0, "our decrypt with the profile");
    assert_eq!(ours.stdout, std::fs::read(&plain).unwrap());
    let Some(sops) = reference_sops() else { return };
    let theirs = run(sandbox.command(&sops).arg("decrypt").arg(&enc));
    assert_exit(&theirs, 0, "sops decrypt with the profile");
    assert_eq!(theirs.stdout, expected);
}

#[test]
fn missing_credentials_fail_fast_and_say_where_they_looked() {
    let sandbox = Sandbox::new();
    let started = Instant::now();
    let output = sandbox
        .sops_rs()
        .env("AWS_ENDPOINT_URL_KMS", closed_port_url())
        .arg("decrypt")
        .arg(case("kms_only").join("enc.yaml"))
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
    assert_exit(&output, 128, "no credentials");
    let stderr = stderr_text(&output);
    assert!(stderr.contains("no AWS credentials found"), "{stderr}");
    assert!(
        stderr.contains("AWS_ACCESS_KEY_ID") && stderr.contains(".aws/credentials (not found)"),
        "{stderr}"
    );
    assert!(stderr.contains("disabled by AWS_EC2_METADATA_DISABLED"), "{stderr}");
}

#[test]
fn an_unreachable_kms_endpoint_is_named() {
    let sandbox = Sandbox::new();
    let closed = closed_port_url();
    let output = with_moto(sandbox.sops_rs(), &closed)
        .arg("decrypt")
        .arg(case("kms_only").join("enc.yaml"))
        .output()
        .unwrap();
    assert_exit(&output, 128, "unreachable endpoint");
    let stderr = stderr_text(&output);
    assert!(stderr.contains("network error") && stderr.contains(&closed), "{stderr}");
}

const GCP_RESOURCE: &str = "projects/sops-test/locations/global/keyRings/ring/cryptoKeys/key";
const TOKEN: &str = "test-access-token";

/// Cloud KMS as its REST API answers, accepting only `TOKEN`; `deny`
/// answers 403 to everything.
fn fake_cloud_kms(deny: bool) -> TestServer {
    TestServer::start(move |request: &Request| {
        let error = |code: u16, status: &str| {
            Response::json(
                code,
                serde_json::json!({"error": {"code": code, "message": "test", "status": status}}),
            )
        };
        if request.bearer() != Some(TOKEN) {
            return error(401, "UNAUTHENTICATED");
        }
        if deny {
            return error(403, "PERMISSION_DENIED");
        }
        let body = request.json();
        match request.path().strip_prefix(&format!("/v1/{GCP_RESOURCE}")) {
            Some(":encrypt") => {
                let plain = STANDARD.decode(body["plaintext"].as_str().unwrap()).unwrap();
                Response::json(
                    200,
                    serde_json::json!({"ciphertext": STANDARD.encode(fake_seal(GCP_RESOURCE, &plain))}),
                )
            }
            Some(":decrypt") => {
                let sealed = STANDARD.decode(body["ciphertext"].as_str().unwrap()).unwrap();
                let plain = fake_open(GCP_RESOURCE, &sealed).unwrap();
                Response::json(200, serde_json::json!({"plaintext": STANDARD.encode(plain)}))
            }
            _ => error(404, "NOT_FOUND"),
        }
    })
}

fn with_gcp(mut cmd: Command, server: &TestServer) -> Command {
    cmd.env("SOPS_RS_GCP_KMS_ENDPOINT", &server.url)
        .env("GOOGLE_OAUTH_ACCESS_TOKEN", TOKEN)
        .env("GCE_METADATA_HOST", closed_port_url().trim_start_matches("http://"));
    cmd
}

#[test]
fn gcp_kms_round_trip_and_access_denied() {
    let server = fake_cloud_kms(false);
    let sandbox = Sandbox::new();
    let plain = write(sandbox.path(), "s.yaml", "db:\n    password: hunter2\n");
    let output = with_gcp(sandbox.sops_rs(), &server)
        .current_dir(sandbox.path())
        .args(["encrypt", "--gcp-kms", GCP_RESOURCE])
        .arg(&plain)
        .output()
        .unwrap();
    assert_exit(&output, 0, "gcp encrypt");
    let encrypted = stdout_text(&output);
    assert!(
        encrypted.contains(&format!("resource_id: {GCP_RESOURCE}")) && !encrypted.contains("hunter2"),
        "{encrypted}"
    );
    let enc = write(sandbox.path(), "s.enc.yaml", &encrypted);
    let output = with_gcp(sandbox.sops_rs(), &server).arg("decrypt").arg(&enc).output().unwrap();
    assert_exit(&output, 0, "gcp decrypt");
    assert_eq!(stdout_text(&output), "db:\n    password: hunter2\n");

    let denying = fake_cloud_kms(true);
    let output = with_gcp(sandbox.sops_rs(), &denying).arg("decrypt").arg(&enc).output().unwrap();
    assert_exit(&output, 128, "gcp access denied");
    let stderr = stderr_text(&output);
    assert!(stderr.contains(GCP_RESOURCE) && stderr.contains("access denied"), "{stderr}");
    assert!(!stderr.contains(TOKEN));
}

const VAULT: &str = "https://sops-test.vault.azure.net";
const VERSION: &str = "0123456789abcdef0123456789abcdef";
const TENANT: &str = "00000000-0000-0000-0000-000000000001";

/// Azure AD's token endpoint and a vault with key `sops-key`.
fn fake_key_vault() -> TestServer {
    TestServer::start(|request: &Request| {
        let path = request.path().to_owned();
        if path == format!("/{TENANT}/oauth2/v2.0/token") {
            let ok = request.form("client_secret").as_deref() == Some("sops-secret")
                && request.form("scope").as_deref() == Some("https://vault.azure.net/.default");
            return if ok {
                Response::json(
                    200,
                    serde_json::json!({"access_token": TOKEN, "expires_in": 3599, "token_type": "Bearer"}),
                )
            } else {
                Response::json(401, serde_json::json!({"error": "invalid_client"}))
            };
        }
        if request.bearer() != Some(TOKEN) || request.query("api-version").as_deref() != Some("7.4") {
            return Response::json(
                401,
                serde_json::json!({"error": {"code": "Unauthorized", "message": "no"}}),
            );
        }
        let value = || URL_SAFE_NO_PAD.decode(request.json()["value"].as_str().unwrap()).unwrap();
        if path == "/keys/sops-key" {
            return Response::json(
                200,
                serde_json::json!({"key": {"kid": format!("{VAULT}/keys/sops-key/{VERSION}")}, "attributes": {"enabled": true}}),
            );
        }
        if path == format!("/keys/sops-key/{VERSION}/encrypt") {
            return Response::json(
                200,
                serde_json::json!({"value": URL_SAFE_NO_PAD.encode(fake_seal("sops-key", &value()))}),
            );
        }
        if path == format!("/keys/sops-key/{VERSION}/decrypt") {
            return Response::json(
                200,
                serde_json::json!({"value": URL_SAFE_NO_PAD.encode(fake_open("sops-key", &value()).unwrap())}),
            );
        }
        Response::json(404, serde_json::json!({"error": {"code": "KeyNotFound", "message": path}}))
    })
}

#[test]
fn azure_key_vault_round_trip_records_the_version() {
    let server = fake_key_vault();
    let sandbox = Sandbox::new();
    let with_azure = |mut cmd: Command| {
        cmd.env("SOPS_RS_AZURE_KEYVAULT_ENDPOINT", &server.url)
            .env("AZURE_AUTHORITY_HOST", &server.url)
            .env("AZURE_TENANT_ID", TENANT)
            .env("AZURE_CLIENT_ID", "sops-client")
            .env("AZURE_CLIENT_SECRET", "sops-secret")
            .env("SOPS_RS_AZURE_IMDS_ENDPOINT", closed_port_url());
        cmd
    };
    let plain = write(sandbox.path(), "s.json", "{\n\t\"password\": \"hunter2\"\n}");
    let output = with_azure(sandbox.sops_rs())
        .current_dir(sandbox.path())
        .args(["encrypt", "--azure-kv", &format!("{VAULT}/keys/sops-key")])
        .arg(&plain)
        .output()
        .unwrap();
    assert_exit(&output, 0, "azure encrypt");
    let encrypted = stdout_text(&output);
    assert!(encrypted.contains(&format!("\"version\": \"{VERSION}\"")), "{encrypted}");
    let enc = write(sandbox.path(), "s.enc.json", &encrypted);
    let output = with_azure(sandbox.sops_rs()).arg("decrypt").arg(&enc).output().unwrap();
    assert_exit(&output, 0, "azure decrypt");
    assert_eq!(stdout_text(&output), "{\n\t\"password\": \"hunter2\"\n}");
}
