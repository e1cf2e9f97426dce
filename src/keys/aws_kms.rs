//! AWS KMS master keys (spec 6.3), through the official SDK.
//!
//! Unlike GCP and Azure, AWS is spoken through `aws-sdk-kms`: SigV4
//! signing, the credential chain (environment, shared files and profiles,
//! SSO, `credential_process`, web identity, container and instance
//! metadata) and STS role assumption are too much to redo by hand, and
//! users expect every source the Go SDK under sops honours. The SDK shapes
//! the module in three ways:
//!
//! * **It is async; we are not.** Each [`KeyServices`] owns one
//!   current-thread tokio runtime, created the first time an AWS key is
//!   used, and every call blocks on it. Nothing async leaks out. (Calling
//!   in from inside another tokio runtime is refused with a clear failure
//!   rather than the runtime's panic.)
//! * **It reads the process environment; the library must not.** The
//!   config loader is given our [`Environment`] as its environment
//!   (aws-config's `ConfigLoader::env`, compiled in through its
//!   `test-util` feature, which only adds that hook), so credentials, the
//!   profile, `AWS_CONFIG_FILE`, `AWS_ENDPOINT_URL[_KMS|_STS]` and
//!   `AWS_EC2_METADATA_DISABLED` all come from it; proxies (`HTTPS_PROXY`,
//!   `NO_PROXY`) are read from it too and handed to the HTTP connector. What
//!   stays outside: a `credential_process` child inherits the real process
//!   environment, and two debugging switches the SDK reads directly
//!   (`SMITHY_CLIENT_SDK_CUSTOM_PARTITION`, `LOG_SIGNING_SENSITIVE_BODIES`).
//! * **Its errors are generic; ours must say what to do.** Credentials are
//!   resolved explicitly before any KMS call, so "no credentials" (with the
//!   places looked) is told apart from "these credentials were refused",
//!   and KMS's error codes become access denied, key not found or
//!   disabled, a ciphertext that another key or another encryption context
//!   made, or a network error naming the endpoint.
//!
//! One KMS client is built per (region, profile, role) and kept for the
//! life of the `KeyServices`, so a file with many keys resolves credentials
//! and assumes a role once.

#[cfg(test)]
pub(crate) mod moto;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use aws_config::BehaviorVersion;
use aws_sdk_kms::config::{Credentials, ProvideCredentials, Region, SharedCredentialsProvider};
use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{FailureKind, KeyFailure, KeyServices, KmsKey};
use crate::env::Environment;
use crate::secret::SecretVec;
use crate::timestamp::Timestamp;

/// What the AWS provider keeps for the life of a `KeyServices`.
#[derive(Default)]
pub struct AwsServices {
    runtime: OnceLock<Result<tokio::runtime::Runtime, String>>,
    clients: Mutex<HashMap<ClientKey, aws_sdk_kms::Client>>,
}

impl std::fmt::Debug for AwsServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsServices")
            .field("runtime_started", &self.runtime.get().is_some())
            .finish_non_exhaustive()
    }
}

/// Keys that can share one client: same region, profile and role.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct ClientKey {
    region: String,
    profile: String,
    role: String,
}

impl KmsKey {
    /// Encrypt `secret` under this key (with its encryption context) into
    /// `enc`, and stamp `created_at`.
    pub fn wrap(&mut self, secret: &[u8], services: &KeyServices) -> Result<(), KeyFailure> {
        let key = self.clone();
        let blob = run(services, async move {
            let (client, endpoint) = client_for(&key, services).await?;
            let answer = client
                .encrypt()
                .key_id(&key.arn)
                .plaintext(Blob::new(secret.to_vec()))
                .set_encryption_context(context_map(&key))
                .send()
                .await
                .map_err(|e| kms_failure(e, "Encrypt", &endpoint))?;
            answer.ciphertext_blob.map(Blob::into_inner).ok_or_else(|| {
                KeyFailure::new(
                    FailureKind::Provider,
                    format!("KMS Encrypt at {endpoint} returned no ciphertext"),
                )
            })
        })?;
        self.enc = STANDARD.encode(blob);
        self.created_at = Timestamp::now_utc_seconds().to_rfc3339();
        Ok(())
    }

