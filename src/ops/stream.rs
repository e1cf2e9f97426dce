//! `decrypt` of a YAML file without building its tree, when it can be.
//!
//! The metadata is read first (its lines are at the end of the file, found
//! by `stream_decrypt::metadata_start` and parsed on their own), the data
//! key is recovered, and the body is decrypted in one pass
//! (`store::yaml::stream_decrypt`). Whenever that pass declines, the general
//! path runs instead and gives the result or the error; the data key
//! recovered here (or the reason it could not be) is handed over, so a
//! passphrase is never asked for twice and a key service is never called
//! twice for one command.

use zeroize::Zeroizing;

use super::{DecryptRequest, Decrypted, take_metadata, verify_mac};
use crate::cipher::ValueCipher;
use crate::error::Result;
use crate::keys::KeyServices;
use crate::keys::group::unwrap_groups;
use crate::secret::DataKey;
use crate::store::{Format, Source, yaml};
use crate::style::StyleMemory;
use crate::walk::LeafDecryptor;

/// The data key of a file, or why it could not be had, recovered from the
/// `sops` entry that starts at byte `metadata_at`.
pub(crate) struct KnownKey {
    pub metadata_at: usize,
    pub key: Result<DataKey>,
}

pub(super) enum Streamed {
    /// The file was decrypted (or its MAC did not match): the answer.
    Done(Result<Decrypted>),
    /// Use the general path, with the data key when it was recovered.
    Declined(Option<KnownKey>),
}

/// Decrypt `input` in one pass if it is YAML of the block subset.
pub(super) fn decrypt_yaml(input: &Source, request: &DecryptRequest, services: &KeyServices) -> Streamed {
    let one_pass = request.input_format == Format::Yaml
        && request.output_format == Format::Yaml
        && request.extract.is_none();
    if !one_pass {
        return Streamed::Declined(None);
    }
    let Ok(text) = std::str::from_utf8(input.bytes()) else { return Streamed::Declined(None) };
    let Some(start) = yaml::stream_decrypt::metadata_start(text) else { return Streamed::Declined(None) };
    let Ok((mut tail, _)) = yaml::parse(&text.as_bytes()[start..]) else { return Streamed::Declined(None) };
    let Ok(metadata) = take_metadata(&mut tail) else { return Streamed::Declined(None) };
    let data_key = match unwrap_groups(
        &metadata.key_groups,
        metadata.shamir_threshold,
        services,
        &request.decryption_order,
    ) {
        Ok(key) => key,
        Err(error) => return Streamed::Declined(Some(KnownKey { metadata_at: start, key: Err(error) })),
    };
    let cipher = ValueCipher::new(&data_key);
    let decline = move || Streamed::Declined(Some(KnownKey { metadata_at: start, key: Ok(data_key) }));
    let Ok(selection) = metadata.selection() else { return decline() };
    let styles = metadata.style_memory.as_ref().map(|sealed| StyleMemory::open(sealed, &cipher));
    let leaves = LeafDecryptor::new(&selection, &cipher);
    let options = &request.store_options;
    let Some(done) = yaml::stream_decrypt::decrypt(text, start, leaves, styles.as_ref(), options) else {
        return decline();
    };
    if !request.ignore_mac
        && let Err(error) = verify_mac(&metadata, &cipher, &done.mac)
    {
        return Streamed::Done(Err(error));
    }
    Streamed::Done(Ok(Decrypted { output: Zeroizing::new(done.output), warnings: done.warnings }))
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
