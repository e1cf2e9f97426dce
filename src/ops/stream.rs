//! `decrypt` and `encrypt` of a YAML file without building its tree, when
//! it can be.
//!
//! The metadata is read first (its lines are at the end of the file, found
//! by `one_pass::metadata_start` and parsed on their own), the data
//! key is recovered, and the body is decrypted in one pass
//! (`store::yaml::one_pass`). Whenever that pass declines, the general
//! path runs instead and gives the result or the error; the data key
//! recovered here (or the reason it could not be) is handed over, so a
//! passphrase is never asked for twice and a key service is never called
//! twice for one command. Encrypting wraps the data key only after the
//! body is taken, so a declined file's keys are wrapped once, by the
//! general path.

use super::{
    DecryptRequest, Decrypted, EncryptRequest, Sealing, empty_list_style, take_metadata, verify_mac,
};
use crate::cipher::ValueCipher;
use crate::error::Result;
use crate::keys::KeyServices;
use crate::keys::group::{unwrap_groups, wrap_groups};
use crate::metadata::KeyGroup;
use crate::secret::DataKey;
use crate::store::{Format, Source, yaml};
use crate::style::StyleMemory;
use crate::walk::LeafWalk;

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
    let Some(start) = yaml::one_pass::metadata_start(text) else { return Streamed::Declined(None) };
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
    let leaves = LeafWalk::new(&selection, &cipher);
    let options = &request.store_options;
    let Some(done) = yaml::one_pass::decrypt(text, start, leaves, styles.as_ref(), options) else {
        return decline();
    };
    if !request.ignore_mac
        && let Err(error) = verify_mac(&metadata, &cipher, &done.mac)
    {
        return Streamed::Done(Err(error));
    }
    Streamed::Done(Ok(Decrypted {
        output: crate::secret::SecretVec::new(done.output),
        warnings: done.warnings,
    }))
}

/// Encrypt `input` in one pass if it is YAML of the block subset. The key
/// groups are taken from `key_groups` and wrapped only
/// once the file is taken (so a declined file's keys are wrapped once, by
/// the general path); `None`: use the general path.
pub(super) fn encrypt_yaml(
    input: &Source,
    request: &EncryptRequest,
    sealing: &Sealing<'_>,
    key_groups: &mut Option<Vec<KeyGroup>>,
    services: &KeyServices,
) -> Option<Result<super::Output>> {
    if request.input_format != Format::Yaml || request.output_format != Format::Yaml {
        return None;
    }
    let text = std::str::from_utf8(input.bytes()).ok()?;
    let cipher = ValueCipher::new(sealing.data_key);
    let leaves = LeafWalk::encrypting(&sealing.selection, &cipher, sealing.cipher);
    yaml::one_pass::encrypt(text, leaves, &request.store_options, |done| {
        let mut groups = key_groups.take().unwrap_or_default();
        wrap_groups(&mut groups, sealing.data_key, request.shamir_threshold, services)?;
        let metadata =
            sealing.metadata(&cipher, done.mac, done.style_memory, groups, request.shamir_threshold, None)?;
        Ok(metadata.to_node(empty_list_style(Format::Yaml)))
    })
    .map(|encrypted| encrypted.map(super::Output::from_parts))
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