    /// Decrypt `enc` with this key and its encryption context.
    pub fn unwrap(&self, services: &KeyServices) -> Result<SecretVec, KeyFailure> {
        let ciphertext = STANDARD.decode(self.enc.trim()).map_err(|_| {
            KeyFailure::new(
                FailureKind::Corrupt,
                "the enc of this KMS key is not base64: the file is damaged",
            )
        })?;
        run(services, async move {
            let (client, endpoint) = client_for(self, services).await?;
            let mut answer = client
                .decrypt()
                .key_id(&self.arn)
                .ciphertext_blob(Blob::new(ciphertext))
                .set_encryption_context(context_map(self))
                .send()
                .await
                .map_err(|e| kms_failure(e, "Decrypt", &endpoint))?;
            // Taken out of the answer, not copied: this is the only copy.
            answer.plaintext.take().map(|blob| SecretVec::new(blob.into_inner())).ok_or_else(|| {
                KeyFailure::new(
                    FailureKind::Provider,
                    format!("KMS Decrypt at {endpoint} returned no plaintext"),
                )
            })
        })
    }
}

fn context_map(key: &KmsKey) -> Option<HashMap<String, String>> {
    (!key.context.is_empty()).then(|| key.context.iter().cloned().collect())
}

/// The region of a key ARN: `arn:aws[-partition]:kms:<region>:<account>:...`.
pub fn region_of_arn(arn: &str) -> Result<String, KeyFailure> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "kms", region, account, resource]
            if partition.starts_with("aws")
                && !region.is_empty()
                && !account.is_empty()
                && account.bytes().all(|b| b.is_ascii_digit())
                && (resource.starts_with("key/") || resource.starts_with("alias/")) =>
        {
            Ok((*region).to_owned())
        }
        _ => Err(KeyFailure::new(FailureKind::InvalidKey, format!("{arn:?} is not a KMS key ARN"))
            .with_hint("the form is arn:aws:kms:<region>:<account>:key/<key id> (or alias/<name>)")),
    }
}

/// Run `work` on the services' runtime, creating it on first use.
fn run<T>(
    services: &KeyServices,
    work: impl std::future::Future<Output = Result<T, KeyFailure>>,
) -> Result<T, KeyFailure> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(KeyFailure::new(
            FailureKind::Provider,
            "AWS KMS keys cannot be used from inside an async runtime",
        )
        .with_hint("call sops-rs from a blocking thread (e.g. tokio::task::spawn_blocking)"));
    }
    let runtime = services
        .aws()
        .runtime
        .get_or_init(|| {
            tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| {
            KeyFailure::new(FailureKind::Provider, format!("cannot start the AWS SDK's runtime: {e}"))
        })?;
    runtime.block_on(work)
}

