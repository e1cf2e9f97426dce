//! The fixed-key moto KMS server, for tests (unit tests here; the binary's
//! integration tests include this file with `#[path]`).
//!
//! `scripts/test` starts one and exports `SOPS_RS_MOTO_ENDPOINT`; when that
//! is unset, the first test that needs it starts
//! `fixtures/sops-3.11/tools/moto_kms_fixed.py` on a free 127.0.0.1 port
//! with the Python named by `SOPS_RS_PYTHON` (else the repository's
//! `.venv/bin/python`). The server runs under a small wrapper that exits
//! when its standard input closes, so it dies with the test process even
//! though it is never dropped. When no server can be had, tests skip,
//! unless `SOPS_RS_REQUIRE_INTEROP=1` (CI), where they fail.
#![allow(dead_code)]

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const KEY_1: &str = "arn:aws:kms:us-east-1:123456789012:key/11111111-1111-4111-8111-111111111111";
pub const KEY_2: &str = "arn:aws:kms:us-east-1:123456789012:key/22222222-2222-4222-8222-222222222222";
pub const MISSING_KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/99999999-9999-4999-8999-999999999999";

/// The Python wrapper: run the fixture's `main()` in a daemon thread and
/// exit as soon as stdin reaches end of file (the test process is gone).
const WRAPPER: &str = "import os, runpy, sys, threading\n\
script, port = sys.argv[1], sys.argv[2]\n\
sys.argv = [script, port]\n\
threading.Thread(target=lambda: runpy.run_path(script, run_name='__main__'), daemon=True).start()\n\
sys.stdin.read()\n\
os._exit(0)\n";

struct Started {
    endpoint: String,
    // Held so its stdin stays open for the life of the test process.
    _child: Mutex<Child>,
}

static SERVER: OnceLock<Option<Started>> = OnceLock::new();

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn required() -> bool {
    std::env::var("SOPS_RS_REQUIRE_INTEROP").is_ok_and(|v| v == "1")
}

/// The endpoint of a fixed-key moto server, or `None` (test skipped).
pub fn endpoint() -> Option<String> {
    if let Ok(url) = std::env::var("SOPS_RS_MOTO_ENDPOINT")
        && !url.is_empty()
    {
        return Some(url);
    }
    let started = SERVER.get_or_init(|| match start() {
        Ok(started) => Some(started),
        Err(why) => {
            assert!(!required(), "SOPS_RS_REQUIRE_INTEROP=1 but no moto server: {why}");
            eprintln!("note: skipping a test that needs moto: {why}");
            None
        }
    });
    started.as_ref().map(|s| s.endpoint.clone())
}

fn start() -> Result<Started, String> {
    let python = match std::env::var_os("SOPS_RS_PYTHON") {
        Some(python) => PathBuf::from(python),
        None => root().join(".venv/bin/python"),
    };
    if !python.exists() {
        return Err(format!(
            "SOPS_RS_MOTO_ENDPOINT is not set and {} does not exist (set SOPS_RS_PYTHON to a Python with moto[server])",
            python.display()
        ));
    }
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        listener.local_addr().map_err(|e| e.to_string())?.port()
    };
    let script = root().join("fixtures/sops-3.11/tools/moto_kms_fixed.py");
    let mut child = Command::new(&python)
        .arg("-c")
        .arg(WRAPPER)
        .arg(&script)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "moto exited at start ({status}); is moto[server] installed for {}?",
                python.display()
            ));
        }
        if ready(port) {
            return Ok(Started { endpoint: format!("http://127.0.0.1:{port}"), _child: Mutex::new(child) });
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    Err("moto did not start within 60 s".into())
}

/// The server answers and the fixed keys are installed (they are installed
/// one by one right after the listener starts, so ask KMS for the last).
fn ready(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let body = r#"{"KeyId":"33333333-3333-4333-8333-333333333333"}"#;
    let request = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Amz-Target: TrentService.DescribeKey\r\n\
         Content-Type: application/x-amz-json-1.1\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = std::io::Read::read_to_string(&mut stream, &mut answer);
    answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200")
}
