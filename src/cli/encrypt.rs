//! `sops-rs encrypt` (and legacy `-e`).

use super::args::EncryptArgs;
use super::common::{self, Context};
use crate::cipher::CipherKind;
use crate::error::{Error, Result};
use crate::keys::KeyServices;
use crate::ops::{self, EncryptRequest};

/// Options only the legacy form has (sops 3.11's `encrypt` lacks them).
#[derive(Default)]
pub struct LegacyOptions {
    pub mac_only_encrypted: bool,
    pub unencrypted_comment_regex: Option<String>,
    pub encrypted_comment_regex: Option<String>,
    pub indent: Option<i64>,
}

pub fn run(ctx: &Context, services: &KeyServices, args: &EncryptArgs, legacy: &LegacyOptions) -> Result<()> {
    let input = common::read_input(args.file.as_deref(), &args.types, &args.output, true)?;
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
    let output = ops::encrypt(&input.bytes, request, services)?;
    common::write(&common::destination(&args.output, &input, false), &output)
}
