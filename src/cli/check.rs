//! `filestatus` (sops's) and `check` (ours): is what should be encrypted
//! encrypted, to the right keys?
//!
//! `check` walks the tree under the config file (or the paths given), and
//! for every file a creation rule with a `path_regex` covers, reports it
//! when it is not encrypted, when its master keys are not its rule's, or
//! (with `--verify`, or whenever the file can be opened) when its MAC does
//! not match. Rules without a `path_regex` match every file, so they only
//! apply to files named explicitly; otherwise a catch-all rule would flag
//! every source file of the repository. Exit 1 when anything is wrong makes
//! it a pre-commit hook.

use std::path::{Path, PathBuf};

use super::args::{CheckArgs, FilestatusArgs};
use super::common::Context;
use super::progress::Progress;
use super::report::{self, FileReport};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::keys::KeyServices;
use crate::keys::group::DecryptionOrder;
use crate::ops::rekey::{key_changes, read_metadata};
use crate::ops::{self, Purpose};
use crate::store::Format;

pub fn filestatus(ctx: &Context, args: &FilestatusArgs) -> Result<()> {
    let input = ctx.read_file(&args.file)?;
    let format = args
        .input_type
        .as_deref()
        .and_then(Format::from_name)
        .unwrap_or_else(|| Format::from_path(&args.file));
    let encrypted = match read_metadata(&input, format) {
        Ok(metadata) => !metadata.version.is_empty() && !metadata.mac.is_empty(),
        Err(Error::MetadataNotFound) => false,
        // A file that is not valid in its format is not an encrypted one.
        Err(Error::Parse { .. } | Error::Shape { .. } | Error::EmptyInput | Error::BadMetadata(_)) => false,
        Err(other) => return Err(other),
    };
    println!("{{\"encrypted\":{encrypted}}}");
    Ok(())
}

/// One file's verdict.
struct Finding {
    file: PathBuf,
    status: &'static str,
    detail: String,
}

pub fn check(ctx: &Context, services: &KeyServices, args: &CheckArgs) -> Result<()> {
    let config = ctx.config()?.ok_or_else(|| {
        Error::InvalidArgument("check needs a .sops-rs.yaml or .sops.yaml with creation rules".into())
    })?;
    let roots: Vec<PathBuf> = if args.paths.is_empty() { vec![config.dir()] } else { args.paths.clone() };
    let mut files = Vec::new();
    for root in &roots {
        collect(root, &config, !args.paths.is_empty() && root.is_file(), &mut files)?;
    }
    files.sort();
    files.dedup();
    let progress = Progress::new(&ctx.env, files.len(), "checking");
    let findings: Vec<Finding> = files
        .iter()
        .map(|file| {
            progress.start(file);
            let finding = check_file(ctx, file, &config, services, args.verify);
            progress.advance();
            finding
        })
        .collect();
    progress.finish();
    let bad = findings.iter().filter(|f| f.status != "ok").count();
    if args.json {
        let reports: Vec<FileReport> =
            findings.iter().map(|f| FileReport::new(&f.file, f.status, f.detail.clone())).collect();
        report::print_json(&reports);
    } else {
        for finding in findings.iter().filter(|f| f.status != "ok") {
            println!("{}: {} ({})", finding.file.display(), finding.status.replace('_', " "), finding.detail);
        }
        eprintln!("checked {} file(s): {} with problems", findings.len(), bad);
    }
    if bad > 0 { Err(Error::CheckFailed(bad)) } else { Ok(()) }
}

/// Directories never walked into: version control, build output,
/// dependencies, and hidden directories.
fn skipped_dir(name: &str) -> bool {
    name.starts_with('.') || matches!(name, "target" | "node_modules" | "vendor")
}

/// The files under `path` that a rule covers. A file named explicitly
/// counts for catch-all rules too.
fn collect(path: &Path, config: &Config, explicit: bool, out: &mut Vec<PathBuf>) -> Result<()> {
    let meta = std::fs::symlink_metadata(path)
        .map_err(|source| Error::ReadInput { path: path.to_owned(), source })?;
    if meta.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .map_err(|source| Error::ReadInput { path: path.to_owned(), source })?
            .filter_map(|e| e.ok())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type().ok();
            if kind.is_some_and(|k| k.is_dir()) {
                if !skipped_dir(&name) {
                    collect(&entry.path(), config, false, out)?;
                }
            } else if kind.is_some_and(|k| k.is_file()) {
                consider(&entry.path(), config, false, out);
            }
        }
    } else if meta.is_file() {
        consider(path, config, explicit, out);
    }
    Ok(())
}

fn consider(file: &Path, config: &Config, explicit: bool, out: &mut Vec<PathBuf>) {
    if crate::config::FILE_NAMES.iter().any(|n| file.file_name().is_some_and(|f| f == *n)) {
        return;
    }
    match config.rule_for(file) {
        Ok(rule) if explicit || rule.path_regex.is_some() => out.push(file.to_owned()),
        _ => {}
    }
}

fn check_file(ctx: &Context, file: &Path, config: &Config, services: &KeyServices, verify: bool) -> Finding {
    let finding = |status, detail: String| Finding { file: file.to_owned(), status, detail };
    let input = match crate::fsio::read_file(file, ctx.size_limit) {
        Ok(input) => input,
        Err(e) => return finding("error", e.to_string()),
    };
    let format = Format::from_path(file);
    let metadata = match read_metadata(&input, format) {
        Ok(metadata) => metadata,
        Err(Error::MetadataNotFound) => return finding("not_encrypted", "no sops metadata".into()),
        Err(Error::Parse { .. } | Error::Shape { .. } | Error::EmptyInput) => {
            return finding("not_encrypted", "not a valid encrypted file".into());
        }
        Err(e) => return finding("error", e.to_string()),
    };
    let Ok(rule) = config.rule_for(file) else {
        return finding("error", "no creation rule matches".into());
    };
    let changes = key_changes(&metadata.key_groups, &rule.key_groups);
    if !changes.is_empty() {
        let mut detail: Vec<String> = changes.added.iter().map(|k| format!("missing {k}")).collect();
        detail.extend(changes.removed.iter().map(|k| format!("extra {k}")));
        if changes.groups_before != changes.groups_after {
            detail
                .push(format!("{} key groups, the rule has {}", changes.groups_before, changes.groups_after));
        }
        return finding("wrong_keys", format!("{}; run `sops-rs updatekeys`", detail.join(", ")));
    }
    match ops::open(&input, format, false, &DecryptionOrder::default(), services, Purpose::Read) {
        Ok(_) => finding("ok", "encrypted to the rule's keys; MAC verified".into()),
        Err(Error::NoKeyCouldDecrypt { .. }) if !verify => {
            finding("ok", "encrypted to the rule's keys".into())
        }
        Err(Error::NoKeyCouldDecrypt { .. }) => {
            finding("unverified", "no available identity opens it".into())
        }
        Err(e @ Error::Mac(_)) => finding("bad_mac", e.to_string()),
        Err(e) => finding("error", e.to_string().lines().next().unwrap_or("").to_owned()),
    }
}
