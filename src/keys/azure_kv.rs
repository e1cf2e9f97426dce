//! Azure Key Vault master keys (spec 6.5), over the REST API.
//!
//! A Key Vault key wraps the data key with `RSA-OAEP-256` through two
//! calls, `encrypt` and `decrypt`, on `{vault}/keys/{name}/{version}`; the
//! official SDK (typespec, reqwest, tokio: ~180 crates) is not needed for
//! that, so this module speaks REST through the shared `http` layer. Three
//! decisions shape it:
//!
//! * **Where the token may go.** An Azure AD token for Key Vault opens
//!   every vault the identity can use, and the vault URL comes from the
//!   file being decrypted, which may come from anyone. The Azure SDK guards
//!   this with its challenge check (the vault must be under the domain the
//!   token is for); we do the same up front: the vault URL must be `https`
//!   on a Key Vault domain (`*.vault.azure.net`, the sovereign clouds, and
//!   Managed HSM), and the token's resource is derived from that domain.
//!   Tests redirect requests with `SOPS_RS_AZURE_KEYVAULT_ENDPOINT`, which
//!   accepts only https or a loopback http server, and the file keeps its
//!   real-looking URL.
//! * **Versions.** sops records the key version it encrypted with. When the
//!   configured key has none, the current one is looked up (`GET
//!   {vault}/keys/{name}`, version from `key.kid`) at encryption time and
//!   written to the file, so later rotations of the key do not orphan it.
//! * **Credentials** (`credentials.rs`) follow the Azure default chain as
//!   sops's Go SDK does: client secret from the environment, workload
//!   identity, managed identity, then the Azure CLI; the failure lists every
//!   source and why it did not apply.
//!
//! `enc` is base64url without padding of the RSA-OAEP ciphertext, as sops
//! writes it.

mod credentials;
#[cfg(test)]
mod tests;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroizing;

use super::http::{self, Body, Reply};
use super::{AzureKvKey, FailureKind, KeyFailure, KeyServices};
use crate::secret::SecretVec;
use crate::timestamp::Timestamp;

pub const API_VERSION: &str = "7.4";
/// Replaces the scheme and host of every vault URL (tests point it at a
/// local server).
pub const ENDPOINT_VAR: &str = "SOPS_RS_AZURE_KEYVAULT_ENDPOINT";
pub use credentials::{AUTHORITY_VAR, IMDS_VAR};

/// Key Vault DNS suffixes, each with the token resource that serves it.
const VAULT_DOMAINS: [(&str, &str); 7] = [
    ("vault.azure.net", "https://vault.azure.net"),
    ("vault.azure.cn", "https://vault.azure.cn"),
    ("vault.usgovcloudapi.net", "https://vault.usgovcloudapi.net"),
    ("vault.microsoftazure.de", "https://vault.microsoftazure.de"),
    ("managedhsm.azure.net", "https://managedhsm.azure.net"),
    ("managedhsm.azure.cn", "https://managedhsm.azure.cn"),
    ("managedhsm.usgovcloudapi.net", "https://managedhsm.usgovcloudapi.net"),
];

impl AzureKvKey {
    /// Encrypt `secret` with this key into `enc`, resolving and recording
    /// the key version first when none is configured.
    pub fn wrap(&mut self, secret: &[u8], services: &KeyServices) -> Result<(), KeyFailure> {
        let target = Target::new(self, services)?;
        if self.version.is_empty() {
            self.version = current_version(&target, &self.name, services)?;
        }
        check_name("version", &self.version)?;
        let body = serde_json::json!({ "alg": "RSA-OAEP-256", "value": URL_SAFE_NO_PAD.encode(secret) });
        let body = WipedJson(body);
        let path = format!("/keys/{}/{}/encrypt", self.name, self.version);
        let reply = call(&target, "POST", &path, Some(&body.0), "encrypt", services)?;
        let ciphertext = reply.json()["value"]
            .as_str()
            .and_then(decode_base64url)
            .ok_or_else(|| malformed("encrypt", "no base64url `value` field"))?;
        self.enc = URL_SAFE_NO_PAD.encode(ciphertext);
        self.created_at = Timestamp::now_utc_seconds().to_rfc3339();
        Ok(())
    }

