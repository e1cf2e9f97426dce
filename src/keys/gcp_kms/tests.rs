//! GCP KMS against a local server that answers as the Cloud KMS and OAuth
//! REST APIs do (see `http/test_server.rs`): round trips through
//! `MasterKey`, every credential source, and every failure kind. Every
//! environment sets `GCE_METADATA_HOST` to 127.0.0.1, so the metadata
//! server is never probed for real.

use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::pkcs8::DecodePrivateKey;
use sha2::Digest;

use crate::env::Environment;
use crate::keys::http::test_server::{Request, Response, TestServer, closed_port_url, fake_open, fake_seal};
use crate::keys::{FailureKind, GcpKmsKey, KeyServices, MasterKey};

/// A TEST-ONLY RSA key (generated for these tests, protects nothing): the
/// private key of the fake service account below.
const TEST_SERVICE_ACCOUNT_KEY: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDG3s2rLQQo5AS4\n9MQWLNhmAqjdraWlMmBCk8Zka3WqqH0y8i9ZPNUjEzbw6cwpG44tJaCOjOqBUoAw\n4QPbmYKOxKCLnCJxU7k6KizYz33mA5/mDsd73t8tCfDCeyZ8AeEu9L1su0T7OB+R\nqUDZcJeX3mSSRXKIxKMTIxqzxq+yv4CGBZtJtEU0eX2h7reNoqtat/AwqKRjJuwm\nZwXcdXAYW4w1pQd16z5eDE4tzyodh80nJDb1aYq7NIbL6Xd0Ik++ZMuZjvm/5kQM\n6FCNQqTWQ9KxH64UKQWMlKsktWe4PmREPJoSHYpTVHDzIzsKbCxz4/ARpcjJVg5Y\nLrxRhehVAgMBAAECggEAE/GvRZ33n1QyxwvBCIpJz30vyz+Jb7ZMIhEo4dRHEizg\nlXXlWrk3lNNt/J4t2+eIDC4MWo92Sy7nbT97wA+2oLPGeAnaCGyBlHw7UCkK8sDl\nTdCon9sbnaw0CYUJOIGFwExKHPfw9JLN07FaMBRTF6d1hZfSYzX5Nseb+3CPGUle\n5VWv28oz2KCo4u2LODF5mcypiqKetHhzOuOv9V1YlMI5N4fbXaCQoxnKdA0/R+re\nMYep0UvbWYx9tzZnyXlZWvO/A5Puj9bN3LeTB58fgZWaYwiHALi3GGOoXmgmBA3B\nwCMDlEMDHShcX8YxnR1TN91R+pvsmxnPgNb3JDpN4QKBgQD02D0TxT3bVsjBdLAB\nJyq6X0zwT7zQZR8wQ3Sn3u7V0AEu3+qp4TgKXVGOTOfjcJSVCVMbGKM0hnFQ6Klx\n3hvZ7t85PvM5ZEhNKojSk46kIHs/eukpPvnFCaHtiPhlFIOTMdK9/aYEDOAcmASD\n42+kUhTUXz1W/RXe30tRzeEW8QKBgQDP7lcKXxZlZLEB1fDdZk4d638fnIS2t70T\n/4Ac3RaBlYpVKjfADCmy4GdV67RL/GIWJ+kWrwBi41fpdaO7+ZOaUI9KhGdvlYqK\nNmQZGza76n+QZuxqLl857MQWeHzcxaoJauDnCJ9bHJ93MQ0YSDGgmthdbZY42grW\n0NbMBLoPpQKBgQCIrzbZlKEFk5sbNHMVEbJuvMkM1tbHV8xjeyTimjemsSoX6vTr\nxUktsA7Za+GAPNcVpFD6rXRe3DbiPiBp6t6NeSawpI3PmkYqnfYn6CwXP/LN62XC\nmt+AufHl0zMn6p3RTF0jpzhIxo9OJydOIWevygrKzChIKZ1OAEXh8xcXYQKBgAjY\ndtN2IBnIIs+VLl380C3tqsbJfcvYHS8Qm36e2SpCFlRxK1X8LnnxmfPJxy3EWtfe\ncsgIQdfzG/ZOjtycTW8vJilhYJUao34lujRnN/jejPazqjMKLfrk26KpFYa+0fD8\nnvy1HTJfEVmcuJXj3Ficvb+bvdxFSljBIaIkQVYRAoGAcWFKh09kgCUcmLUNXw+q\niUnJDVYz+fMiK0EjAbZwpB3+C/rCkM8L1MpM+G7BIWVtt79Xu1khud3JehX47UHe\n/2s6Pj4Sh8A5WD3DdPhVihasn/WaSeFAQI/9B0IinAtrw4XWnmI5fUefgJEOyxjh\ntP+QM/yN+5M8nfMSs0tNNEY=\n-----END PRIVATE KEY-----\n";

