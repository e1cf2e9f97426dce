//! The small HTTP layer under the REST providers (GCP KMS, Azure Key Vault).
//!
//! Both services are a handful of JSON calls behind an OAuth bearer token,
//! so they are spoken over `ureq` rather than through SDKs of a few hundred
//! crates each. What the providers share lives here, and is shaped by three
//! worries rather than by convenience:
//!
//! * **Hermetic.** The library never reads the process environment (see
//!   `env.rs`); `ureq` would, for its proxy settings. So the agent is built
//!   with the proxy taken from our [`Environment`] (`HTTPS_PROXY`,
//!   `ALL_PROXY`, `NO_PROXY`, as Go's `net/http` reads them, which is what
//!   sops honours), and loopback is never proxied.
//! * **Failures name where they went.** Every call returns either a
//!   [`Reply`] (any status: the providers interpret 401/403/404 themselves,
//!   because only they know what the status means for their API) or a
//!   transport error already phrased as "cannot reach <endpoint>: <why>".
//! * **Secrets stay secret.** Tokens live in [`BearerToken`], whose memory is
//!   wiped on drop and whose Debug output is redacted; replies are read into
//!   wiped buffers because a decrypt reply holds the data key. Redirects are
//!   not followed, so a token is only ever sent to the URL it was meant for,
//!   and plain `http` is accepted only for loopback addresses (the test
//!   servers; the metadata servers, which are link-local by design, are
//!   allowed by their callers explicitly).

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::env::Environment;

/// Replies larger than this are refused: every reply of these APIs is a
/// few kilobytes at most.
const REPLY_LIMIT: u64 = 1 << 20;

/// An OAuth access token: wiped when dropped, never printed.
#[derive(Clone)]
pub struct BearerToken {
    value: Zeroizing<String>,
    /// When to stop using it (a minute before it really expires).
    renew_at: Option<Instant>,
    /// Where it came from, for messages ("GOOGLE_OAUTH_ACCESS_TOKEN", "the
    /// Azure CLI", ...).
    pub source: String,
}

impl BearerToken {
    /// A token valid for `lifetime` from now (`None`: until the process
    /// ends, for tokens handed to us without an expiry).
    pub fn new(value: String, lifetime: Option<Duration>, source: impl Into<String>) -> BearerToken {
        let renew_at = lifetime.map(|l| Instant::now() + l.saturating_sub(Duration::from_secs(60)));
        BearerToken { value: Zeroizing::new(value), renew_at, source: source.into() }
    }

    pub fn expose(&self) -> &str {
        &self.value
    }

    fn is_fresh(&self) -> bool {
        self.renew_at.is_none_or(|at| Instant::now() < at)
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BearerToken(<redacted>, from {})", self.source)
    }
}

/// Tokens already obtained, by the scope they were issued for, so that a
/// file with several keys of one provider asks for a token once.
#[derive(Default)]
pub struct TokenCache {
    tokens: Mutex<HashMap<String, BearerToken>>,
}

impl TokenCache {
    /// The cached token for `scope`, or a new one from `fetch` (which is
    /// not called while the lock is held by another thread's fetch of the
    /// same scope; two threads may fetch at once, which is harmless).
    pub fn get_or_fetch<E>(
        &self,
        scope: &str,
        fetch: impl FnOnce() -> Result<BearerToken, E>,
    ) -> Result<BearerToken, E> {
        if let Some(token) = self.lock().get(scope).filter(|t| t.is_fresh()) {
            return Ok(token.clone());
        }
        let token = fetch()?;
        self.lock().insert(scope.to_owned(), token.clone());
        Ok(token)
    }

    /// Forget a token the service refused, so the next call fetches anew.
    pub fn forget(&self, scope: &str) {
        self.lock().remove(scope);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, BearerToken>> {
        // A panic elsewhere cannot leave the map inconsistent: take it.
        self.tokens.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scopes: Vec<String> = self.lock().keys().cloned().collect();
        f.debug_struct("TokenCache").field("scopes", &scopes).finish()
    }
}

/// An HTTP answer of any status, its body read into a wiped buffer.
pub struct Reply {
    pub status: u16,
    pub body: Zeroizing<String>,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reply {{ status: {}, body: <{} bytes> }}", self.status, self.body.len())
    }
}