    /// Decrypt `enc` with this key version.
    pub fn unwrap(&self, services: &KeyServices) -> Result<SecretVec, KeyFailure> {
        let target = Target::new(self, services)?;
        if self.version.is_empty() {
            return Err(KeyFailure::new(
                FailureKind::Corrupt,
                "this Azure Key Vault entry has no key version",
            )
            .with_hint("sops always records the version; the file's metadata was edited"));
        }
        check_name("version", &self.version)?;
        let ciphertext = decode_base64url(&self.enc).ok_or_else(|| {
            KeyFailure::new(
                FailureKind::Corrupt,
                "the enc of this Azure Key Vault key is not base64url: the file is damaged",
            )
        })?;
        let body = serde_json::json!({ "alg": "RSA-OAEP-256", "value": URL_SAFE_NO_PAD.encode(ciphertext) });
        let path = format!("/keys/{}/{}/decrypt", self.name, self.version);
        let reply = call(&target, "POST", &path, Some(&body), "decrypt", services)?;
        let json = WipedJson(reply.json());
        let plaintext = json.0["value"]
            .as_str()
            .and_then(decode_base64url)
            .ok_or_else(|| malformed("decrypt", "no base64url `value` field"))?;
        Ok(SecretVec::new(plaintext))
    }
}

/// sops writes base64url without padding; accept padded input too.
fn decode_base64url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim().trim_end_matches('=')).ok()
}

/// A JSON value holding a secret, wiped when dropped.
struct WipedJson(serde_json::Value);

impl Drop for WipedJson {
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

/// Where requests for one key go, and which token they need.
struct Target {
    /// `https://<vault host>` or the endpoint override.
    base: String,
    /// The token resource for the vault's cloud, e.g. `https://vault.azure.net`.
    resource: &'static str,
}

impl Target {
    fn new(key: &AzureKvKey, services: &KeyServices) -> Result<Target, KeyFailure> {
        check_name("key name", &key.name)?;
        let resource = vault_resource(&key.vault_url)?;
        let base = match services.env().non_empty(ENDPOINT_VAR) {
            None => key.vault_url.trim_end_matches('/').to_owned(),
            Some(url) if http::is_trusted_url(url) => http::endpoint_of(url),
            Some(url) => {
                return Err(KeyFailure::new(
                    FailureKind::InvalidKey,
                    format!(
                        "{ENDPOINT_VAR}={} is refused: it must be https (or http on 127.0.0.1)",
                        http::endpoint_of(url)
                    ),
                ));
            }
        };
        Ok(Target { base, resource })
    }
}

/// The token resource for a vault URL, which must be `https://<vault>.<Key
/// Vault domain>` with nothing after the host but a `/`.
pub fn vault_resource(vault_url: &str) -> Result<&'static str, KeyFailure> {
    let refuse = |why: &str| {
        KeyFailure::new(
            FailureKind::InvalidKey,
            format!("the Azure Key Vault URL {vault_url:?} is refused: {why}"),
        )
        .with_hint("a vault URL looks like https://<vault name>.vault.azure.net")
    };
    let rest = vault_url.strip_prefix("https://").ok_or_else(|| {
        refuse("only https vault URLs are used, so that the access token is never sent in clear")
    })?;
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#', '@']) {
        return Err(refuse("it must be the vault's address only, without a path"));
    }
    let host = authority.split(':').next().unwrap_or("").to_ascii_lowercase();
    VAULT_DOMAINS
        .iter()
        .find(|(domain, _)| host.strip_suffix(domain).is_some_and(|name| name.len() > 1 && name.ends_with('.')))
        .map(|(_, resource)| *resource)
        .ok_or_else(|| {
            refuse("it is not on a Key Vault domain (*.vault.azure.net, the sovereign clouds, or Managed HSM), and an Azure token is only sent there")
        })
}

/// Key names and versions go into the URL path: letters, digits and `-`.
fn check_name(what: &str, value: &str) -> Result<(), KeyFailure> {
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Ok(());
    }
    Err(KeyFailure::new(
        FailureKind::InvalidKey,
        format!("the Azure Key Vault {what} {value:?} is not valid (letters, digits and - only)"),
    ))
}

