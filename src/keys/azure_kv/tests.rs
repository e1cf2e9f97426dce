//! Azure Key Vault against a local server that answers as the Key Vault,
//! Azure AD and managed identity REST APIs do (see `http/test_server.rs`),
//! and the Azure CLI replaced by a script on a temporary PATH. Every
//! environment points `SOPS_RS_AZURE_IMDS_ENDPOINT` at 127.0.0.1, so the
//! real metadata address is never probed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::env::Environment;
use crate::keys::http::test_server::{Request, Response, TestServer, closed_port_url, fake_open, fake_seal};
use crate::keys::{AzureKvKey, FailureKind, KeyServices, MasterKey};

const VAULT: &str = "https://sops-test.vault.azure.net";
const NAME: &str = "sops-key";
const VERSION: &str = "0123456789abcdef0123456789abcdef";
const TOKEN: &str = "eyJ0eXAi.test-vault-token";
const TENANT: &str = "00000000-0000-0000-0000-000000000001";
const SECRET: [u8; 32] = *b"0123456789abcdef0123456789abcdef";

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Normal,
    Status(u16, &'static str),
    DisabledKey,
}

/// A fake vault holding `sops-key` (current version `VERSION`) and
/// `other-key`, plus the Azure AD token endpoint and IMDS.
fn fake_azure(mode: Mode) -> TestServer {
    TestServer::start(move |request: &Request| {
        let path = request.path().to_owned();
        if path == format!("/{TENANT}/oauth2/v2.0/token") {
            return aad(request);
        }
        if path == "/metadata/identity/oauth2/token" {
            let ok = request.header("metadata") == Some("true")
                && request.query("resource").as_deref() == Some("https://vault.azure.net")
                && request.query("api-version").as_deref() == Some("2018-02-01");
            return if ok {
                // IMDS sends expires_in as a string.
                Response::json(
                    200,
                    serde_json::json!({"access_token": TOKEN, "expires_in": "3599", "resource": "https://vault.azure.net", "token_type": "Bearer"}),
                )
            } else {
                Response::json(
                    400,
                    serde_json::json!({"error": "invalid_request", "error_description": "bad IMDS request"}),
                )
            };
        }
        if request.query("api-version").as_deref() != Some("7.4") {
            return vault_error(400, "BadParameter", "api-version is missing");
        }
        if request.bearer() != Some(TOKEN) {
            return vault_error(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.")
                .with_header("WWW-Authenticate", "Bearer authorization=\"https://login.microsoftonline.com/x\", resource=\"https://vault.azure.net\"");
        }
        if let Mode::Status(code, error) = mode {
            return vault_error(code, error, "the test server says no");
        }
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (request.method.as_str(), parts.as_slice()) {
            ("GET", ["keys", name]) if *name == NAME || *name == "other-key" => Response::json(
                200,
                serde_json::json!({
                    "key": {"kid": format!("{VAULT}/keys/{name}/{VERSION}"), "kty": "RSA", "key_ops": ["encrypt", "decrypt"]},
                    "attributes": {"enabled": mode != Mode::DisabledKey},
                }),
            ),
            ("POST", ["keys", name, version, op])
                if (*name == NAME || *name == "other-key") && *version == VERSION =>
            {
                let body = request.json();
                if body["alg"] != "RSA-OAEP-256" {
                    return vault_error(400, "BadParameter", "unsupported algorithm");
                }
                let Ok(value) = URL_SAFE_NO_PAD.decode(body["value"].as_str().unwrap_or("!")) else {
                    return vault_error(400, "BadParameter", "value is not base64url");
                };
                let kid = format!("{VAULT}/keys/{name}/{version}");
                match *op {
                    "encrypt" => Response::json(
                        200,
                        serde_json::json!({"kid": kid, "value": URL_SAFE_NO_PAD.encode(fake_seal(name, &value))}),
                    ),
                    "decrypt" => match fake_open(name, &value) {
                        Some(plain) => Response::json(
                            200,
                            serde_json::json!({"kid": kid, "value": URL_SAFE_NO_PAD.encode(plain)}),
                        ),
                        None => vault_error(400, "BadParameter", "The parameter is incorrect."),
                    },
                    _ => vault_error(404, "NotFound", "no such operation"),
                }
            }
            _ => vault_error(
                404,
                "KeyNotFound",
                &format!("A key with (name/id) {path} was not found in this key vault."),
            ),
        }
    })
}

fn vault_error(code: u16, error: &str, message: &str) -> Response {
    Response::json(code, serde_json::json!({"error": {"code": error, "message": message}}))
}

/// Azure AD: client secret or federated assertion for the test app.
fn aad(request: &Request) -> Response {
    let form = |name: &str| request.form(name).unwrap_or_default();
    let scope_ok = form("scope") == "https://vault.azure.net/.default";
    let app_ok = form("client_id") == "sops-client" && form("grant_type") == "client_credentials";
    let secret_ok = form("client_secret") == "sops-secret";
    let assertion_ok = form("client_assertion_type")
        == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        && form("client_assertion") == "federated-jwt";
    if scope_ok && app_ok && (secret_ok || assertion_ok) {
        return Response::json(
            200,
            serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "access_token": TOKEN}),
        );
    }
    Response::json(
        401,
        serde_json::json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}),
    )
}

