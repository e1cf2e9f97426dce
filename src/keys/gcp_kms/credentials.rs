//! Finding a Google OAuth access token, in sops's order, and saying where
//! we looked when there is none.
//!
//! Each source either gives a token, fails (it exists but is broken:
//! that failure is returned at once, because silently skipping a broken
//! credential the user set on purpose hides the real problem), or is absent
//! (noted, and the next source is tried). The notes become the "no
//! credentials" message.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use sha2::Digest;
use zeroize::Zeroizing;

use crate::env::Environment;
use crate::keys::http::{self, BearerToken, Body, HttpClient};
use crate::keys::{FailureKind, KeyFailure};

/// The OAuth scope for Cloud KMS calls.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloudkms";
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
const METADATA_HOST_VAR: &str = "GCE_METADATA_HOST";
const DEFAULT_METADATA_HOST: &str = "169.254.169.254";

/// A token from the first source that has one.
pub fn fetch_token(env: &Environment, client: &HttpClient) -> Result<BearerToken, KeyFailure> {
    let mut looked = Vec::new();

    if let Some(value) = env.non_empty("GOOGLE_CREDENTIALS") {
        // sops: a path if such a file exists, else the JSON itself.
        let path = PathBuf::from(value);
        let (text, origin) = if path.is_file() {
            let text = read_secret_file(&path, "GOOGLE_CREDENTIALS")?;
            (text, format!("GOOGLE_CREDENTIALS (file {})", path.display()))
        } else {
            (Zeroizing::new(value.to_owned()), "GOOGLE_CREDENTIALS (inline JSON)".to_owned())
        };
        return token_from_json(&text, &origin, client);
    }
    looked.push("GOOGLE_CREDENTIALS is not set".to_owned());

    if let Some(token) = env.non_empty("GOOGLE_OAUTH_ACCESS_TOKEN") {
        return Ok(BearerToken::new(token.to_owned(), None, "GOOGLE_OAUTH_ACCESS_TOKEN"));
    }
    looked.push("GOOGLE_OAUTH_ACCESS_TOKEN is not set".to_owned());

    if let Some(value) = env.non_empty("GOOGLE_APPLICATION_CREDENTIALS") {
        let path = PathBuf::from(value);
        let text = read_secret_file(&path, "GOOGLE_APPLICATION_CREDENTIALS")?;
        return token_from_json(
            &text,
            &format!("GOOGLE_APPLICATION_CREDENTIALS ({})", path.display()),
            client,
        );
    }
    looked.push("GOOGLE_APPLICATION_CREDENTIALS is not set".to_owned());

    match well_known_file(env) {
        Some(path) if path.is_file() => {
            let text = read_secret_file(&path, "gcloud's application default credentials")?;
            return token_from_json(
                &text,
                &format!("gcloud application default credentials ({})", path.display()),
                client,
            );
        }
        Some(path) => looked.push(format!("{} does not exist", path.display())),
        None => looked
            .push("gcloud's application_default_credentials.json: no HOME or CLOUDSDK_CONFIG".to_owned()),
    }

    match metadata_token(env, client) {
        Ok(token) => Ok(token),
        Err(MetadataError::Unreachable(why)) => {
            looked.push(why);
            Err(KeyFailure::new(
                FailureKind::NoIdentity,
                format!("no Google credentials found: {}", looked.join("; ")),
            )
            .with_hint(
                "run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a service \
                 account key file, or GOOGLE_OAUTH_ACCESS_TOKEN to an access token",
            ))
        }
        Err(MetadataError::Failed(failure)) => Err(failure),
    }
}

/// `$CLOUDSDK_CONFIG/application_default_credentials.json`, else gcloud's
/// default configuration directory (`~/.config/gcloud` on Unix, which
/// gcloud uses whatever XDG_CONFIG_HOME says).
fn well_known_file(env: &Environment) -> Option<PathBuf> {
    let dir = match env.non_empty("CLOUDSDK_CONFIG") {
        Some(dir) => PathBuf::from(dir),
        None if cfg!(windows) => PathBuf::from(env.non_empty("APPDATA")?).join("gcloud"),
        None => env.home_dir()?.join(".config").join("gcloud"),
    };
    Some(dir.join("application_default_credentials.json"))
}

