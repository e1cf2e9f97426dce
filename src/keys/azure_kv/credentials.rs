//! Azure AD tokens for Key Vault, from the sources of the Azure default
//! credential chain that sops uses, in its order:
//!
//! 1. a client secret in the environment (`AZURE_TENANT_ID`,
//!    `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`);
//! 2. workload identity (`AZURE_FEDERATED_TOKEN_FILE`, with the tenant and
//!    client IDs), as Kubernetes projects it;
//! 3. managed identity, from the instance metadata service;
//! 4. the Azure CLI (`az account get-access-token`).
//!
//! A source that is configured but fails (a wrong secret, an unreadable
//! token file) ends the search with its own failure: the user chose it, and
//! falling through to, say, a CLI login for another account would hide the
//! mistake. Sources that are absent are noted, and the notes become the
//! "no credentials" message.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use zeroize::Zeroizing;

use crate::env::Environment;
use crate::keys::http::{self, BearerToken, Body, HttpClient};
use crate::keys::{FailureKind, KeyFailure};

/// Replaces `https://login.microsoftonline.com` (Azure SDK convention).
pub const AUTHORITY_VAR: &str = "AZURE_AUTHORITY_HOST";
const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
/// Replaces the managed identity token URL (tests point it at loopback).
pub const IMDS_VAR: &str = "SOPS_RS_AZURE_IMDS_ENDPOINT";
const DEFAULT_IMDS: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

/// A token for `resource` (e.g. `https://vault.azure.net`).
pub fn fetch_token(
    env: &Environment,
    client: &HttpClient,
    resource: &str,
) -> Result<BearerToken, KeyFailure> {
    let mut looked: Vec<String> = Vec::new();
    let scope = format!("{resource}/.default");
    let tenant = env.non_empty("AZURE_TENANT_ID");
    let client_id = env.non_empty("AZURE_CLIENT_ID");

    // 1. Client secret.
    match (tenant, client_id, env.non_empty("AZURE_CLIENT_SECRET")) {
        (Some(tenant), Some(id), Some(secret)) => {
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
                ("scope", &scope),
            ];
            return token_endpoint(
                env,
                client,
                tenant,
                &form,
                &format!("the client secret of {id} (AZURE_CLIENT_SECRET)"),
            );
        }
        (_, _, Some(_)) => {
            looked.push("AZURE_CLIENT_SECRET is set, but AZURE_TENANT_ID or AZURE_CLIENT_ID is not".into())
        }
        _ if env.non_empty("AZURE_CLIENT_CERTIFICATE_PATH").is_some() => {
            return Err(KeyFailure::new(
                FailureKind::Unsupported,
                "AZURE_CLIENT_CERTIFICATE_PATH is set, but sops-rs does not support certificate credentials yet",
            )
            .with_hint("use a client secret (AZURE_CLIENT_SECRET), workload identity, or `az login`"));
        }
        _ => looked.push(
            "environment: AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are not all set".into(),
        ),
    }

    // 2. Workload identity.
    match (env.non_empty("AZURE_FEDERATED_TOKEN_FILE"), tenant, client_id) {
        (Some(file), Some(tenant), Some(id)) => {
            let assertion = std::fs::read_to_string(file).map(Zeroizing::new).map_err(|e| {
                KeyFailure::new(
                    FailureKind::IdentitySource,
                    format!("cannot read AZURE_FEDERATED_TOKEN_FILE {file}: {e}"),
                )
            })?;
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                ("client_assertion", assertion.trim()),
                ("scope", &scope),
            ];
            return token_endpoint(
                env,
                client,
                tenant,
                &form,
                &format!("workload identity {id} (AZURE_FEDERATED_TOKEN_FILE)"),
            );
        }
        (Some(_), _, _) => looked
            .push("AZURE_FEDERATED_TOKEN_FILE is set, but AZURE_TENANT_ID or AZURE_CLIENT_ID is not".into()),
        _ => looked.push("workload identity: AZURE_FEDERATED_TOKEN_FILE is not set".into()),
    }

    // 3. Managed identity.
    match managed_identity(env, client, resource) {
        Ok(token) => return Ok(token),
        Err(Absent(note)) => looked.push(note),
    }

    // 4. Azure CLI.
    match azure_cli(env, resource, tenant)? {
        Some(token) => return Ok(token),
        None => looked.push("the Azure CLI (az) is not in PATH".into()),
    }

    Err(KeyFailure::new(FailureKind::NoIdentity, format!("no Azure credentials found: {}", looked.join("; ")))
        .with_hint("run `az login`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service principal"))
}

/// A source that is not there; the note says where we looked.
struct Absent(String);