/// The request could not be made, or no answer came back. Safe to print.
#[derive(Clone, Debug)]
pub struct TransportError {
    /// `cannot reach <endpoint>: <why>`.
    pub message: String,
    /// The connection itself failed (refused, no route, DNS, timeout),
    /// as opposed to a broken answer; credential chains move on after it.
    pub unreachable: bool,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A request body.
pub enum Body<'a> {
    None,
    Json(&'a serde_json::Value),
    Form(&'a [(&'a str, &'a str)]),
}

/// The HTTP client the REST providers share: agents built on first use
/// from the [`Environment`]'s proxy settings.
pub struct HttpClient {
    /// Proxy URL from the environment, if any.
    proxy: Option<String>,
    no_proxy: Vec<String>,
    direct: std::sync::OnceLock<ureq::Agent>,
    proxied: std::sync::OnceLock<Result<ureq::Agent, String>>,
    /// Agents with a short connect timeout, for probing metadata servers.
    probe: std::sync::OnceLock<ureq::Agent>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A proxy URL may carry a password: say only whether there is one.
        f.debug_struct("HttpClient").field("proxy", &self.proxy.is_some()).finish_non_exhaustive()
    }
}

impl HttpClient {
    pub fn new(env: &Environment) -> HttpClient {
        let pick = |names: &[&str]| names.iter().find_map(|n| env.non_empty(n)).map(str::to_owned);
        HttpClient {
            proxy: pick(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]),
            no_proxy: pick(&["NO_PROXY", "no_proxy"])
                .map(|list| {
                    list.split(',').map(|e| e.trim().to_ascii_lowercase()).filter(|e| !e.is_empty()).collect()
                })
                .unwrap_or_default(),
            direct: std::sync::OnceLock::new(),
            proxied: std::sync::OnceLock::new(),
            probe: std::sync::OnceLock::new(),
        }
    }

    /// Send one request. `probe` uses a one-second connect timeout, for
    /// metadata servers that are only there on cloud machines.
    pub fn request(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Body<'_>,
        probe: bool,
    ) -> Result<Reply, TransportError> {
        let endpoint = endpoint_of(url);
        let failed = |why: String, unreachable: bool| TransportError {
            message: format!("cannot reach {endpoint}: {why}"),
            unreachable,
        };
        let agent = self.agent_for(url, probe).map_err(|why| failed(why, true))?;
        let mut request = ureq::http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let sent = match body {
            Body::None => {
                let request = request.body(()).map_err(|e| failed(e.to_string(), false))?;
                agent.run(request)
            }
            Body::Json(value) => {
                let bytes = Zeroizing::new(serde_json::to_vec(value).unwrap_or_default());
                let request = request
                    .header("Content-Type", "application/json")
                    .body(bytes.as_slice())
                    .map_err(|e| failed(e.to_string(), false))?;
                agent.run(request)
            }
            Body::Form(fields) => {
                let encoded = Zeroizing::new(form_encode(fields));
                let request = request
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(encoded.as_bytes())
                    .map_err(|e| failed(e.to_string(), false))?;
                agent.run(request)
            }
        };
        let mut response = sent.map_err(|e| {
            let unreachable = matches!(
                e,
                ureq::Error::Io(_)
                    | ureq::Error::Timeout(_)
                    | ureq::Error::HostNotFound
                    | ureq::Error::ConnectionFailed
                    | ureq::Error::ConnectProxyFailed(_)
            );
            failed(describe_ureq_error(&e), unreachable)
        })?;
        let status = response.status().as_u16();
        let body = response.body_mut().with_config().limit(REPLY_LIMIT).read_to_string().map_err(|e| {
            failed(format!("the answer could not be read ({})", describe_ureq_error(&e)), false)
        })?;
        Ok(Reply { status, body: Zeroizing::new(body) })
    }