const RESOURCE: &str = "projects/sops-test/locations/global/keyRings/ring/cryptoKeys/key";
const OTHER: &str = "projects/sops-test/locations/global/keyRings/ring/cryptoKeys/other";
const TOKEN: &str = "ya29.test-access-token";
const SECRET: [u8; 32] = *b"0123456789abcdef0123456789abcdef";

/// How the fake Cloud KMS behaves.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Normal,
    Status(u16, &'static str),
}

/// A fake Cloud KMS (keys `RESOURCE` and `OTHER`) plus OAuth token and
/// metadata endpoints, all accepting only `TOKEN`.
fn fake_google(mode: Mode) -> TestServer {
    TestServer::start(move |request: &Request| {
        let path = request.path().to_owned();
        if path == "/token" {
            return token_endpoint(request);
        }
        if path == "/computeMetadata/v1/instance/service-accounts/default/token" {
            if request.header("metadata-flavor") != Some("Google") {
                return Response::text(403, "missing Metadata-Flavor");
            }
            return Response::json(
                200,
                serde_json::json!({"access_token": TOKEN, "expires_in": 3599, "token_type": "Bearer"}),
            );
        }
        if request.bearer() != Some(TOKEN) {
            return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.");
        }
        if let Mode::Status(code, status) = mode {
            return google_error(code, status, "the test server says no");
        }
        let Some(rest) = path.strip_prefix("/v1/") else { return Response::text(404, "no such path") };
        let (resource, method) = rest.rsplit_once(':').unwrap_or((rest, ""));
        if resource != RESOURCE && resource != OTHER {
            return google_error(404, "NOT_FOUND", &format!("CryptoKey {resource} not found."));
        }
        let body = request.json();
        match method {
            "encrypt" => {
                let plaintext = STANDARD.decode(body["plaintext"].as_str().unwrap_or("!")).unwrap();
                Response::json(
                    200,
                    serde_json::json!({
                        "name": format!("{resource}/cryptoKeyVersions/1"),
                        "ciphertext": STANDARD.encode(fake_seal(resource, &plaintext)),
                    }),
                )
            }
            "decrypt" => {
                let ciphertext = STANDARD.decode(body["ciphertext"].as_str().unwrap_or("!")).unwrap();
                match fake_open(resource, &ciphertext) {
                    Some(plaintext) => {
                        Response::json(200, serde_json::json!({"plaintext": STANDARD.encode(plaintext)}))
                    }
                    None => {
                        google_error(400, "INVALID_ARGUMENT", "Decryption failed: the ciphertext is invalid.")
                    }
                }
            }
            _ => Response::text(404, "no such method"),
        }
    })
}

fn google_error(code: u16, status: &str, message: &str) -> Response {
    Response::json(code, serde_json::json!({"error": {"code": code, "message": message, "status": status}}))
}

/// The OAuth endpoint: a JWT-bearer grant signed by the test key, or the
/// refresh-token grant of the fake user.
fn token_endpoint(request: &Request) -> Response {
    let granted = serde_json::json!({"access_token": TOKEN, "expires_in": 3599, "token_type": "Bearer"});
    match request.form("grant_type").as_deref() {
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer") => {
            let assertion = request.form("assertion").unwrap_or_default();
            match check_jwt(&assertion) {
                Ok(()) => Response::json(200, granted),
                Err(why) => Response::json(
                    400,
                    serde_json::json!({"error": "invalid_grant", "error_description": why}),
                ),
            }
        }
        Some("refresh_token") => {
            let ok = request.form("client_id").as_deref() == Some("user-client")
                && request.form("client_secret").as_deref() == Some("user-secret")
                && request.form("refresh_token").as_deref() == Some("user-refresh");
            if ok {
                Response::json(200, granted)
            } else {
                Response::json(
                    400,
                    serde_json::json!({"error": "invalid_grant", "error_description": "Bad Request"}),
                )
            }
        }
        _ => Response::json(400, serde_json::json!({"error": "unsupported_grant_type"})),
    }
}