fn read_secret_file(path: &std::path::Path, what: &str) -> Result<Zeroizing<String>, KeyFailure> {
    std::fs::read_to_string(path).map(Zeroizing::new).map_err(|e| {
        KeyFailure::new(
            FailureKind::IdentitySource,
            format!("cannot read {what} file {}: {e}", path.display()),
        )
    })
}

fn source_failure(origin: &str, why: impl std::fmt::Display) -> KeyFailure {
    KeyFailure::new(
        FailureKind::IdentitySource,
        format!("the Google credentials in {origin} cannot be used: {why}"),
    )
}

/// A token from a credential JSON document (service account or gcloud
/// user credentials).
fn token_from_json(text: &str, origin: &str, client: &HttpClient) -> Result<BearerToken, KeyFailure> {
    let json: serde_json::Value = serde_json::from_str(text)
        .map_err(|_| source_failure(origin, "it is not a readable file or JSON"))?;
    let json = SecretJson(json);
    let field = |name: &str| json.0[name].as_str().filter(|v| !v.is_empty());
    let token_uri = field("token_uri").unwrap_or(DEFAULT_TOKEN_URI).to_owned();
    if !http::is_trusted_url(&token_uri) {
        return Err(source_failure(
            origin,
            format!("its token_uri {} is not https", http::endpoint_of(&token_uri)),
        ));
    }
    match field("type") {
        Some("service_account") => {
            let email =
                field("client_email").ok_or_else(|| source_failure(origin, "client_email is missing"))?;
            let pem = field("private_key").ok_or_else(|| source_failure(origin, "private_key is missing"))?;
            let assertion = signed_jwt(email, field("private_key_id"), pem, &token_uri)
                .map_err(|why| source_failure(origin, why))?;
            let what = format!("service account {email} from {origin}");
            exchange(
                client,
                &token_uri,
                &[("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", &assertion)],
                &what,
            )
        }
        Some("authorized_user") => {
            let need =
                |name: &str| field(name).ok_or_else(|| source_failure(origin, format!("{name} is missing")));
            let (id, secret, refresh) = (need("client_id")?, need("client_secret")?, need("refresh_token")?);
            let what = format!("user credentials from {origin}");
            exchange(
                client,
                &token_uri,
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", id),
                    ("client_secret", secret),
                    ("refresh_token", refresh),
                ],
                &what,
            )
        }
        Some(other) => Err(KeyFailure::new(
            FailureKind::Unsupported,
            format!(
                "the Google credentials in {origin} are of type {other:?}, which sops-rs does not support"
            ),
        )
        .with_hint(
            "use a service account key or `gcloud auth application-default login`, or set \
             GOOGLE_OAUTH_ACCESS_TOKEN=$(gcloud auth print-access-token)",
        )),
        None => Err(source_failure(origin, "it has no `type` field")),
    }
}

/// A JSON value with secrets in it, wiped when dropped.
struct SecretJson(serde_json::Value);

impl Drop for SecretJson {
    fn drop(&mut self) {
        if let serde_json::Value::Object(map) = &mut self.0 {
            for value in map.values_mut() {
                if let serde_json::Value::String(s) = value {
                    zeroize::Zeroize::zeroize(s);
                }
            }
        }
    }
}

