//! GCP Cloud KMS master keys (spec 6.4), over the REST API.
//!
//! The whole protocol is two JSON calls, `:encrypt` and `:decrypt` on the
//! key's resource name, behind an OAuth bearer token; the official client
//! would bring a gRPC stack and some two hundred crates for that. So this
//! module speaks REST through the shared `http` layer, and the real work is
//! in two places:
//!
//! * **Finding a token** (`credentials.rs`), in the order sops's Go client
//!   uses: `GOOGLE_CREDENTIALS` (a path or inline JSON), then
//!   `GOOGLE_OAUTH_ACCESS_TOKEN`, then application default credentials
//!   (`GOOGLE_APPLICATION_CREDENTIALS`, else gcloud's
//!   `application_default_credentials.json`), then the GCE metadata
//!   server. Service-account keys are exchanged for a token with an RS256
//!   JWT we sign ourselves; gcloud user credentials with their refresh
//!   token. When nothing is found, the failure lists every place looked.
//! * **Saying what went wrong**: the service's status and error code are
//!   turned into the failure kinds the group report understands: access
//!   denied (with the role that is missing), key not found, key disabled,
//!   a ciphertext another key made, a network error naming the endpoint.
//!
//! `enc` is the standard padded base64 of the ciphertext bytes, which is
//! what the REST API returns and what sops stores. The data key goes out and
//! comes back as base64 inside JSON; both buffers are wiped after use.

mod credentials;
#[cfg(test)]
mod tests;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::http::{self, Body, Reply};
use super::{FailureKind, GcpKmsKey, KeyFailure, KeyServices};
use crate::secret::SecretVec;
use crate::timestamp::Timestamp;

/// The Cloud KMS REST endpoint; `SOPS_RS_GCP_KMS_ENDPOINT` replaces it
/// (tests point it at a local server).
pub const DEFAULT_ENDPOINT: &str = "https://cloudkms.googleapis.com";
pub const ENDPOINT_VAR: &str = "SOPS_RS_GCP_KMS_ENDPOINT";

/// The token cache's name for Cloud KMS tokens.
const TOKEN_SCOPE: &str = "gcp";

impl GcpKmsKey {
    /// Encrypt `secret` with this key into `enc` (standard base64 of the
    /// ciphertext) and stamp `created_at`.
    pub fn wrap(&mut self, secret: &[u8], services: &KeyServices) -> Result<(), KeyFailure> {
        let body = serde_json::json!({ "plaintext": STANDARD.encode(secret) });
        let body = ZeroizingJson(body);
        let reply = call(&self.resource_id, "encrypt", &body.0, services)?;
        let json = reply.json();
        let ciphertext = json["ciphertext"]
            .as_str()
            .and_then(|c| STANDARD.decode(c).ok())
            .ok_or_else(|| malformed(&self.resource_id, "encrypt", "no base64 `ciphertext` field"))?;
        self.enc = STANDARD.encode(ciphertext);
        self.created_at = Timestamp::now_utc_seconds().to_rfc3339();
        Ok(())
    }

    /// Decrypt `enc` with this key.
    pub fn unwrap(&self, services: &KeyServices) -> Result<SecretVec, KeyFailure> {
        let ciphertext = STANDARD.decode(self.enc.trim()).map_err(|_| {
            KeyFailure::new(
                FailureKind::Corrupt,
                "the enc of this GCP KMS key is not base64: the file is damaged",
            )
        })?;
        let body = serde_json::json!({ "ciphertext": STANDARD.encode(ciphertext) });
        let reply = call(&self.resource_id, "decrypt", &body, services)?;
        let json = ZeroizingJson(reply.json());
        let plaintext = json.0["plaintext"]
            .as_str()
            .and_then(|p| STANDARD.decode(p).ok())
            .ok_or_else(|| malformed(&self.resource_id, "decrypt", "no base64 `plaintext` field"))?;
        Ok(crate::secret::SecretVec::new(plaintext))
    }
}

/// A JSON value that holds a secret: its strings are wiped when dropped.
struct ZeroizingJson(serde_json::Value);

impl Drop for ZeroizingJson {
    fn drop(&mut self) {
        fn wipe(value: &mut serde_json::Value) {
            match value {
                serde_json::Value::String(s) => zeroize::Zeroize::zeroize(s),
                serde_json::Value::Array(items) => items.iter_mut().for_each(wipe),
                serde_json::Value::Object(map) => map.values_mut().for_each(wipe),
                _ => {}
            }
        }
        wipe(&mut self.0);
    }
}

