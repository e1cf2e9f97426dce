//! Changing who can open a file: `rotate`, `updatekeys`, `groups`.
//!
//! Two different operations hide behind these commands, and keeping them
//! apart is what makes their diffs small:
//!
//! - **rotate** makes a new data key. Every value must be encrypted again,
//!   so the whole file is opened (decrypted and MAC-checked), sealed under
//!   the new key, and every master key wraps the new key.
//! - **updatekeys** and **groups** keep the data key and only change the
//!   master keys that wrap it. Values, MAC and `lastmodified` do not change,
//!   so only the metadata block is rewritten; in a single-group file a key
//!   that stays keeps its `enc` byte for byte.

use std::collections::HashMap;

use super::{Purpose, Sealing, empty_list_style, open, take_metadata};
use crate::cipher::CipherKind;
use crate::error::{Error, Result};
use crate::keys::group::{DecryptionOrder, unwrap_groups, wrap_groups};
use crate::keys::shamir;
use crate::keys::{KeyServices, MasterKey};
use crate::metadata::{KeyGroup, Metadata};
use crate::secret::DataKey;
use crate::store::{self, Format, StoreOptions};

/// A master key's identity for comparisons: its type and how it is named.
pub fn key_id(key: &MasterKey) -> (&'static str, String) {
    (key.type_id(), key.identifier())
}

/// What `rotate` needs besides the input.
pub struct RotateRequest {
    pub format: Format,
    /// Added to the first key group.
    pub add: Vec<MasterKey>,
    /// Removed from every group, by type and name.
    pub remove: Vec<MasterKey>,
    /// Switch the value cipher; `None` keeps the file's.
    pub cipher: Option<CipherKind>,
    pub ignore_mac: bool,
    pub decryption_order: DecryptionOrder,
    pub store_options: StoreOptions,
}

/// A new data key, every value encrypted again, and the key changes.
pub fn rotate(input: &[u8], request: RotateRequest, services: &KeyServices) -> Result<Vec<u8>> {
    let mut opened =
        open(input, request.format, request.ignore_mac, &request.decryption_order, services, Purpose::Read)?;
    let old = &opened.metadata;
    let mut groups = change_keys(&old.key_groups, &request.add, &request.remove)?;
    for key in groups.iter_mut().flatten() {
        clear_wrapped(key);
    }
    let data_key = DataKey::generate().map_err(|e| Error::Random(e.to_string()))?;
    let threshold = capped_threshold(old.shamir_threshold, groups.len());
    wrap_groups(&mut groups, &data_key, threshold, services)?;
    let sealing = Sealing {
        data_key: &data_key,
        cipher: request.cipher.unwrap_or_else(|| old.cipher()),
        selection: old.selection()?,
        rule: old.rule.clone(),
        // sops keeps the file's version on rotate.
        version: old.version.clone(),
    };
    let styled = std::mem::take(&mut opened.restored_styles);
    let mut metadata = sealing.seal(&mut opened.parsed.tree, styled, groups, threshold, None)?;
    metadata.unknown = old.unknown.clone();
    let node = metadata.to_node(empty_list_style(request.format));
    store::emit(
        request.format,
        &opened.parsed.tree,
        Some(&opened.parsed.layout),
        Some(&node),
        &request.store_options,
    )
}

/// The key groups after `--add-*` (to the first group) and `--rm-*` (from
/// every group). Removing a key that is not there is an error, as is
/// leaving a group empty.
pub fn change_keys(groups: &[KeyGroup], add: &[MasterKey], remove: &[MasterKey]) -> Result<Vec<KeyGroup>> {
    let mut groups = groups.to_vec();
    for key in remove {
        let id = key_id(key);
        let before: usize = groups.iter().map(Vec::len).sum();
        for group in &mut groups {
            group.retain(|k| key_id(k) != id);
        }
        if groups.iter().map(Vec::len).sum::<usize>() == before {
            return Err(Error::InvalidArgument(format!("the file has no {} key {}", id.0, id.1)));
        }
    }
    if let Some(first) = groups.first_mut() {
        for key in add {
            if !first.iter().any(|k| key_id(k) == key_id(key)) {
                first.push(key.clone());
            }
        }
    } else if !add.is_empty() {
        groups.push(add.to_vec());
    }
    if groups.is_empty() || groups.iter().any(Vec::is_empty) {
        return Err(Error::EmptyKeyGroup);
    }
    Ok(groups)
}

/// A key's wrapped secret and creation time, cleared for wrapping anew.
fn clear_wrapped(key: &mut MasterKey) {
    match key {
        MasterKey::Age(k) => k.enc.clear(),
        MasterKey::Pgp(k) => {
            k.enc.clear();
            k.created_at.clear();
        }
        MasterKey::Kms(k) => {
            k.enc.clear();
            k.created_at.clear();
        }
        MasterKey::GcpKms(k) => {
            k.enc.clear();
            k.created_at.clear();
        }
        MasterKey::AzureKv(k) => {
            k.enc.clear();
            k.created_at.clear();
        }
        MasterKey::HcVault(k) => {
            k.enc.clear();
            k.created_at.clear();
        }
        MasterKey::Hckms(k) => {
            k.enc.clear();
            k.created_at.clear();
        }
    }
}