/// What Google checks of a service-account assertion: RS256, signed by the
/// account's key, issuer, audience, scope and lifetime.
fn check_jwt(assertion: &str) -> Result<(), String> {
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, claims, signature] = parts[..] else { return Err("not a JWT".into()) };
    let decode = |part: &str| -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    };
    let (header_json, claims_json) = (decode(header), decode(claims));
    if header_json["alg"] != "RS256" || header_json["kid"] != "test-key-id" {
        return Err(format!("bad header {header_json}"));
    }
    if claims_json["iss"] != "sops@sops-test.iam.gserviceaccount.com"
        || claims_json["scope"] != "https://www.googleapis.com/auth/cloudkms"
        || !claims_json["aud"].as_str().unwrap_or("").ends_with("/token")
        || claims_json["exp"].as_u64().unwrap_or(0) != claims_json["iat"].as_u64().unwrap_or(0) + 3600
    {
        return Err(format!("bad claims {claims_json}"));
    }
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(TEST_SERVICE_ACCOUNT_KEY).unwrap().to_public_key();
    let digest = sha2::Sha256::digest(format!("{header}.{claims}").as_bytes());
    key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest, &URL_SAFE_NO_PAD.decode(signature).unwrap())
        .map_err(|_| "Invalid JWT Signature.".to_owned())
}

/// An environment that reaches only `server`: the KMS endpoint and the
/// metadata host both point at it (or at a closed port), HOME is empty.
fn env_for(server: &TestServer, home: &std::path::Path) -> Environment {
    Environment::empty()
        .with("HOME", home.display().to_string())
        .with("SOPS_RS_GCP_KMS_ENDPOINT", &server.url)
        .with("GCE_METADATA_HOST", closed_port_url().trim_start_matches("http://"))
}

fn service_account_json(token_uri: &str) -> String {
    serde_json::json!({
        "type": "service_account",
        "project_id": "sops-test",
        "private_key_id": "test-key-id",
        "private_key": TEST_SERVICE_ACCOUNT_KEY,
        "client_email": "sops@sops-test.iam.gserviceaccount.com",
        "token_uri": token_uri,
    })
    .to_string()
}

fn gcp(resource: &str) -> MasterKey {
    MasterKey::GcpKms(GcpKmsKey { resource_id: resource.into(), ..GcpKmsKey::default() })
}

/// Wrap and unwrap `SECRET` with `env`; the failure if any.
fn round_trip(env: Environment) -> Result<MasterKey, crate::keys::KeyFailure> {
    let services = KeyServices::new(env);
    let mut key = gcp(RESOURCE);
    key.wrap(&SECRET, &services)?;
    assert_eq!(key.unwrap(&services)?.as_slice(), &SECRET);
    Ok(key)
}

#[test]
fn resource_ids_are_checked() {
    assert!(super::validate_resource_id(RESOURCE).is_ok());
    for bad in [
        "projects/p/locations/l/keyRings/r",
        "projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1",
        "projects//locations/l/keyRings/r/cryptoKeys/k",
        "projects/p/locations/l/keyRings/r/cryptoKeys/k?x",
        "https://cloudkms.googleapis.com/v1/projects/p",
    ] {
        assert_eq!(super::validate_resource_id(bad).unwrap_err().kind, FailureKind::InvalidKey, "{bad}");
    }
}

#[test]
fn access_token_variable_round_trip() {
    let server = fake_google(Mode::Normal);
    let home = tempfile::tempdir().unwrap();
    let key = round_trip(env_for(&server, home.path()).with("GOOGLE_OAUTH_ACCESS_TOKEN", TOKEN)).unwrap();
    let MasterKey::GcpKms(key) = key else { unreachable!() };
    // sops stores the ciphertext as standard padded base64.
    assert_eq!(STANDARD.decode(&key.enc).unwrap(), fake_seal(RESOURCE, &SECRET));
    assert!(crate::timestamp::Timestamp::parse_rfc3339(&key.created_at).is_some());
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path(), format!("/v1/{RESOURCE}:encrypt"));
    assert_eq!(requests[0].bearer(), Some(TOKEN));
    assert_eq!(requests[0].header("content-type"), Some("application/json"));
    assert_eq!(requests[0].json()["plaintext"], STANDARD.encode(SECRET));
    assert_eq!(requests[1].path(), format!("/v1/{RESOURCE}:decrypt"));
    assert_eq!(requests[1].json()["ciphertext"], key.enc.as_str());
}