    fn agent_for(&self, url: &str, probe: bool) -> Result<&ureq::Agent, String> {
        if probe {
            return Ok(self.probe.get_or_init(|| build_agent(None, Duration::from_secs(1))));
        }
        let host = host_of(url);
        match &self.proxy {
            Some(proxy) if !self.bypasses_proxy(&host) => self
                .proxied
                .get_or_init(|| {
                    let proxy = ureq::Proxy::new(proxy)
                        .map_err(|_| "the proxy URL in HTTPS_PROXY/ALL_PROXY is not valid".to_owned())?;
                    Ok(build_agent(Some(proxy), Duration::from_secs(10)))
                })
                .as_ref()
                .map_err(Clone::clone),
            _ => Ok(self.direct.get_or_init(|| build_agent(None, Duration::from_secs(10)))),
        }
    }

    /// `NO_PROXY` as Go reads it: `*`, exact hosts, and domain suffixes
    /// (`example.com` and `.example.com` both cover `a.example.com`);
    /// loopback is never proxied.
    fn bypasses_proxy(&self, host: &str) -> bool {
        if is_loopback_host(host) {
            return true;
        }
        let host = host.to_ascii_lowercase();
        self.no_proxy.iter().any(|entry| {
            let entry = entry.split(':').next().unwrap_or(entry);
            entry == "*"
                || host == entry.trim_start_matches('.')
                || host.ends_with(&format!(".{}", entry.trim_start_matches('.')))
        })
    }
}

/// What the REST providers keep for the life of a `KeyServices`: one
/// client, and the tokens obtained so far.
#[derive(Debug)]
pub struct RestServices {
    pub client: HttpClient,
    pub tokens: TokenCache,
}

impl RestServices {
    pub fn new(env: &Environment) -> RestServices {
        RestServices { client: HttpClient::new(env), tokens: TokenCache::default() }
    }
}

fn build_agent(proxy: Option<ureq::Proxy>, connect: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .proxy(proxy)
        .http_status_as_error(false)
        // A token is sent only to the URL it was meant for.
        .max_redirects(0)
        .timeout_connect(Some(connect))
        .timeout_global(Some(Duration::from_secs(60)))
        .user_agent(concat!("sops-rs/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

fn describe_ureq_error(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused".into()
        }
        ureq::Error::Io(e) => e.to_string(),
        ureq::Error::HostNotFound => "the host name does not resolve".into(),
        ureq::Error::Timeout(_) => "timed out".into(),
        ureq::Error::ConnectionFailed => "the connection failed".into(),
        other => other.to_string(),
    }
}

/// `application/x-www-form-urlencoded`.
fn form_encode(fields: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode_into(name, &mut out);
        out.push('=');
        percent_encode_into(value, &mut out);
    }
    out
}

/// Percent-encode everything but RFC 3986's unreserved characters.
pub fn percent_encode_into(text: &str, out: &mut String) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    percent_encode_into(text, &mut out);
    out
}

/// `scheme://host[:port]` of a URL, for messages (never the path or query,
/// which is where a mistake could put a secret).
pub fn endpoint_of(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            let authority = authority.rsplit('@').next().unwrap_or(authority);
            format!("{scheme}://{authority}")
        }
        None => url.split(['/', '?']).next().unwrap_or(url).to_owned(),
    }
}

/// The host of a URL, without port or brackets.
pub fn host_of(url: &str) -> String {
    let endpoint = endpoint_of(url);
    let authority = endpoint.split_once("://").map_or(endpoint.as_str(), |(_, a)| a);
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("").to_owned();
    }
    authority.split(':').next().unwrap_or("").to_ascii_lowercase()
}

pub fn is_loopback_host(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether `url` may carry credentials: `https`, or plain `http` to a
/// loopback address (the local servers the tests run).
pub fn is_trusted_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return !host_of(url).is_empty();
    }
    lower.starts_with("http://") && is_loopback_host(&host_of(url))
}

