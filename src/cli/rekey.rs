//! `rotate`, `updatekeys` and `groups`: changing who can open a file.
//!
//! `updatekeys` takes several files, as in sops, and `rotate` does too when
//! they are written back in place (`-i`); both then show a progress bar
//! (see `progress`) and can print a JSON report (see `report`). Without
//! `--json` the first failure ends the run, as sops does for `updatekeys`,
//! so scripts written for sops see the same exit code at the same point.
//! With `--json` every file is tried and reported, and the exit code is the
//! first failure's: a script gets the whole picture and still a non-zero
//! status.

use std::io::{BufRead, Write};
use std::path::Path;

use super::args::{GroupsAddArgs, GroupsDeleteArgs, RotateArgs, UpdatekeysArgs};
use super::common::{self, Context, Destination};
use super::progress::Progress;
use super::report::{self, FileReport};
use crate::cipher::CipherKind;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::keys::KeyServices;
use crate::keys::group::DecryptionOrder;
use crate::ops::rekey::{self, KeyChanges, Rewrap, RotateRequest};
use crate::store::Format;

fn decryption_order(text: Option<&str>) -> Result<DecryptionOrder> {
    text.map(DecryptionOrder::parse).transpose().map(Option::unwrap_or_default)
}

/// The format of an existing encrypted file: the flag, else its name.
fn format_of(path: &Path, input_type: Option<&str>) -> Format {
    input_type.and_then(Format::from_name).unwrap_or_else(|| Format::from_path(path))
}

pub fn rotate(ctx: &Context, services: &KeyServices, args: &RotateArgs) -> Result<()> {
    let Some(first) = args.files.first() else {
        return Err(Error::InvalidArgument("rotate needs a file: `sops-rs rotate -i FILE`".into()));
    };
    // Several results cannot share stdout or one --output path, and a JSON
    // report cannot share stdout with the file itself.
    if args.files.len() > 1 && !args.output.in_place {
        return Err(Error::ConflictingParameters("rotating several files needs -i".into()));
    }
    if args.json && !args.output.in_place && args.output.output.is_none() {
        return Err(Error::ConflictingParameters(
            "--json prints a report on stdout, so the file must go elsewhere: add -i or --output".into(),
        ));
    }
    if args.files.len() == 1 && !args.json {
        return rotate_one(ctx, services, args, first);
    }
    let progress = Progress::new(&ctx.env, args.files.len(), "rotating");
    let mut reports = Vec::new();
    let mut first_error = None;
    for path in &args.files {
        progress.start(path);
        match rotate_one(ctx, services, args, path) {
            Ok(()) => {
                reports.push(FileReport::new(path, "rotated", "new data key; every value encrypted again"))
            }
            Err(error) if args.json => {
                reports.push(FileReport::error(path, &error));
                first_error.get_or_insert(error);
            }
            Err(error) => {
                progress.suspend(|| eprintln!("{}: not rotated", path.display()));
                return Err(error);
            }
        }
        progress.advance();
    }
    progress.finish();
    if args.json {
        report::print_json(&reports);
    }
    first_error.map_or(Ok(()), Err)
}

fn rotate_one(ctx: &Context, services: &KeyServices, args: &RotateArgs, path: &Path) -> Result<()> {
    let (add, remove) = args.changes.split();
    if !path.exists() && !args.changes.is_empty() {
        return Err(Error::CannotChangeKeysOfMissingFile(path.to_owned()));
    }
    let input = common::read_input(ctx, Some(path), &args.types, &args.output, false)?;
    let (format, _) = common::formats(&args.types, &input);
    let config = ctx.config()?;
    let mut add_keys = common::key_groups_from_flags(&add)?.unwrap_or_default().concat();
    if let Some(context) = &args.encryption_context {
        let context = common::parse_encryption_context(context)?;
        for key in &mut add_keys {
            if let crate::keys::MasterKey::Kms(kms) = key {
                kms.context = context.clone();
            }
        }
    }
    let remove_keys = common::key_groups_from_flags(&remove)?.unwrap_or_default().concat();
    let cipher = args
        .cipher
        .as_deref()
        .map(|name| {
            CipherKind::parse(name).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "unknown cipher {name:?}: use aes256_gcm or xchacha20_poly1305"
                ))
            })
        })
        .transpose()?;
    let request = RotateRequest {
        format,
        add: add_keys,
        remove: remove_keys,
        cipher,
        ignore_mac: args.decrypt.ignore_mac,
        decryption_order: decryption_order(args.decrypt.decryption_order.as_deref())?,
        store_options: config.map(|c| c.stores).unwrap_or_default(),
    };
    let output = rekey::rotate(&input.bytes, request, services)?;
    common::write(&common::destination(&args.output, &input, false), &output)
}

/// What `updatekeys` did with one file.
enum Outcome {
    Unchanged,
    Declined(KeyChanges),
    Applied(KeyChanges),
}

