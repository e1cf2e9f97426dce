//! `sops-rs decrypt` (and legacy `-d`).

use zeroize::Zeroize;

use super::args::DecryptArgs;
use super::common::{self, Context};
use crate::error::{Error, Result};
use crate::keys::KeyServices;
use crate::keys::group::DecryptionOrder;
use crate::ops::{self, DecryptRequest};
use crate::treepath;

pub fn run(ctx: &Context, services: &KeyServices, args: &DecryptArgs, indent: Option<i64>) -> Result<()> {
    let extract = match &args.extract {
        Some(path) => Some(treepath::parse(path).map_err(Error::InvalidTreePath)?),
        None => None,
    };
    let decryption_order = match &args.decrypt.decryption_order {
        Some(text) => DecryptionOrder::parse(text)?,
        None => DecryptionOrder::default(),
    };
    let mut input = common::read_input(ctx, args.file.as_deref(), &args.types, &args.output, false)?;
    let (input_format, output_format) = common::formats(&args.types, &input);
    let config = ctx.config()?;
    let mut store_options = config.as_ref().map(|c| c.stores).unwrap_or_default();
    super::apply_indent(&mut store_options, indent)?;
    let request = DecryptRequest {
        input_format,
        output_format,
        ignore_mac: args.decrypt.ignore_mac,
        extract,
        decryption_order,
        store_options,
    };
    // Handed over, not lent: the parser keeps these bytes instead of a copy.
    let mut decrypted = ops::decrypt(std::mem::take(&mut input.bytes), request, services)?;
    for warning in &decrypted.warnings {
        eprintln!("warning: {}", warning.0);
    }
    let result = common::write(&common::destination(&args.output, &input, true), &decrypted.output);
    decrypted.output.zeroize();
    result
}