/// Only the test server is reachable: vault requests and IMDS go to it
/// (IMDS to a closed port unless a test wants it), PATH is empty.
fn env_for(server: &TestServer, home: &std::path::Path) -> Environment {
    Environment::empty()
        .with("HOME", home.display().to_string())
        .with("PATH", "")
        .with("SOPS_RS_AZURE_KEYVAULT_ENDPOINT", &server.url)
        .with("AZURE_AUTHORITY_HOST", &server.url)
        .with("SOPS_RS_AZURE_IMDS_ENDPOINT", format!("{}/metadata/identity/oauth2/token", closed_port_url()))
}

fn with_secret(env: Environment) -> Environment {
    env.with("AZURE_TENANT_ID", TENANT)
        .with("AZURE_CLIENT_ID", "sops-client")
        .with("AZURE_CLIENT_SECRET", "sops-secret")
}

fn azure(name: &str, version: &str) -> AzureKvKey {
    AzureKvKey {
        vault_url: VAULT.into(),
        name: name.into(),
        version: version.into(),
        ..AzureKvKey::default()
    }
}

fn round_trip(env: Environment) -> Result<AzureKvKey, crate::keys::KeyFailure> {
    let services = KeyServices::new(env);
    let mut key = MasterKey::AzureKv(azure(NAME, ""));
    key.wrap(&SECRET, &services)?;
    assert_eq!(key.unwrap(&services)?.as_slice(), &SECRET);
    let MasterKey::AzureKv(key) = key else { unreachable!() };
    Ok(key)
}

#[test]
fn vault_urls_must_be_https_key_vault_hosts() {
    assert_eq!(super::vault_resource(VAULT).unwrap(), "https://vault.azure.net");
    assert_eq!(super::vault_resource("https://v.vault.azure.cn/").unwrap(), "https://vault.azure.cn");
    assert_eq!(
        super::vault_resource("https://h.managedhsm.azure.net").unwrap(),
        "https://managedhsm.azure.net"
    );
    for bad in [
        "http://sops-test.vault.azure.net",
        "https://vault.azure.net",
        "https://evil.example.com",
        "https://sops-test.vault.azure.net.evil.com",
        "https://sops-test.vault.azure.net/keys/x",
        "http://127.0.0.1:8080",
    ] {
        let failure = super::vault_resource(bad).unwrap_err();
        assert_eq!(failure.kind, FailureKind::InvalidKey, "{bad}");
    }
}