pub fn updatekeys(ctx: &Context, services: &KeyServices, args: &UpdatekeysArgs) -> Result<()> {
    let config = ctx.config()?.ok_or(Error::NoKeys)?;
    let order = decryption_order(args.decryption_order.as_deref())?;
    let progress = Progress::new(&ctx.env, args.files.len(), "updating keys");
    // With --json and -y nothing needs a person, so nothing is said to one;
    // without -y the changes are shown because the question is about them.
    let talk = !args.json || !args.yes;
    let say = |line: String| {
        if talk {
            progress.suspend(|| eprintln!("{line}"));
        }
    };
    let mut reports = Vec::new();
    let mut first_error = None;
    for path in &args.files {
        progress.start(path);
        let outcome = update_one(ctx, services, args, &config, &order, path, &progress, &say);
        progress.advance();
        let report = match outcome {
            Ok(Outcome::Unchanged) => {
                say(format!("{}: already up to date", path.display()));
                FileReport::new(path, "unchanged", "the key groups already match the creation rule")
            }
            Ok(Outcome::Declined(changes)) => {
                say(format!("{}: changes not applied", path.display()));
                with_changes(FileReport::new(path, "declined", "the changes were not confirmed"), changes)
            }
            Ok(Outcome::Applied(changes)) => {
                say(format!("{}: key groups updated", path.display()));
                with_changes(
                    FileReport::new(path, "updated", "key groups now match the creation rule"),
                    changes,
                )
            }
            // Without --json the first failure ends the run, as in sops.
            Err(error) if !args.json => return Err(error),
            Err(error) => {
                let report = FileReport::error(path, &error);
                first_error.get_or_insert(error);
                report
            }
        };
        reports.push(report);
    }
    progress.finish();
    if args.json {
        report::print_json(&reports);
    }
    first_error.map_or(Ok(()), Err)
}

fn with_changes(report: FileReport, changes: KeyChanges) -> FileReport {
    report.with("added", changes.added).with("removed", changes.removed)
}

#[allow(clippy::too_many_arguments)] // one file's share of the loop's state
fn update_one(
    ctx: &Context,
    services: &KeyServices,
    args: &UpdatekeysArgs,
    config: &Config,
    order: &DecryptionOrder,
    path: &Path,
    progress: &Progress,
    say: &dyn Fn(String),
) -> Result<Outcome> {
    let input = ctx.read_file(path)?;
    let format = format_of(path, args.input_type.as_deref());
    let rule = config.rule_for(path)?;
    let metadata = rekey::read_metadata(&input, format)?;
    let changes = rekey::key_changes(&metadata.key_groups, &rule.key_groups);
    if changes.is_empty() {
        return Ok(Outcome::Unchanged);
    }
    say("The following changes will be made to the file's groups:".into());
    if changes.groups_before != changes.groups_after {
        say(format!("  key groups: {} -> {}", changes.groups_before, changes.groups_after));
    }
    for added in &changes.added {
        say(format!("+++ {added}"));
    }
    for removed in &changes.removed {
        say(format!("--- {removed}"));
    }
    if !args.yes && !progress.suspend(|| confirm("Is this okay? (y/n): "))? {
        return Ok(Outcome::Declined(changes));
    }
    let request = Rewrap {
        format,
        key_groups: rule.key_groups.clone(),
        shamir_threshold: None,
        decryption_order: order.clone(),
        store_options: config.stores,
    };
    let output = rekey::rewrap(&input, request, services)?;
    common::write(&Destination::File { path: path.to_owned(), new_mode: crate::fsio::SHARED_MODE }, &output)?;
    Ok(Outcome::Applied(changes))
}

/// Ask on stderr and read the answer from stdin, as sops does.
fn confirm(question: &str) -> Result<bool> {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|source| Error::ReadInput { path: "<stdin>".into(), source })?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}

pub fn groups_add(ctx: &Context, services: &KeyServices, args: &GroupsAddArgs) -> Result<()> {
    let input = ctx.read_file(&args.file)?;
    let format = Format::from_path(&args.file);
    let config = ctx.config()?;
    let group =
        common::key_groups_from_flags(&args.keys.as_key_args())?.map(|groups| groups.concat()).ok_or_else(
            || Error::InvalidArgument("groups add needs at least one key flag (e.g. --age)".into()),
        )?;
    let metadata = rekey::read_metadata(&input, format)?;
    let mut key_groups = metadata.key_groups;
    key_groups.push(group);
    let request = Rewrap {
        format,
        key_groups,
        shamir_threshold: args.keys.shamir_secret_sharing_threshold.filter(|n| *n > 0),
        decryption_order: DecryptionOrder::default(),
        store_options: config.map(|c| c.stores).unwrap_or_default(),
    };
    let output = rekey::rewrap(&input, request, services)?;
    write_groups_result(&args.file, args.in_place, &output)
}

pub fn groups_delete(ctx: &Context, services: &KeyServices, args: &GroupsDeleteArgs) -> Result<()> {
    let input = ctx.read_file(&args.file)?;
    let format = Format::from_path(&args.file);
    let config = ctx.config()?;
    let metadata = rekey::read_metadata(&input, format)?;
    let mut key_groups = metadata.key_groups;
    if args.index >= key_groups.len() {
        return Err(Error::InvalidArgument(format!(
            "the file has {} key group(s); there is no group {}",
            key_groups.len(),
            args.index
        )));
    }
    if key_groups.len() == 1 {
        return Err(Error::InvalidArgument(
            "the file has one key group; deleting it would leave no key that can open the file \
             (add another group first, or use `rotate --rm-...` to change the keys in it)"
                .into(),
        ));
    }
    key_groups.remove(args.index);
    let request = Rewrap {
        format,
        key_groups,
        shamir_threshold: args.shamir_secret_sharing_threshold.filter(|n| *n > 0),
        decryption_order: DecryptionOrder::default(),
        store_options: config.map(|c| c.stores).unwrap_or_default(),
    };
    let output = rekey::rewrap(&input, request, services)?;
    write_groups_result(&args.file, args.in_place, &output)
}

fn write_groups_result(path: &Path, in_place: bool, output: &[u8]) -> Result<()> {
    let destination = if in_place {
        Destination::File { path: path.to_owned(), new_mode: crate::fsio::SHARED_MODE }
    } else {
        Destination::Stdout
    };
    common::write(&destination, output)
}