/// The key's current version, from `key.kid` of `GET /keys/{name}`.
fn current_version(target: &Target, name: &str, services: &KeyServices) -> Result<String, KeyFailure> {
    let reply =
        call(target, "GET", &format!("/keys/{name}"), None, "look up the current version of", services)?;
    let json = reply.json();
    if json["attributes"]["enabled"] == serde_json::Value::Bool(false) {
        return Err(KeyFailure::new(FailureKind::Provider, format!("the key {name} is disabled"))
            .with_hint("enable the key in the vault, or configure an enabled version"));
    }
    json["key"]["kid"]
        .as_str()
        .and_then(|kid| kid.trim_end_matches('/').rsplit('/').next())
        .filter(|v| !v.is_empty() && *v != name)
        .map(str::to_owned)
        .ok_or_else(|| malformed("key lookup", "no `key.kid` with a version"))
}

/// One authenticated call. A 401 drops the cached token, so the next key
/// fetches a fresh one.
fn call(
    target: &Target,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
    operation: &str,
    services: &KeyServices,
) -> Result<Reply, KeyFailure> {
    let rest = services.rest();
    let scope = format!("azure {}", target.resource);
    let token = rest
        .tokens
        .get_or_fetch(&scope, || credentials::fetch_token(services.env(), &rest.client, target.resource))?;
    let url = format!("{}{path}?api-version={API_VERSION}", target.base);
    let authorization = Zeroizing::new(format!("Bearer {}", token.expose()));
    let body = body.map_or(Body::None, Body::Json);
    let reply = rest
        .client
        .request(method, &url, &[("Authorization", authorization.as_str())], body, false)
        .map_err(|e| {
            KeyFailure::new(FailureKind::Provider, format!("Azure Key Vault {operation} failed: {e}"))
                .with_hint("check the vault URL, the network connection and proxy settings (HTTPS_PROXY)")
        })?;
    if reply.is_success() {
        return Ok(reply);
    }
    if reply.status == 401 {
        rest.tokens.forget(&scope);
    }
    Err(service_failure(&reply, operation, &target.base, &token.source))
}

fn service_failure(reply: &Reply, operation: &str, endpoint: &str, token_source: &str) -> KeyFailure {
    let json = reply.json();
    let inner = json["error"]["innererror"]["code"].as_str().unwrap_or("");
    let said = format!("Key Vault at {endpoint} answered {}", http::error_summary(reply));
    match reply.status {
        401 => KeyFailure::new(
            FailureKind::IdentitySource,
            format!("{said}: the token from {token_source} was not accepted"),
        )
        .with_hint("the token may be for another tenant, or expired; check AZURE_TENANT_ID or run `az login` again"),
        403 if inner == "KeyDisabled" || reply.body.contains("disabled") => {
            KeyFailure::new(FailureKind::Provider, format!("the key is disabled ({said})"))
                .with_hint("enable the key or this key version in the vault")
        }
        403 => KeyFailure::new(
            FailureKind::Provider,
            format!("access denied: cannot {operation} with this key ({said}; token from {token_source})"),
        )
        .with_hint(
            "give the identity the \"Key Vault Crypto User\" role on the vault (RBAC), or the encrypt, decrypt \
             and get key permissions (access policy)",
        ),
        404 => KeyFailure::new(FailureKind::InvalidKey, format!("key not found ({said})"))
            .with_hint("check the vault, key name and version"),
        400 if operation == "decrypt" => KeyFailure::new(
            FailureKind::WrongKey,
            format!("the key could not decrypt this data key ({said}): it was encrypted with another key or version, or the enc was damaged"),
        ),
        429 | 500..=599 => KeyFailure::new(FailureKind::Provider, format!("Azure Key Vault {operation} failed: {said}"))
            .with_hint("the service is unavailable or throttling; try again later"),
        _ => KeyFailure::new(FailureKind::Provider, format!("Azure Key Vault {operation} failed: {said}")),
    }
}

fn malformed(operation: &str, why: &str) -> KeyFailure {
    KeyFailure::new(
        FailureKind::Provider,
        format!("Azure Key Vault {operation} answered without the expected result: {why}"),
    )
}