/// The one-line reason in a JSON error body, for the common shapes
/// (`{"error": {"message": ...}}`, `{"error": "...", "error_description":
/// ...}`), shortened; never the whole body.
pub fn error_summary(reply: &Reply) -> String {
    let json = reply.json();
    let text = match &json["error"] {
        serde_json::Value::Object(error) => {
            let code = error.get("status").or_else(|| error.get("code")).and_then(|c| c.as_str());
            let message = error.get("message").and_then(|m| m.as_str()).unwrap_or("");
            match code {
                Some(code) if !message.is_empty() => format!("{code}: {message}"),
                Some(code) => code.to_owned(),
                None => message.to_owned(),
            }
        }
        serde_json::Value::String(code) => match json["error_description"].as_str() {
            Some(description) => format!("{code}: {description}"),
            None => code.clone(),
        },
        _ => String::new(),
    };
    let text = if text.is_empty() {
        format!("HTTP {}", reply.status)
    } else {
        format!("HTTP {}, {text}", reply.status)
    };
    shorten(text.lines().next().unwrap_or(""), 300)
}

/// At most `limit` characters, marked when cut.
pub fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let cut: String = text.chars().take(limit).collect();
    format!("{cut}...")
}

/// Seconds from a JSON number or numeric string (Azure's IMDS sends
/// `"expires_in": "3599"`).
pub fn json_seconds(value: &serde_json::Value) -> Option<Duration> {
    let seconds = value.as_u64().or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))?;
    Some(Duration::from_secs(seconds))
}

#[cfg(test)]
pub(crate) mod test_server;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_never_show_paths_or_user_info() {
        assert_eq!(endpoint_of("https://user:pw@host.example:8443/a/b?c=d"), "https://host.example:8443");
        assert_eq!(host_of("http://[::1]:80/x"), "::1");
        assert_eq!(host_of("http://127.0.0.1:5/x"), "127.0.0.1");
    }

    #[test]
    fn only_https_or_loopback_http_is_trusted() {
        assert!(is_trusted_url("https://x.vault.azure.net"));
        assert!(is_trusted_url("http://127.0.0.1:8080/"));
        assert!(is_trusted_url("http://localhost:1"));
        assert!(is_trusted_url("http://[::1]:1"));
        assert!(!is_trusted_url("http://x.vault.azure.net"));
        assert!(!is_trusted_url("http://10.0.0.1/"));
        assert!(!is_trusted_url("ftp://127.0.0.1/"));
    }

    #[test]
    fn form_encoding_escapes_reserved_characters() {
        assert_eq!(form_encode(&[("a b", "x=y&z"), ("k", "~._-")]), "a%20b=x%3Dy%26z&k=~._-");
    }

    #[test]
    fn no_proxy_rules() {
        let env = Environment::empty()
            .with("HTTPS_PROXY", "http://proxy:3128")
            .with("NO_PROXY", ".corp, exact.host");
        let client = HttpClient::new(&env);
        assert!(client.bypasses_proxy("a.corp"));
        assert!(client.bypasses_proxy("exact.host"));
        assert!(client.bypasses_proxy("127.0.0.1"));
        assert!(!client.bypasses_proxy("cloudkms.googleapis.com"));
        assert!(!format!("{client:?}").contains("proxy:3128"));
    }

    #[test]
    fn tokens_are_redacted_and_expire() {
        let token = BearerToken::new("ya29.secret".into(), Some(Duration::from_secs(3600)), "test");
        assert!(!format!("{token:?}").contains("secret"));
        assert!(token.is_fresh());
        assert!(!BearerToken::new("t".into(), Some(Duration::from_secs(30)), "test").is_fresh());
        let cache = TokenCache::default();
        let mut calls = 0;
        for _ in 0..2 {
            cache
                .get_or_fetch::<()>("s", || {
                    calls += 1;
                    Ok(BearerToken::new("t".into(), None, "test"))
                })
                .unwrap();
        }
        assert_eq!(calls, 1);
        cache.forget("s");
        assert!(!format!("{cache:?}").contains("\"s\""));
    }
}