/// `{authority}/{tenant}/oauth2/v2.0/token` with a client-credentials form.
fn token_endpoint(
    env: &Environment,
    client: &HttpClient,
    tenant: &str,
    form: &[(&str, &str)],
    what: &str,
) -> Result<BearerToken, KeyFailure> {
    let authority = env.non_empty(AUTHORITY_VAR).unwrap_or(DEFAULT_AUTHORITY).trim_end_matches('/');
    if !http::is_trusted_url(authority) {
        return Err(KeyFailure::new(
            FailureKind::IdentitySource,
            format!("{AUTHORITY_VAR}={} is refused: it must be https", http::endpoint_of(authority)),
        ));
    }
    if tenant.is_empty() || !tenant.chars().all(|c| c.is_ascii_alphanumeric() || "-.".contains(c)) {
        return Err(KeyFailure::new(
            FailureKind::IdentitySource,
            format!("AZURE_TENANT_ID {tenant:?} is not a tenant ID or domain"),
        ));
    }
    let url = format!("{authority}/{tenant}/oauth2/v2.0/token");
    let reply = client.request("POST", &url, &[], Body::Form(form), false).map_err(|e| {
        KeyFailure::new(FailureKind::IdentitySource, format!("cannot get an Azure token with {what}: {e}"))
    })?;
    if !reply.is_success() {
        return Err(KeyFailure::new(
            FailureKind::IdentitySource,
            format!("Azure AD ({}) refused {what}: {}", http::endpoint_of(&url), http::error_summary(&reply)),
        )
        .with_hint("check the tenant ID, client ID and secret; secrets expire and can be renewed in the app registration"));
    }
    token_from_reply(&reply.json(), what).ok_or_else(|| {
        KeyFailure::new(
            FailureKind::IdentitySource,
            format!("Azure AD answered without an access_token for {what}"),
        )
    })
}

fn token_from_reply(json: &serde_json::Value, source: &str) -> Option<BearerToken> {
    let token = json["access_token"].as_str().filter(|t| !t.is_empty())?;
    Some(BearerToken::new(token.to_owned(), http::json_seconds(&json["expires_in"]), source))
}

/// The instance metadata service's token for the (optionally chosen, by
/// `AZURE_CLIENT_ID`) managed identity. Off Azure nothing answers; the
/// probe gives up after a second.
fn managed_identity(env: &Environment, client: &HttpClient, resource: &str) -> Result<BearerToken, Absent> {
    let (base, probe) = match env.non_empty(IMDS_VAR) {
        Some(url) => (url.to_owned(), false),
        None => (DEFAULT_IMDS.to_owned(), true),
    };
    let mut url = format!("{base}?api-version=2018-02-01&resource={}", http::percent_encode(resource));
    if let Some(id) = env.non_empty("AZURE_CLIENT_ID") {
        url.push_str(&format!("&client_id={}", http::percent_encode(id)));
    }
    let shown = http::endpoint_of(&base);
    let reply = client.request("GET", &url, &[("Metadata", "true")], Body::None, probe).map_err(|e| {
        Absent(format!(
            "managed identity: the metadata service at {shown} did not answer ({})",
            tail(&e.message)
        ))
    })?;
    if !reply.is_success() {
        // 400 "Identity not found" is how IMDS says the machine has none.
        return Err(Absent(format!(
            "managed identity: {shown} gave no token ({})",
            http::error_summary(&reply)
        )));
    }
    token_from_reply(&reply.json(), &format!("the managed identity ({shown})"))
        .ok_or_else(|| Absent(format!("managed identity: {shown} answered without an access_token")))
}

fn tail(message: &str) -> &str {
    message.rsplit(": ").next().unwrap_or(message)
}

/// `az account get-access-token`, run with our environment only. `None`
/// when `az` is not installed; a failure when it is but gives no token.
fn azure_cli(
    env: &Environment,
    resource: &str,
    tenant: Option<&str>,
) -> Result<Option<BearerToken>, KeyFailure> {
    let Some(az) = find_in_path(env, "az") else { return Ok(None) };
    let mut command = Command::new(&az);
    command.args(["account", "get-access-token", "--output", "json", "--resource", resource]);
    if let Some(tenant) = tenant {
        command.args(["--tenant", tenant]);
    }
    command.env_clear().envs(env.vars()).stdin(std::process::Stdio::null());
    let output = command.output().map_err(|e| {
        KeyFailure::new(
            FailureKind::IdentitySource,
            format!("cannot run the Azure CLI ({}): {e}", az.display()),
        )
    })?;
    let stdout = Zeroizing::new(output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("no message");
        let hint = if stderr.contains("az login") {
            "you are not logged in to the Azure CLI: run `az login`"
        } else {
            "run `az account get-access-token --resource https://vault.azure.net` to see the problem"
        };
        return Err(KeyFailure::new(
            FailureKind::IdentitySource,
            format!(
                "the Azure CLI gave no token ({} exited with {}): {}",
                az.display(),
                output.status,
                http::shorten(first, 300)
            ),
        )
        .with_hint(hint));
    }
    let mut json: serde_json::Value = serde_json::from_slice(&stdout).unwrap_or(serde_json::Value::Null);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    // `expires_on` (Unix seconds) in az 2.54 and later; older ones give only
    // a local time string, so assume a few minutes.
    let lifetime = json["expires_on"]
        .as_u64()
        .or_else(|| json["expires_on"].as_str().and_then(|s| s.parse().ok()))
        .map(|at: u64| Duration::from_secs(at.saturating_sub(now)))
        .unwrap_or(Duration::from_secs(300));
    match json.get_mut("accessToken") {
        // Moved out, not copied, so the only copy is the wiped one.
        Some(serde_json::Value::String(token)) if !token.is_empty() => {
            Ok(Some(BearerToken::new(std::mem::take(token), Some(lifetime), "the Azure CLI")))
        }
        _ => Err(KeyFailure::new(FailureKind::IdentitySource, "the Azure CLI printed no accessToken")),
    }
}

/// The first executable `name` in the environment's PATH.
fn find_in_path(env: &Environment, name: &str) -> Option<PathBuf> {
    let path = env.var("PATH")?;
    std::env::split_paths(path).map(|dir| dir.join(name)).find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}