/// `projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>`, each part
/// non-empty and without `/`.
pub fn validate_resource_id(resource_id: &str) -> Result<(), KeyFailure> {
    let parts: Vec<&str> = resource_id.split('/').collect();
    let shape = ["projects", "", "locations", "", "keyRings", "", "cryptoKeys", ""];
    let valid = parts.len() == shape.len()
        && parts.iter().zip(shape).all(|(part, want)| {
            if want.is_empty() {
                !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            } else {
                *part == want
            }
        });
    if valid {
        return Ok(());
    }
    Err(KeyFailure::new(FailureKind::InvalidKey, format!("{resource_id:?} is not a GCP KMS key resource ID"))
        .with_hint("the form is projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>"))
}

/// The endpoint from the environment, checked: credentials go only to
/// https or to a loopback test server.
fn endpoint(services: &KeyServices) -> Result<String, KeyFailure> {
    match services.env().non_empty(ENDPOINT_VAR) {
        None => Ok(DEFAULT_ENDPOINT.to_owned()),
        Some(url) if http::is_trusted_url(url) => Ok(url.trim_end_matches('/').to_owned()),
        Some(url) => Err(KeyFailure::new(
            FailureKind::InvalidKey,
            format!(
                "{ENDPOINT_VAR}={} is refused: it must be an https URL (or http on 127.0.0.1)",
                http::endpoint_of(url)
            ),
        )),
    }
}

/// One authenticated call; any answer but success becomes a failure that
/// says what the service said and what to do.
fn call(
    resource_id: &str,
    method: &str,
    body: &serde_json::Value,
    services: &KeyServices,
) -> Result<Reply, KeyFailure> {
    validate_resource_id(resource_id)?;
    let endpoint = endpoint(services)?;
    let rest = services.rest();
    let token =
        rest.tokens.get_or_fetch(TOKEN_SCOPE, || credentials::fetch_token(services.env(), &rest.client))?;
    let url = format!("{endpoint}/v1/{resource_id}:{method}");
    let authorization = Zeroizing::new(format!("Bearer {}", token.expose()));
    let reply = rest
        .client
        .request("POST", &url, &[("Authorization", authorization.as_str())], Body::Json(body), false)
        .map_err(|e| {
            KeyFailure::new(FailureKind::Provider, format!("Cloud KMS {method} failed: {e}")).with_hint(
                "check the network connection, proxy settings (HTTPS_PROXY) and SOPS_RS_GCP_KMS_ENDPOINT",
            )
        })?;
    if reply.is_success() {
        return Ok(reply);
    }
    if reply.status == 401 {
        rest.tokens.forget(TOKEN_SCOPE);
    }
    Err(service_failure(&reply, method, &endpoint, &token.source))
}

/// Cloud KMS's error statuses, as failures.
fn service_failure(reply: &Reply, method: &str, endpoint: &str, token_source: &str) -> KeyFailure {
    let json = reply.json();
    let status = json["error"]["status"].as_str().unwrap_or("");
    let summary = http::error_summary(reply);
    let said = format!("Cloud KMS at {endpoint} answered {summary}");
    match (reply.status, status) {
        (401, _) | (_, "UNAUTHENTICATED") => KeyFailure::new(
            FailureKind::IdentitySource,
            format!("{said}: the credentials from {token_source} were not accepted"),
        )
        .with_hint("the token may have expired or been revoked; renew the credentials (gcloud auth application-default login)"),
        (403, _) | (_, "PERMISSION_DENIED") => KeyFailure::new(
            FailureKind::Provider,
            format!("access denied to {method} with this key ({said}; credentials from {token_source})"),
        )
        .with_hint("the account needs the role roles/cloudkms.cryptoKeyEncrypterDecrypter on the key"),
        (404, _) | (_, "NOT_FOUND") => KeyFailure::new(FailureKind::InvalidKey, format!("key not found ({said})"))
            .with_hint("check the project, location, key ring and key names in the resource ID"),
        (_, "FAILED_PRECONDITION") => {
            KeyFailure::new(FailureKind::Provider, format!("the key cannot be used ({said})"))
                .with_hint("the key's primary version may be disabled or destroyed; enable it in Cloud KMS")
        }
        (400, _) | (_, "INVALID_ARGUMENT") if method == "decrypt" => KeyFailure::new(
            FailureKind::WrongKey,
            format!("the key could not decrypt this data key ({said}): it was encrypted with another key, or the enc was damaged"),
        ),
        (429, _) | (500..=599, _) => {
            KeyFailure::new(FailureKind::Provider, format!("Cloud KMS {method} failed: {said}"))
                .with_hint("the service is unavailable or throttling; try again later")
        }
        _ => KeyFailure::new(FailureKind::Provider, format!("Cloud KMS {method} failed: {said}")),
    }
}

fn malformed(resource_id: &str, method: &str, why: &str) -> KeyFailure {
    KeyFailure::new(
        FailureKind::Provider,
        format!("Cloud KMS {method} for {resource_id} answered without the expected result: {why}"),
    )
}
