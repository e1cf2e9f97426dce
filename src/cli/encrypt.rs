//! `sops-rs encrypt` (and legacy `-e`).

use super::args::{EncryptArgs, OutputArgs};
use super::common::{self, Context};
use crate::cipher::CipherKind;
use crate::error::{Error, Result};
use crate::keys::KeyServices;
use crate::keys::group::DecryptionOrder;
use crate::ops::{self, EncryptRequest, Purpose, update};

/// Options only the legacy form has (sops 3.11's `encrypt` lacks them).
#[derive(Default)]
pub struct LegacyOptions {
    pub mac_only_encrypted: bool,
    pub unencrypted_comment_regex: Option<String>,
    pub encrypted_comment_regex: Option<String>,
    pub indent: Option<i64>,
}

pub fn run(ctx: &Context, services: &KeyServices, args: &EncryptArgs, legacy: &LegacyOptions) -> Result<()> {
    let mut input = common::read_input(ctx, args.file.as_deref(), &args.types, &args.output, true)?;
    let (input_format, output_format) = common::formats(&args.types, &input);
    let config = ctx.config()?;
    let mut store_options = config.as_ref().map(|c| c.stores).unwrap_or_default();
    super::apply_indent(&mut store_options, legacy.indent)?;
    let flag_groups = common::key_groups_from_flags(&args.keys)?;
    let rule = match (&config, &flag_groups) {
        (Some(config), None) => Some(config.rule_for(&input.name)?),
        // Keys on the command line replace the rule's keys; the rule's other
        // settings still apply when one matches.
        (Some(config), Some(_)) => config.rule_for(&input.name).ok(),
        (None, _) => None,
    };
    let key_groups = match (flag_groups, rule) {
        (Some(groups), _) => groups,
        (None, Some(rule)) => rule.key_groups.clone(),
        (None, None) => return Err(Error::NoKeys),
    };
    if key_groups.is_empty() {
        return Err(Error::EmptyKeyGroup);
    }
    let selection = common::selection_rule(
        &args.selection,
        (&legacy.unencrypted_comment_regex, &legacy.encrypted_comment_regex),
        rule,
    )?;
    let cipher = match &args.keys.cipher {
        Some(name) => CipherKind::parse(name).ok_or_else(|| {
            Error::InvalidArgument(format!("unknown cipher {name:?}: use aes256_gcm or xchacha20_poly1305"))
        })?,
        None => rule.and_then(|r| r.cipher).unwrap_or(CipherKind::XChaCha20Poly1305),
    };
    let shamir_threshold = match args.keys.shamir_secret_sharing_threshold {
        Some(n) if n > 0 => n,
        _ => rule.map_or(0, |r| r.shamir_threshold),
    };
    let request = EncryptRequest {
        input_format,
        output_format,
        key_groups,
        shamir_threshold,
        rule: selection,
        mac_only_encrypted: legacy.mac_only_encrypted || rule.is_some_and(|r| r.mac_only_encrypted),
        cipher,
        store_options,
    };
    let destination = common::destination(&args.output, &input, false);
    if let Some(output) = onto_existing(ctx, &args.output, &input.bytes, &request, services)? {
        if let common::Destination::File { path, .. } = &destination
            && crate::fsio::read_file(path, ctx.size_limit).is_ok_and(|old| old == output)
        {
            return Ok(()); // nothing changed: the file is left alone
        }
        return common::write(&destination, &output);
    }
    // Handed over, not lent: the parser keeps these bytes instead of a copy.
    let output = ops::encrypt_in_parts(std::mem::take(&mut input.bytes), request, services)?;
    common::write_parts(&destination, &output.parts().collect::<Vec<_>>())
}

/// `encrypt --output FILE` when FILE already holds an encryption of this
/// data: keep its data key and the envelopes of unchanged values, so only
/// what changed shows in a diff (sops issue #1587). That needs the file to
/// open with the available identities and to use the same master keys,
/// selection rule and cipher as this encryption; otherwise a fresh data key
/// is used, and the reason is printed.
fn onto_existing(
    ctx: &Context,
    output: &OutputArgs,
    plaintext: &[u8],
    request: &EncryptRequest,
    services: &KeyServices,
) -> Result<Option<Vec<u8>>> {
    // Only a regular file can hold an earlier encryption: reading a named
    // pipe would take what another process waits to read, or block.
    let Some(path) = output.output.as_ref().filter(|p| p.is_file()) else { return Ok(None) };
    let Ok(existing) = crate::fsio::read_file(path, ctx.size_limit) else { return Ok(None) };
    let fresh = |why: &str| {
        eprintln!("note: {} exists, but {why}; encrypting with a new data key", path.display());
        Ok(None)
    };
    let order = DecryptionOrder::default();
    let previous = match ops::open(&existing, request.output_format, false, &order, services, Purpose::Update)
    {
        Ok(previous) => previous,
        Err(Error::MetadataNotFound) => return Ok(None),
        Err(error) => return fresh(&format!("it could not be opened ({})", first_line(&error.to_string()))),
    };
    let metadata = &previous.metadata;
    let wanted_rule = request.rule.clone().unwrap_or_default();
    let same_rule = metadata
        .rule
        .as_ref()
        .is_none_or(|(field, value)| field == wanted_rule.field_name() && value == wanted_rule.value())
        && metadata.mac_only_encrypted == request.mac_only_encrypted;
    if !update::same_keys(&metadata.key_groups, &request.key_groups) {
        return fresh("its master keys are not the ones this encryption uses");
    }
    if !same_rule || metadata.cipher() != request.cipher {
        return fresh("its selection rule or cipher differs from this encryption's");
    }
    update::encrypt_onto(
        previous,
        plaintext,
        request.input_format,
        request.output_format,
        &request.store_options,
    )
    .map(Some)
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}