#[test]
fn client_secret_round_trip_resolves_and_records_the_version() {
    let server = fake_azure(Mode::Normal);
    let home = tempfile::tempdir().unwrap();
    let key = round_trip(with_secret(env_for(&server, home.path()))).unwrap();
    assert_eq!(key.version, VERSION);
    // base64url without padding, as sops writes it.
    assert!(!key.enc.contains('=') && !key.enc.contains('+') && !key.enc.contains('/'));
    assert_eq!(URL_SAFE_NO_PAD.decode(&key.enc).unwrap(), fake_seal(NAME, &SECRET));
    assert!(crate::timestamp::Timestamp::parse_rfc3339(&key.created_at).is_some());

    let requests = server.requests();
    let summary: Vec<(String, String)> =
        requests.iter().map(|r| (r.method.clone(), r.path().to_owned())).collect();
    assert_eq!(
        summary,
        [
            ("POST".to_owned(), format!("/{TENANT}/oauth2/v2.0/token")),
            ("GET".to_owned(), format!("/keys/{NAME}")),
            ("POST".to_owned(), format!("/keys/{NAME}/{VERSION}/encrypt")),
            ("POST".to_owned(), format!("/keys/{NAME}/{VERSION}/decrypt")),
        ]
    );
    assert_eq!(requests[2].json()["alg"], "RSA-OAEP-256");
    assert_eq!(requests[2].json()["value"], URL_SAFE_NO_PAD.encode(SECRET));
    assert_eq!(requests[3].json()["value"], key.enc.as_str());
    assert!(requests[1..].iter().all(|r| r.bearer() == Some(TOKEN)));
}

#[test]
fn a_configured_version_is_used_as_is() {
    let server = fake_azure(Mode::Normal);
    let home = tempfile::tempdir().unwrap();
    let services = KeyServices::new(with_secret(env_for(&server, home.path())));
    let mut key = azure(NAME, VERSION);
    key.wrap(&SECRET, &services).unwrap();
    assert!(server.requests().iter().all(|r| r.method == "POST"));
}

#[test]
fn workload_identity() {
    let server = fake_azure(Mode::Normal);
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("token");
    std::fs::write(&file, "federated-jwt\n").unwrap();
    let env = env_for(&server, home.path())
        .with("AZURE_TENANT_ID", TENANT)
        .with("AZURE_CLIENT_ID", "sops-client")
        .with("AZURE_FEDERATED_TOKEN_FILE", file.display().to_string());
    round_trip(env).unwrap();
}

#[test]
fn managed_identity() {
    let server = fake_azure(Mode::Normal);
    let home = tempfile::tempdir().unwrap();
    let env = env_for(&server, home.path())
        .with("SOPS_RS_AZURE_IMDS_ENDPOINT", format!("{}/metadata/identity/oauth2/token", server.url));
    round_trip(env).unwrap();
}

