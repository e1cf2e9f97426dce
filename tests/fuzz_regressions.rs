//! Inputs the fuzzers (fuzz/) found crashing, hanging or blowing up,
//! replayed through the same public entry points on every `cargo test`.
//!
//! `tests/data/fuzz-regressions/<target>/<what-it-checks>_<outcome>.<ext>`:
//! the directory names the fuzz target (and so the entry point), the file
//! name says what the input checks and how it must end: `ok`, `err` (any
//! error), or `exit-N` (an error with sops's exit code N). The extension
//! picks the format where the target reads several. Each file is also run
//! through the writers when it parses, as the fuzz target does, so a fixed
//! panic in a later stage stays fixed too. Unit tests next to each fix
//! check the same inputs by name; this driver keeps the raw reproducers.

use std::path::{Path, PathBuf};

use sops_rs::config::Config;
use sops_rs::env::Environment;
use sops_rs::error::{Error, Result};
use sops_rs::keys::KeyServices;
use sops_rs::keys::group::DecryptionOrder;
use sops_rs::ops::{self, DecryptRequest};
use sops_rs::store::{self, Format, StoreOptions};

fn cases() -> Vec<(String, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz-regressions");
    let mut cases = Vec::new();
    for dir in std::fs::read_dir(&root).expect("regression directory") {
        let dir = dir.expect("entry").path();
        if !dir.is_dir() {
            continue;
        }
        let target = dir.file_name().unwrap().to_string_lossy().into_owned();
        for file in std::fs::read_dir(&dir).expect("target directory") {
            cases.push((target.clone(), file.expect("entry").path()));
        }
    }
    cases.sort();
    cases
}

/// The outcome a file's name asks for.
#[derive(Debug, PartialEq)]
enum Expected {
    Ok,
    Err,
    Exit(i32),
}

fn expected(path: &Path) -> Expected {
    let stem = path.file_stem().unwrap().to_string_lossy();
    let outcome = stem.rsplit('_').next().unwrap();
    match outcome {
        "ok" => Expected::Ok,
        "err" => Expected::Err,
        other => Expected::Exit(
            other
                .strip_prefix("exit-")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{}: name must end in _ok, _err or _exit-N", path.display())),
        ),
    }
}

fn format_of(path: &Path) -> Format {
    match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => Format::Toml,
        _ => Format::from_path(path),
    }
}

fn store_format(target: &str) -> Option<Format> {
    Some(match target {
        "store_yaml" => Format::Yaml,
        "store_json" => Format::Json,
        "store_toml" => Format::Toml,
        "store_dotenv" => Format::Dotenv,
        "store_ini" => Format::Ini,
        "store_binary" => Format::Binary,
        _ => return None,
    })
}

/// Parse, then write back fresh and spliced, as the store targets do.
fn store_case(format: Format, data: &[u8]) -> Result<()> {
    let _ = store::parse_encrypted(format, data);
    let parsed = store::parse_plain(format, data)?;
    let options = StoreOptions::default();
    let fresh = store::emit(format, &parsed.tree, None, None, &options)?;
    let spliced = store::emit(format, &parsed.tree, Some(&parsed.layout), None, &options)?;
    // What a writer produced, its reader accepts (the writers drop a
    // top-level `sops` entry, which may leave nothing).
    if parsed.tree.top_level("sops").is_none() {
        for output in [fresh, spliced] {
            match store::parse_plain(format, &output) {
                Ok(_) | Err(Error::EmptyInput) => {}
                Err(e) => panic!("{} output does not parse again: {e}", format.name()),
            }
        }
    }
    Ok(())
}

fn config_case(data: &[u8]) -> Result<()> {
    let config = Config::from_bytes(Path::new("/fuzz/project/.sops.yaml"), data)?;
    let _ = config.rule_for(Path::new("/fuzz/project/secrets.yaml"));
    let (tree, _) = store::json::parse(br#"{"a": {"b": [1, "x"]}}"#)?;
    for format in [Format::Yaml, Format::Json] {
        store::emit(format, &tree, None, None, &config.stores)?;
    }
    Ok(())
}

/// YAML and JSON through their stores; `.env` files as the fuzz target
/// reads them, straight into the flattened form (`sops_` lines).
fn metadata_case(format: Format, data: &[u8]) -> Result<()> {
    if format == Format::Dotenv {
        let text = String::from_utf8_lossy(data);
        let pairs: Vec<(String, String)> = text
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.strip_prefix("sops_").unwrap_or(k).to_owned(), v.to_owned()))
            .collect();
        let node = sops_rs::metadata::flat::unflatten(&pairs)?;
        return sops_rs::metadata::Metadata::from_node(&node).map(drop);
    }
    let mut parsed = store::parse_encrypted(format, data)?;
    ops::take_metadata(&mut parsed.tree).map(drop)
}

fn decrypt_case(format: Format, data: &[u8]) -> Result<()> {
    let keys = [
        include_str!("../fixtures/sops-3.11/keys/age1.txt"),
        include_str!("../fixtures/spec/keys/age-key1.txt"),
    ]
    .join("\n");
    let services = KeyServices::new(Environment::empty().with("SOPS_AGE_KEY", keys));
    let request = DecryptRequest {
        input_format: format,
        output_format: format,
        ignore_mac: true,
        extract: None,
        decryption_order: DecryptionOrder::default(),
        store_options: StoreOptions::default(),
    };
    ops::decrypt(data, request, &services).map(drop)
}

fn run(target: &str, path: &Path, data: &[u8]) -> std::result::Result<(), Option<i32>> {
    let to_code = |e: Error| Some(e.exit_code());
    match target {
        "envelope" => {
            let text = std::str::from_utf8(data).map_err(|_| None)?;
            sops_rs::cipher::Envelope::parse(text).map(drop).map_err(|_| None)
        }
        "config" => config_case(data).map_err(to_code),
        "metadata" => metadata_case(format_of(path), data).map_err(to_code),
        "decrypt" => decrypt_case(format_of(path), data).map_err(to_code),
        other => match store_format(other) {
            Some(format) => store_case(format, data).map_err(to_code),
            None => panic!("{}: unknown fuzz target directory {other:?}", path.display()),
        },
    }
}

#[test]
fn fuzz_regressions_end_as_their_names_say() {
    let cases = cases();
    assert!(!cases.is_empty(), "no regression inputs found");
    for (target, path) in cases {
        let data = std::fs::read(&path).expect("readable");
        let started = std::time::Instant::now();
        let outcome = run(&target, &path, &data);
        // Hangs were findings too: every input must finish quickly even in
        // a debug build.
        let took = started.elapsed();
        assert!(took.as_secs() < 10, "{}: took {took:?}", path.display());
        match (expected(&path), outcome) {
            (Expected::Ok, Ok(())) | (Expected::Err, Err(_)) => {}
            (Expected::Exit(want), Err(Some(got))) if want == got => {}
            (want, got) => panic!("{}: expected {want:?}, got {got:?}", path.display()),
        }
    }
}