/// The client for this key's region, profile and role, with credentials
/// already resolved (and the role already assumed); and the KMS endpoint,
/// for messages.
async fn client_for(
    key: &KmsKey,
    services: &KeyServices,
) -> Result<(aws_sdk_kms::Client, String), KeyFailure> {
    let region = region_of_arn(&key.arn)?;
    let env = services.env();
    let endpoint = kms_endpoint(env, &region);
    let id = ClientKey { region: region.clone(), profile: key.aws_profile.clone(), role: key.role.clone() };
    if let Some(client) = lock(&services.aws().clients).get(&id) {
        return Ok((client.clone(), endpoint));
    }
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .env(sdk_env(env))
        .http_client(http_client(env))
        .region(Region::new(region.clone()));
    if !key.aws_profile.is_empty() {
        loader = loader.profile_name(&key.aws_profile);
    }
    let config = loader.load().await;
    let Some(chain) = config.credentials_provider() else {
        return Err(KeyFailure::new(FailureKind::NoIdentity, "the AWS SDK has no credential chain"));
    };
    let base =
        chain.provide_credentials().await.map_err(|e| credentials_failure(&e, env, &key.aws_profile))?;
    let credentials =
        if key.role.is_empty() { base } else { assume_role(&config, base, &key.role, env, &region).await? };
    let kms_config = aws_sdk_kms::config::Builder::from(&config)
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build();
    let client = aws_sdk_kms::Client::from_conf(kms_config);
    lock(&services.aws().clients).insert(id, client.clone());
    Ok((client, endpoint))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn assume_role(
    config: &aws_config::SdkConfig,
    base: Credentials,
    role: &str,
    env: &Environment,
    region: &str,
) -> Result<Credentials, KeyFailure> {
    let provider = aws_config::sts::AssumeRoleProvider::builder(role)
        .session_name(session_name(&hostname()))
        .configure(config)
        .build_from_provider(base)
        .await;
    provider.provide_credentials().await.map_err(|e| {
        let endpoint = env
            .non_empty("AWS_ENDPOINT_URL_STS")
            .or_else(|| env.non_empty("AWS_ENDPOINT_URL"))
            .map(super::http::endpoint_of)
            .unwrap_or_else(|| format!("https://sts.{region}.amazonaws.com"));
        KeyFailure::new(
            FailureKind::IdentitySource,
            format!("cannot assume role {role} through STS at {endpoint}: {}", DisplayErrorContext(&e)),
        )
        .with_hint("the base credentials need sts:AssumeRole on the role, and the role's trust policy must allow them")
    })
}

/// `sops@<hostname>`, with characters STS refuses removed, at most 64
/// characters (sops's rule).
pub fn session_name(hostname: &str) -> String {
    let cleaned: String =
        hostname.chars().filter(|c| c.is_ascii_alphanumeric() || "=,.@_-".contains(*c)).collect();
    format!("sops@{cleaned}").chars().take(64).collect()
}

/// The host name, from the kernel (no environment variable involved).
fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|path| std::fs::read_to_string(path).ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Our environment in the SDK's form.
fn sdk_env(env: &Environment) -> aws_types::os_shim_internal::Env {
    let vars: HashMap<String, String> = env.vars().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    aws_types::os_shim_internal::Env::from(vars)
}

/// hyper + rustls on ring, with the proxy from our environment (the SDK
/// would otherwise use none, or read the process environment).
fn http_client(env: &Environment) -> aws_sdk_kms::config::SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    let proxy_url = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .find_map(|n| env.non_empty(n))
        .map(str::to_owned);
    let no_proxy = ["NO_PROXY", "no_proxy"].iter().find_map(|n| env.non_empty(n)).unwrap_or("").to_owned();
    let proxy = proxy_url.and_then(|url| ProxyConfig::https(url).ok()).map(|proxy| {
        // Loopback is never proxied (Go's rule), whatever NO_PROXY says.
        let rules = if no_proxy.is_empty() {
            "localhost,127.0.0.1,::1".to_owned()
        } else {
            format!("{no_proxy},localhost,127.0.0.1,::1")
        };
        proxy.no_proxy(rules)
    });
    aws_smithy_http_client::Builder::new().build_with_connector_fn(move |settings, components| {
        let mut builder = aws_smithy_http_client::Connector::builder();
        builder.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            builder.set_sleep_impl(components.sleep_impl());
        }
        builder.set_proxy_config(proxy.clone());
        builder.tls_provider(Provider::Rustls(CryptoMode::Ring)).build()
    })
}

/// The KMS endpoint requests go to, for messages: the override variables
/// the SDK honours, else the regional default.
fn kms_endpoint(env: &Environment, region: &str) -> String {
    if let Some(url) = env.non_empty("AWS_ENDPOINT_URL_KMS").or_else(|| env.non_empty("AWS_ENDPOINT_URL")) {
        // Only scheme, host and port: an override may carry user info.
        return super::http::endpoint_of(url);
    }
    let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    format!("https://kms.{region}.{suffix}")
}

/// The credential chain found nothing, or a source it found failed.
fn credentials_failure(
    error: &aws_credential_types::provider::error::CredentialsError,
    env: &Environment,
    profile: &str,
) -> KeyFailure {
    use aws_credential_types::provider::error::CredentialsError;
    let profile =
        if profile.is_empty() { env.non_empty("AWS_PROFILE").unwrap_or("default") } else { profile };
    if let CredentialsError::CredentialsNotLoaded(_) = error {
        return KeyFailure::new(
            FailureKind::NoIdentity,
            format!("no AWS credentials found; looked in {}", places_looked(env, profile).join("; ")),
        )
        .with_hint(
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (or aws_profile in .sops.yaml) \
             to a profile in ~/.aws/config, or run `aws sso login`",
        );
    }
    KeyFailure::new(
        FailureKind::IdentitySource,
        format!("AWS credentials (profile {profile}) could not be loaded: {}", DisplayErrorContext(error)),
    )
    .with_hint("check the profile in the shared config file, or the SSO login / credential_process it uses")
}