/// A fake `az` that prints a token (or fails like a logged-out CLI) and
/// records its arguments.
fn fake_az(dir: &std::path::Path, logged_in: bool) {
    use std::os::unix::fs::PermissionsExt;
    let script = if logged_in {
        format!(
            "#!/bin/sh\necho \"$@\" > '{}/az-args'\nprintf '%s' '{{\"accessToken\": \"{TOKEN}\", \"expiresOn\": \"2099-01-01 00:00:00.000000\", \"expires_on\": 4070908800, \"tenant\": \"{TENANT}\", \"tokenType\": \"Bearer\"}}'\n",
            dir.display()
        )
    } else {
        "#!/bin/sh\necho \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n".to_owned()
    };
    let path = dir.join("az");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn azure_cli() {
    let server = fake_azure(Mode::Normal);
    let home = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    fake_az(bin.path(), true);
    let env = env_for(&server, home.path()).with("PATH", bin.path().display().to_string());
    round_trip(env).unwrap();
    let args = std::fs::read_to_string(bin.path().join("az-args")).unwrap();
    assert_eq!(args.trim(), "account get-access-token --output json --resource https://vault.azure.net");

    let bin = tempfile::tempdir().unwrap();
    fake_az(bin.path(), false);
    let env = env_for(&server, home.path()).with("PATH", bin.path().display().to_string());
    let failure = round_trip(env).unwrap_err();
    assert_eq!(failure.kind, FailureKind::IdentitySource);
    assert!(failure.message.contains("Please run 'az login'"), "{}", failure.message);
    assert!(failure.hint.unwrap().contains("az login"));
}

#[test]
fn no_credentials_says_where_it_looked() {
    let server = fake_azure(Mode::Normal);
    let home = tempfile::tempdir().unwrap();
    let failure = round_trip(env_for(&server, home.path())).unwrap_err();
    assert_eq!(failure.kind, FailureKind::NoIdentity, "{failure:?}");
    for place in
        ["AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE", "managed identity", "az) is not in PATH"]
    {
        assert!(failure.message.contains(place), "{place}: {}", failure.message);
    }
    assert!(server.requests().is_empty());
}

#[test]
fn a_wrong_client_secret_is_reported_without_the_secret() {
    let server = fake_azure(Mode::Normal);
    let home = tempfile::tempdir().unwrap();
    let env = with_secret(env_for(&server, home.path())).with("AZURE_CLIENT_SECRET", "wrong-secret-value");
    let failure = round_trip(env).unwrap_err();
    assert_eq!(failure.kind, FailureKind::IdentitySource);
    assert!(failure.message.contains("AADSTS7000215"), "{}", failure.message);
    assert!(!failure.message.contains("wrong-secret-value"));
}

#[test]
fn service_failures_are_told_apart() {
    let home = tempfile::tempdir().unwrap();
    let cases = [
        (Mode::Status(403, "Forbidden"), FailureKind::Provider, "access denied"),
        (Mode::Status(404, "KeyNotFound"), FailureKind::InvalidKey, "key not found"),
        (Mode::Status(500, "InternalServerError"), FailureKind::Provider, "HTTP 500"),
        (Mode::DisabledKey, FailureKind::Provider, "disabled"),
    ];
    for (mode, kind, words) in cases {
        let server = fake_azure(mode);
        let failure = round_trip(with_secret(env_for(&server, home.path()))).unwrap_err();
        assert_eq!(failure.kind, kind, "{failure:?}");
        assert!(failure.message.contains(words), "{words}: {}", failure.message);
        assert!(!failure.message.contains(TOKEN));
    }
    // A token the vault refuses (here: from IMDS, for a vault that wants
    // another): 401, and the source is named.
    let server = fake_azure(Mode::Normal);
    let services = KeyServices::new(with_secret(env_for(&server, home.path())));
    let mut key = azure(NAME, "");
    key.wrap(&SECRET, &services).unwrap();
    // Another key's ciphertext.
    let other = AzureKvKey { name: "other-key".into(), ..key.clone() };
    let failure = other.unwrap(&services).unwrap_err();
    assert_eq!(failure.kind, FailureKind::WrongKey, "{failure:?}");
    // Damaged enc and missing version.
    let damaged = AzureKvKey { enc: "***".into(), ..key.clone() };
    assert_eq!(damaged.unwrap(&services).unwrap_err().kind, FailureKind::Corrupt);
    let unversioned = AzureKvKey { version: String::new(), ..key.clone() };
    assert_eq!(unversioned.unwrap(&services).unwrap_err().kind, FailureKind::Corrupt);
    // Path injection through the name is refused before any request.
    let injected = AzureKvKey { name: "x/../../secrets".into(), ..key };
    assert_eq!(injected.unwrap(&services).unwrap_err().kind, FailureKind::InvalidKey);
}

#[test]
fn a_refused_token_is_named_and_dropped() {
    let server = fake_azure(Mode::Normal);
    let home = tempfile::tempdir().unwrap();
    let imds = TestServer::start(|_: &Request| {
        Response::json(200, serde_json::json!({"access_token": "stale-token", "expires_in": "3599"}))
    });
    let env = env_for(&server, home.path())
        .with("SOPS_RS_AZURE_IMDS_ENDPOINT", format!("{}/metadata/identity/oauth2/token", imds.url));
    let failure = round_trip(env).unwrap_err();
    assert_eq!(failure.kind, FailureKind::IdentitySource, "{failure:?}");
    assert!(
        failure.message.contains("managed identity") && failure.message.contains("401"),
        "{}",
        failure.message
    );
    assert!(!failure.message.contains("stale-token"));
}

#[test]
fn unreachable_vault_and_refused_override() {
    let home = tempfile::tempdir().unwrap();
    let server = fake_azure(Mode::Normal);
    let closed = closed_port_url();
    let env = with_secret(env_for(&server, home.path())).with("SOPS_RS_AZURE_KEYVAULT_ENDPOINT", &closed);
    let failure = round_trip(env.clone()).unwrap_err();
    assert_eq!(failure.kind, FailureKind::Provider);
    assert!(failure.message.contains(&format!("cannot reach {closed}")), "{}", failure.message);
    let failure =
        round_trip(env.with("SOPS_RS_AZURE_KEYVAULT_ENDPOINT", "http://vault.example.com")).unwrap_err();
    assert!(failure.message.contains("is refused"), "{}", failure.message);
}