#[test]
fn service_account_key_file_and_inline_json() {
    let server = fake_google(Mode::Normal);
    let home = tempfile::tempdir().unwrap();
    let json = service_account_json(&format!("{}/token", server.url));
    let file = home.path().join("sa.json");
    std::fs::write(&file, &json).unwrap();
    // GOOGLE_APPLICATION_CREDENTIALS, GOOGLE_CREDENTIALS as a path, and
    // GOOGLE_CREDENTIALS as the JSON itself.
    for (var, value) in [
        ("GOOGLE_APPLICATION_CREDENTIALS", file.display().to_string()),
        ("GOOGLE_CREDENTIALS", file.display().to_string()),
        ("GOOGLE_CREDENTIALS", json.clone()),
    ] {
        round_trip(env_for(&server, home.path()).with(var, value)).unwrap_or_else(|f| panic!("{var}: {f:?}"));
    }
    let grants: Vec<Request> = server.requests().into_iter().filter(|r| r.path() == "/token").collect();
    // One token per KeyServices, reused for encrypt and decrypt.
    assert_eq!(grants.len(), 3);
    assert_eq!(grants[0].header("content-type"), Some("application/x-www-form-urlencoded"));
}

#[test]
fn gcloud_user_credentials_in_the_well_known_file() {
    let server = fake_google(Mode::Normal);
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".config/gcloud");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("application_default_credentials.json"),
        serde_json::json!({
            "type": "authorized_user",
            "client_id": "user-client",
            "client_secret": "user-secret",
            "refresh_token": "user-refresh",
            "token_uri": format!("{}/token", server.url),
        })
        .to_string(),
    )
    .unwrap();
    round_trip(env_for(&server, home.path())).unwrap();
}

#[test]
fn the_metadata_server_is_the_last_source() {
    let server = fake_google(Mode::Normal);
    let home = tempfile::tempdir().unwrap();
    let env =
        env_for(&server, home.path()).with("GCE_METADATA_HOST", server.url.trim_start_matches("http://"));
    round_trip(env).unwrap();
    assert!(server.requests().iter().any(|r| r.path().starts_with("/computeMetadata/")));
}

#[test]
fn no_credentials_says_where_it_looked() {
    let server = fake_google(Mode::Normal);
    let home = tempfile::tempdir().unwrap();
    let failure = round_trip(env_for(&server, home.path())).unwrap_err();
    assert_eq!(failure.kind, FailureKind::NoIdentity, "{failure:?}");
    for place in [
        "GOOGLE_CREDENTIALS",
        "GOOGLE_OAUTH_ACCESS_TOKEN",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "application_default_credentials.json does not exist",
        "GCE metadata server",
    ] {
        assert!(failure.message.contains(place), "{place}: {}", failure.message);
    }
    assert!(failure.hint.unwrap().contains("gcloud auth application-default login"));
    assert!(server.requests().is_empty());
}

#[test]
fn broken_credentials_are_reported_not_skipped() {
    let server = fake_google(Mode::Normal);
    let home = tempfile::tempdir().unwrap();
    // Not JSON, and not a file either.
    let failure =
        round_trip(env_for(&server, home.path()).with("GOOGLE_CREDENTIALS", "{not json")).unwrap_err();
    assert_eq!(failure.kind, FailureKind::IdentitySource);
    assert!(failure.message.contains("GOOGLE_CREDENTIALS (inline JSON)"), "{}", failure.message);
    assert!(!failure.message.contains("{not json"));
    // A missing ADC file.
    let failure = round_trip(
        env_for(&server, home.path()).with("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/sa.json"),
    )
    .unwrap_err();
    assert_eq!(failure.kind, FailureKind::IdentitySource);
    assert!(failure.message.contains("/nonexistent/sa.json"));
    // A revoked user credential: the token endpoint's reason is shown.
    let json = serde_json::json!({
        "type": "authorized_user", "client_id": "user-client", "client_secret": "user-secret",
        "refresh_token": "revoked", "token_uri": format!("{}/token", server.url),
    });
    let failure =
        round_trip(env_for(&server, home.path()).with("GOOGLE_CREDENTIALS", json.to_string())).unwrap_err();
    assert_eq!(failure.kind, FailureKind::IdentitySource);
    assert!(failure.message.contains("invalid_grant"), "{}", failure.message);
    assert!(
        !failure.message.contains("user-secret") && !failure.message.contains("revoked"),
        "{}",
        failure.message
    );
    // A token URI that is not https is refused before anything is sent.
    let json = service_account_json("http://oauth2.example.com/token");
    let failure = round_trip(env_for(&server, home.path()).with("GOOGLE_CREDENTIALS", json)).unwrap_err();
    assert!(failure.message.contains("not https"), "{}", failure.message);
    assert!(!failure.message.contains("PRIVATE KEY"));
    // Unsupported credential types say so.
    let json = serde_json::json!({"type": "external_account"}).to_string();
    let failure = round_trip(env_for(&server, home.path()).with("GOOGLE_CREDENTIALS", json)).unwrap_err();
    assert_eq!(failure.kind, FailureKind::Unsupported);
}

