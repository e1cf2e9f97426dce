//! `rotate`, `updatekeys` and `groups`: changing who can open a file.

use std::io::{BufRead, Write};
use std::path::Path;

use super::args::{GroupsAddArgs, GroupsDeleteArgs, RotateArgs, UpdatekeysArgs};
use super::common::{self, Context, Destination};
use crate::cipher::CipherKind;
use crate::error::{Error, Result};
use crate::keys::KeyServices;
use crate::keys::group::DecryptionOrder;
use crate::ops::rekey::{self, Rewrap, RotateRequest};
use crate::store::Format;

fn decryption_order(text: Option<&str>) -> Result<DecryptionOrder> {
    text.map(DecryptionOrder::parse).transpose().map(Option::unwrap_or_default)
}

/// The format of an existing encrypted file: the flag, else its name.
fn format_of(path: &Path, input_type: Option<&str>) -> Format {
    input_type.and_then(Format::from_name).unwrap_or_else(|| Format::from_path(path))
}

pub fn rotate(ctx: &Context, services: &KeyServices, args: &RotateArgs) -> Result<()> {
    let (add, remove) = args.changes.split();
    let path = args
        .file
        .as_deref()
        .ok_or_else(|| Error::InvalidArgument("rotate needs a file: `sops-rs rotate -i FILE`".into()))?;
    if !path.exists() && !args.changes.is_empty() {
        return Err(Error::CannotChangeKeysOfMissingFile(path.to_owned()));
    }
    let input = common::read_input(Some(path), &args.types, &args.output, false)?;
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

pub fn updatekeys(ctx: &Context, services: &KeyServices, args: &UpdatekeysArgs) -> Result<()> {
    let config = ctx.config()?.ok_or(Error::NoKeys)?;
    let order = decryption_order(args.decryption_order.as_deref())?;
    for path in &args.files {
        let input = std::fs::read(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => Error::NoSuchFile(path.clone()),
            _ => Error::ReadInput { path: path.clone(), source },
        })?;
        let format = format_of(path, args.input_type.as_deref());
        let rule = config.rule_for(path)?;
        let metadata = rekey::read_metadata(&input, format)?;
        let changes = rekey::key_changes(&metadata.key_groups, &rule.key_groups);
        if changes.is_empty() {
            eprintln!("{}: already up to date", path.display());
            continue;
        }
        eprintln!("The following changes will be made to the file's groups:");
        if changes.groups_before != changes.groups_after {
            eprintln!("  key groups: {} -> {}", changes.groups_before, changes.groups_after);
        }
        for added in &changes.added {
            eprintln!("+++ {added}");
        }
        for removed in &changes.removed {
            eprintln!("--- {removed}");
        }
        if !args.yes && !confirm("Is this okay? (y/n): ")? {
            eprintln!("{}: changes not applied", path.display());
            continue;
        }
        let request = Rewrap {
            format,
            key_groups: rule.key_groups.clone(),
            shamir_threshold: None,
            decryption_order: order.clone(),
            store_options: config.stores,
        };
        let output = rekey::rewrap(&input, request, services)?;
        common::write(
            &Destination::File { path: path.clone(), new_mode: crate::fsio::SHARED_MODE },
            &output,
        )?;
        eprintln!("{}: key groups updated", path.display());
    }
    Ok(())
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
    let input = read_existing(&args.file)?;
    let format = Format::from_path(&args.file);
    let config = ctx.config()?;
    let group =
        common::key_groups_from_flags(&args.keys)?.map(|groups| groups.concat()).ok_or_else(|| {
            Error::InvalidArgument("groups add needs at least one key flag (e.g. --age)".into())
        })?;
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
    let input = read_existing(&args.file)?;
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

fn read_existing(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => Error::NoSuchFile(path.to_owned()),
        _ => Error::ReadInput { path: path.to_owned(), source },
    })
}

fn write_groups_result(path: &Path, in_place: bool, output: &[u8]) -> Result<()> {
    let destination = if in_place {
        Destination::File { path: path.to_owned(), new_mode: crate::fsio::SHARED_MODE }
    } else {
        Destination::Stdout
    };
    common::write(&destination, output)
}