/// sops keeps the file's threshold, capped at the number of groups; with
/// one group there is none, and with several and none set, all are needed
/// (and that is written down).
fn capped_threshold(threshold: usize, groups: usize) -> usize {
    match (groups, threshold) {
        (0 | 1, _) => 0,
        (n, 0) => n,
        (n, t) => t.min(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::age::AgeKey;

    fn age(r: &str) -> MasterKey {
        MasterKey::Age(AgeKey { recipient: r.into(), enc: "x".into() })
    }

    #[test]
    fn adds_to_the_first_group_and_removes_everywhere() {
        let groups = vec![vec![age("a"), age("b")], vec![age("b"), age("c")]];
        let changed = change_keys(&groups, &[age("d")], &[age("b")]).unwrap();
        let ids: Vec<Vec<String>> =
            changed.iter().map(|g| g.iter().map(|k| k.identifier()).collect()).collect();
        assert_eq!(ids, [vec!["a", "d"], vec!["c"]]);
        assert!(change_keys(&groups, &[], &[age("zzz")]).is_err(), "removing a missing key is an error");
        assert_eq!(change_keys(&[vec![age("a")]], &[], &[age("a")]).unwrap_err().exit_code(), 1);
    }

    #[test]
    fn reports_added_and_removed_keys() {
        let changes = key_changes(&[vec![age("a"), age("b")]], &[vec![age("a"), age("c")]]);
        assert_eq!(changes.added, ["age c"]);
        assert_eq!(changes.removed, ["age b"]);
        assert!(key_changes(&[vec![age("a")]], &[vec![age("a")]]).is_empty());
        let grouped = key_changes(&[vec![age("a")]], &[vec![age("a")], vec![age("b")]]);
        assert_eq!(grouped.added, ["group 2: age b"]);
    }

    #[test]
    fn thresholds_follow_sops() {
        assert_eq!(capped_threshold(2, 1), 0);
        assert_eq!(capped_threshold(0, 3), 3);
        assert_eq!(capped_threshold(5, 3), 3);
        assert_eq!(capped_threshold(2, 3), 2);
    }
}

/// What `updatekeys` and `groups` change: the new groups and threshold.
pub struct Rewrap {
    pub format: Format,
    pub key_groups: Vec<KeyGroup>,
    /// `None` keeps the file's threshold (capped at the number of groups).
    pub shamir_threshold: Option<usize>,
    pub decryption_order: DecryptionOrder,
    pub store_options: StoreOptions,
}

/// The differences between a file's keys and new groups, for showing.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct KeyChanges {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub groups_before: usize,
    pub groups_after: usize,
}

impl KeyChanges {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.groups_before == self.groups_after
    }
}

/// Compare key groups by type and name.
pub fn key_changes(before: &[KeyGroup], after: &[KeyGroup]) -> KeyChanges {
    let ids = |groups: &[KeyGroup]| -> Vec<(usize, String)> {
        groups
            .iter()
            .enumerate()
            .flat_map(|(i, g)| g.iter().map(move |k| (i, format!("{} {}", k.type_id(), k.identifier()))))
            .collect()
    };
    let (old, new) = (ids(before), ids(after));
    let label = |(group, name): &(usize, String), groups: usize| {
        if groups > 1 { format!("group {}: {name}", group + 1) } else { name.clone() }
    };
    KeyChanges {
        added: new.iter().filter(|k| !old.contains(k)).map(|k| label(k, after.len())).collect(),
        removed: old.iter().filter(|k| !new.contains(k)).map(|k| label(k, before.len())).collect(),
        groups_before: before.len(),
        groups_after: after.len(),
    }
}

/// The metadata of an encrypted file, without opening it.
pub fn read_metadata(input: &[u8], format: Format) -> Result<Metadata> {
    let mut parsed = store::parse_encrypted(format, input)?;
    take_metadata(&mut parsed.tree)
}

/// Wrap the file's data key for new key groups; values, MAC and
/// `lastmodified` stay as they are.
pub fn rewrap(input: &[u8], request: Rewrap, services: &KeyServices) -> Result<Vec<u8>> {
    let mut parsed = store::parse_encrypted(request.format, input)?;
    let mut metadata = take_metadata(&mut parsed.tree)?;
    let data_key =
        unwrap_groups(&metadata.key_groups, metadata.shamir_threshold, services, &request.decryption_order)?;
    let mut groups = request.key_groups;
    if groups.is_empty() || groups.iter().any(Vec::is_empty) {
        return Err(Error::EmptyKeyGroup);
    }
    let threshold =
        capped_threshold(request.shamir_threshold.unwrap_or(metadata.shamir_threshold), groups.len());
    if groups.len() >= 2 && threshold == 1 {
        return Err(Error::WrapFailed(shamir::ShamirError::ThresholdTooSmall(1).to_string()));
    }
    if groups.len() == 1 && metadata.key_groups.len() == 1 {
        // The same data key is wrapped again: a key that stays keeps its
        // wrapped copy, so the diff shows only what changed.
        let kept: HashMap<(&str, String), &MasterKey> = metadata.key_groups[0]
            .iter()
            .map(|k| (k.type_id(), k.identifier()))
            .zip(&metadata.key_groups[0])
            .collect();
        for key in &mut groups[0] {
            match kept.get(&(key.type_id(), key.identifier())) {
                Some(existing) => *key = (*existing).clone(),
                None => key.wrap(data_key.expose(), services).map_err(|failure| {
                    Error::WrapFailed(format!("{} {}: {}", key.type_id(), key.identifier(), failure.message))
                })?,
            }
        }
    } else {
        for key in groups.iter_mut().flatten() {
            clear_wrapped(key);
        }
        wrap_groups(&mut groups, &data_key, threshold, services)?;
    }
    metadata.key_groups = groups;
    metadata.shamir_threshold = threshold;
    let node = metadata.to_node(empty_list_style(request.format));
    store::emit(request.format, &parsed.tree, Some(&parsed.layout), Some(&node), &request.store_options)
}