#[test]
fn service_failures_are_told_apart() {
    let home = tempfile::tempdir().unwrap();
    let cases = [
        (Mode::Status(403, "PERMISSION_DENIED"), FailureKind::Provider, "access denied"),
        (Mode::Status(400, "FAILED_PRECONDITION"), FailureKind::Provider, "cannot be used"),
        (Mode::Status(503, "UNAVAILABLE"), FailureKind::Provider, "HTTP 503"),
    ];
    for (mode, kind, words) in cases {
        let server = fake_google(mode);
        let failure =
            round_trip(env_for(&server, home.path()).with("GOOGLE_OAUTH_ACCESS_TOKEN", TOKEN)).unwrap_err();
        assert_eq!(failure.kind, kind, "{failure:?}");
        assert!(failure.message.contains(words), "{words}: {}", failure.message);
        assert!(failure.message.contains(&server.url), "{}", failure.message);
        assert!(!failure.message.contains(TOKEN));
    }
    // A rejected token, a missing key, and another key's ciphertext.
    let server = fake_google(Mode::Normal);
    let env = env_for(&server, home.path()).with("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.expired");
    let failure = round_trip(env).unwrap_err();
    assert_eq!(failure.kind, FailureKind::IdentitySource);
    assert!(
        failure.message.contains("GOOGLE_OAUTH_ACCESS_TOKEN") && failure.message.contains("401"),
        "{}",
        failure.message
    );

    let services = KeyServices::new(env_for(&server, home.path()).with("GOOGLE_OAUTH_ACCESS_TOKEN", TOKEN));
    let missing = "projects/sops-test/locations/global/keyRings/ring/cryptoKeys/missing";
    let failure = gcp(missing).wrap(&SECRET, &services).unwrap_err();
    assert_eq!(failure.kind, FailureKind::InvalidKey);
    assert!(
        failure.message.contains("key not found") && failure.message.contains("NOT_FOUND"),
        "{}",
        failure.message
    );

    let mut key = gcp(RESOURCE);
    key.wrap(&SECRET, &services).unwrap();
    let MasterKey::GcpKms(mut other) = key else { unreachable!() };
    other.resource_id = OTHER.into();
    let failure = other.unwrap(&services).unwrap_err();
    assert_eq!(failure.kind, FailureKind::WrongKey, "{failure:?}");

    other.enc = "not base64!".into();
    assert_eq!(other.unwrap(&services).unwrap_err().kind, FailureKind::Corrupt);
}

#[test]
fn unreachable_endpoint_and_refused_endpoint_override() {
    let home = tempfile::tempdir().unwrap();
    let closed = closed_port_url();
    let env = Environment::empty()
        .with("HOME", home.path().display().to_string())
        .with("GOOGLE_OAUTH_ACCESS_TOKEN", TOKEN)
        .with("SOPS_RS_GCP_KMS_ENDPOINT", &closed);
    let failure = round_trip(env.clone()).unwrap_err();
    assert_eq!(failure.kind, FailureKind::Provider);
    assert!(failure.message.contains(&format!("cannot reach {closed}")), "{}", failure.message);
    let failure = round_trip(env.with("SOPS_RS_GCP_KMS_ENDPOINT", "http://kms.example.com")).unwrap_err();
    assert!(failure.message.contains("is refused"), "{}", failure.message);
}

#[test]
fn tokens_are_cached_per_services() {
    let server = fake_google(Mode::Normal);
    let home = tempfile::tempdir().unwrap();
    let json = service_account_json(&format!("{}/token", server.url));
    let services = KeyServices::new(env_for(&server, home.path()).with("GOOGLE_CREDENTIALS", json));
    let counter = Arc::new(Mutex::new(0));
    for _ in 0..3 {
        let mut key = gcp(RESOURCE);
        key.wrap(&SECRET, &services).unwrap();
        *counter.lock().unwrap() += 1;
    }
    let grants = server.requests().iter().filter(|r| r.path() == "/token").count();
    assert_eq!(grants, 1);
    assert!(!format!("{:?}", services.rest()).contains(TOKEN));
}

#[test]
fn jwt_is_well_formed() {
    let jwt = super::credentials::signed_jwt_for_tests(
        "sops@sops-test.iam.gserviceaccount.com",
        TEST_SERVICE_ACCOUNT_KEY,
        "https://oauth2.googleapis.com/token",
    )
    .unwrap();
    check_jwt(&jwt).unwrap();
}