/// What the default chain consulted, as the user would check it.
fn places_looked(env: &Environment, profile: &str) -> Vec<String> {
    let file = |var: &str, default: &str| -> String {
        match env
            .non_empty(var)
            .map(PathBuf::from)
            .or_else(|| env.home_dir().map(|h| h.join(".aws").join(default)))
        {
            Some(path) if path.is_file() => format!("{} (no usable profile {profile})", path.display()),
            Some(path) => format!("{} (not found)", path.display()),
            None => format!("~/.aws/{default} (no HOME)"),
        }
    };
    let imds = match env.var("AWS_EC2_METADATA_DISABLED") {
        Some(v) if v.eq_ignore_ascii_case("true") => {
            "EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)".to_owned()
        }
        _ => "EC2 instance metadata (no answer)".to_owned(),
    };
    vec![
        "the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set)".to_owned(),
        format!("the shared config file {}", file("AWS_CONFIG_FILE", "config")),
        format!("the shared credentials file {}", file("AWS_SHARED_CREDENTIALS_FILE", "credentials")),
        "web identity (AWS_WEB_IDENTITY_TOKEN_FILE not set)".to_owned(),
        "container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set)".to_owned(),
        imds,
    ]
}

/// A failed KMS call, told by its error code.
fn kms_failure<E, R>(error: SdkError<E, R>, operation: &str, endpoint: &str) -> KeyFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let service = match &error {
        SdkError::ServiceError(context) => context.err(),
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            return KeyFailure::new(
                FailureKind::Provider,
                format!("network error: cannot reach AWS KMS at {endpoint}: {}", DisplayErrorContext(&error)),
            )
            .with_hint(
                "check the network, proxy settings (HTTPS_PROXY) and AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL",
            );
        }
        _ => {
            return KeyFailure::new(
                FailureKind::Provider,
                format!("KMS {operation} at {endpoint} failed: {}", DisplayErrorContext(&error)),
            );
        }
    };
    let code = service.code().unwrap_or("unknown error");
    let said = match service.message() {
        Some(message) if !message.is_empty() => format!("{code}: {message}"),
        _ => code.to_owned(),
    };
    let said = format!("KMS {operation} at {endpoint} answered {said}");
    match code {
        "AccessDeniedException" => KeyFailure::new(FailureKind::Provider, format!("access denied ({said})"))
            .with_hint(format!(
                "the credentials need kms:{operation} on this key, in the key policy or an IAM policy (with aws_profile or role if another account is meant)"
            )),
        "NotFoundException" => KeyFailure::new(FailureKind::InvalidKey, format!("key not found ({said})"))
            .with_hint("check the ARN's region, account and key id"),
        "DisabledException" | "KMSInvalidStateException" => {
            KeyFailure::new(FailureKind::Provider, format!("the key is disabled or not usable ({said})"))
                .with_hint("enable the key (or cancel its deletion) in AWS KMS")
        }
        "IncorrectKeyException" => KeyFailure::new(
            FailureKind::WrongKey,
            format!("the data key was encrypted under another KMS key ({said})"),
        ),
        "InvalidCiphertextException" => KeyFailure::new(
            FailureKind::Corrupt,
            format!(
                "KMS refused the ciphertext ({said}): the encryption context in the file does not match the one it was \
                 encrypted with, or the enc was changed or made by another key"
            ),
        )
        .with_hint("the file's sops.kms entry (its enc or context) was modified; restore it from version control"),
        "UnrecognizedClientException" | "InvalidSignatureException" | "ExpiredTokenException"
        | "InvalidClientTokenId" | "IncompleteSignature" => {
            KeyFailure::new(FailureKind::IdentitySource, format!("the AWS credentials were refused ({said})"))
                .with_hint("the access key may be wrong, deleted or expired; renew the credentials")
        }
        _ => KeyFailure::new(FailureKind::Provider, format!("KMS {operation} failed ({said})"))
            .with_hint("if the service is throttling or unavailable, try again later"),
    }
}