/// An RS256 JWT asserting the service account, for the token endpoint
/// (Google's "OAuth 2.0 for server to server applications").
fn signed_jwt(email: &str, key_id: Option<&str>, pem: &str, audience: &str) -> Result<String, String> {
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|_| "private_key is not an RSA private key in PEM form".to_owned())?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let mut header = serde_json::json!({ "alg": "RS256", "typ": "JWT" });
    if let Some(id) = key_id {
        header["kid"] = id.into();
    }
    let claims = serde_json::json!({
        "iss": email,
        "scope": SCOPE,
        "aud": audience,
        "iat": now,
        "exp": now + 3600,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let digest = sha2::Sha256::digest(signing_input.as_bytes());
    // Blinded signing (a random factor per signature) against timing attacks.
    let signature = key
        .sign_with_rng(&mut rsa::rand_core::OsRng, rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest)
        .map_err(|e| format!("signing the token request failed: {e}"))?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// POST a grant to a token endpoint and read `access_token`/`expires_in`.
fn exchange(
    client: &HttpClient,
    token_uri: &str,
    form: &[(&str, &str)],
    what: &str,
) -> Result<BearerToken, KeyFailure> {
    let endpoint = http::endpoint_of(token_uri);
    let reply = client.request("POST", token_uri, &[], Body::Form(form), false).map_err(|e| {
        KeyFailure::new(FailureKind::IdentitySource, format!("cannot get an access token for {what}: {e}"))
    })?;
    if !reply.is_success() {
        return Err(KeyFailure::new(
            FailureKind::IdentitySource,
            format!("the token endpoint {endpoint} refused {what}: {}", http::error_summary(&reply)),
        )
        .with_hint("the key may have been deleted or the refresh token revoked; create new credentials"));
    }
    token_from_reply(&reply.json(), what).ok_or_else(|| {
        KeyFailure::new(
            FailureKind::IdentitySource,
            format!("the token endpoint {endpoint} answered without an access_token for {what}"),
        )
    })
}

fn token_from_reply(json: &serde_json::Value, source: &str) -> Option<BearerToken> {
    let token = json["access_token"].as_str().filter(|t| !t.is_empty())?;
    Some(BearerToken::new(token.to_owned(), http::json_seconds(&json["expires_in"]), source))
}

enum MetadataError {
    /// Not on GCE (nothing answered): one more place looked.
    Unreachable(String),
    /// The server answered, but gave no token.
    Failed(KeyFailure),
}

/// The default service account's token from the GCE metadata server.
/// Without `GCE_METADATA_HOST` the link-local address is probed with a
/// one-second connect timeout, as Go's client does, since off GCE nothing
/// is there.
fn metadata_token(env: &Environment, client: &HttpClient) -> Result<BearerToken, MetadataError> {
    let (host, probe) = match env.non_empty(METADATA_HOST_VAR) {
        Some(host) => (host.to_owned(), false),
        None => (DEFAULT_METADATA_HOST.to_owned(), true),
    };
    let url = format!("http://{host}/computeMetadata/v1/instance/service-accounts/default/token");
    let source = format!("the GCE metadata server ({host})");
    let reply = match client.request("GET", &url, &[("Metadata-Flavor", "Google")], Body::None, probe) {
        Ok(reply) => reply,
        Err(e) if e.unreachable => {
            return Err(MetadataError::Unreachable(format!(
                "the GCE metadata server at http://{host} did not answer ({})",
                e.message.rsplit(": ").next().unwrap_or("no answer")
            )));
        }
        Err(e) => return Err(MetadataError::Failed(KeyFailure::new(FailureKind::IdentitySource, e.message))),
    };
    if !reply.is_success() {
        return Err(MetadataError::Failed(
            KeyFailure::new(
                FailureKind::IdentitySource,
                format!("{source} gave no token: {}", http::error_summary(&reply)),
            )
            .with_hint("the instance may have no service account attached, or lack the cloudkms scope"),
        ));
    }
    token_from_reply(&reply.json(), &source).ok_or_else(|| {
        MetadataError::Failed(KeyFailure::new(
            FailureKind::IdentitySource,
            format!("{source} answered without an access_token"),
        ))
    })
}

#[cfg(test)]
pub(super) fn signed_jwt_for_tests(email: &str, pem: &str, audience: &str) -> Result<String, String> {
    signed_jwt(email, Some("test-key-id"), pem, audience)
}
