//! The `sops` metadata block: key groups, `lastmodified`, `mac`, the
//! selection rule and `version`.
//!
//! sops serialises one Go struct for every store, so the block is the same
//! logical mapping everywhere: YAML and JSON nest it under a top-level `sops`
//! key, dotenv and INI flatten it. This module converts between that mapping
//! (a [`Node`] of the format-neutral tree, so each store writes it with its
//! ordinary emitter) and the typed [`Metadata`]. Field order, which fields
//! are omitted when empty, and which are always present are fixed by sops's
//! struct (spec 5.1) and reproduced exactly, because byte-identical output
//! depends on them.
//!
//! Reading is lenient where sops is (unknown fields are kept and written
//! back) and strict where sops is (a bad `version`, `lastmodified` or
//! `created_at` makes the file unreadable).

pub mod flat;

use crate::error::{Error, Result};
use crate::keys::age::AgeKey;
use crate::keys::{AzureKvKey, GcpKmsKey, HcVaultKey, HckmsKey, KmsKey, MasterKey, PgpKey};
use crate::secret::SecretBytes;
use crate::timestamp::Timestamp;
use crate::tree::{Key, MapItem, Node, Pair, Scalar, SeqItem, Value};
use crate::walk::{Selection, SelectionRule};

/// The version we write. sops compares it with 3.3.0 for an old KMS bug, so
/// it must never be lower; 3.11.0 is the format we are compatible with.
pub const WRITE_VERSION: &str = "3.11.0";

/// A list of master keys that all wrap the same secret.
pub type KeyGroup = Vec<MasterKey>;

/// The metadata of an encrypted file.
#[derive(Clone, Debug)]
pub struct Metadata {
    pub key_groups: Vec<KeyGroup>,
    /// 0 when not set.
    pub shamir_threshold: usize,
    /// As stored (`2025-01-01T00:00:00Z`).
    pub last_modified: String,
    /// The encrypted MAC envelope.
    pub mac: String,
    /// The selection rule, when the file names one.
    pub rule: Option<(String, String)>,
    pub mac_only_encrypted: bool,
    pub version: String,
    /// Our style memory envelope (`rs_layout`, see `style`), when any value
    /// was written in a non-default way.
    pub style_memory: Option<String>,
    /// Fields we do not know, kept so a rewrite does not lose them.
    pub unknown: Vec<(String, Node)>,
}

impl PartialEq for Metadata {
    /// Equal in everything but unknown fields, which have no identity of
    /// their own.
    fn eq(&self, other: &Self) -> bool {
        self.key_groups == other.key_groups
            && self.shamir_threshold == other.shamir_threshold
            && self.last_modified == other.last_modified
            && self.mac == other.mac
            && self.rule == other.rule
            && self.mac_only_encrypted == other.mac_only_encrypted
            && self.version == other.version
            && self.style_memory == other.style_memory
            && self.unknown.len() == other.unknown.len()
    }
}

/// How empty key lists inside key groups are written: YAML prints Go's nil
/// slice as `[]`, JSON as `null`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmptyList {
    Brackets,
    Null,
}

impl Metadata {
    /// The selection the walk uses for this file.
    pub fn selection(&self) -> Result<Selection> {
        let rule = match &self.rule {
            Some((field, value)) => SelectionRule::from_field(field, value).map_err(Error::BadMetadata)?,
            None => SelectionRule::default(),
        };
        Ok(Selection { rule, mac_only_encrypted: self.mac_only_encrypted, encrypt_everything: false })
    }

    /// The cipher of the file's values, read from its MAC envelope: a file
    /// keeps its cipher when it is rewritten. Files without a readable MAC
    /// were written by sops, which only knows AES-GCM.
    pub fn cipher(&self) -> crate::cipher::CipherKind {
        crate::cipher::Envelope::parse(&self.mac)
            .map(|envelope| envelope.cipher)
            .unwrap_or(crate::cipher::CipherKind::Aes256Gcm)
    }

    /// The MAC's additional data: `lastmodified` parsed and re-formatted
    /// (spec 4.3).
    pub fn mac_aad(&self) -> Result<String> {
        Timestamp::parse_rfc3339(&self.last_modified).map(|ts| ts.to_rfc3339()).ok_or_else(|| {
            Error::BadMetadata(format!("lastmodified {:?} is not an RFC 3339 time", self.last_modified))
        })
    }

    /// Read the metadata from the value of the `sops` key.
    pub fn from_node(node: &Node) -> Result<Metadata> {
        let Value::Map(items) = &node.value else {
            return Err(Error::BadMetadata("the sops entry is not a mapping".into()));
        };
        let mut meta = Metadata {
            key_groups: Vec::new(),
            shamir_threshold: 0,
            last_modified: String::new(),
            mac: String::new(),
            rule: None,
            mac_only_encrypted: false,
            version: String::new(),
            style_memory: None,
            unknown: Vec::new(),
        };
        let mut flat_group: KeyGroup = Vec::new();
        let mut groups_node = None;
        let mut version_seen = false;
        let mut last_modified_seen = false;
        for item in items {
            let MapItem::Pair(pair) = item else { continue };
            let field = pair.key.name.as_str();
            let value = &pair.value;
            match field {
                "shamir_threshold" => meta.shamir_threshold = read_threshold(value)?,
                "key_groups" => groups_node = Some(value),
                "lastmodified" => {
                    meta.last_modified = read_timestamp_text(value, "lastmodified")?;
                    last_modified_seen = true;
                }
                "mac" => meta.mac = read_string(value, "mac")?.unwrap_or_default(),
                "version" => {
                    meta.version = read_string(value, "version")?.unwrap_or_default();
                    version_seen = true;
                }
                "mac_only_encrypted" => meta.mac_only_encrypted = read_bool(value, field)?,
                crate::style::FIELD => {
                    meta.style_memory = read_string(value, field)?.filter(|t| !t.is_empty())
                }
                f if SelectionRule::FIELDS.contains(&f) => {
                    if let Some(text) = read_string(value, field)?.filter(|t| !t.is_empty()) {
                        if let Some((existing, _)) = &meta.rule {
                            return Err(Error::BadMetadata(format!(
                                "cannot use both {existing} and {field}: a file can have only one selection rule"
                            )));
                        }
                        meta.rule = Some((field.to_owned(), text));
                    }
                }
                f if KEY_TYPES.contains(&f) => flat_group.extend(read_key_list(f, value)?),
                _ => meta.unknown.push((field.to_owned(), value.clone())),
            }
        }
        if !last_modified_seen || meta.last_modified.is_empty() {
            return Err(Error::BadMetadata("lastmodified is missing".into()));
        }
        meta.mac_aad()?;
        if !version_seen {
            return Err(Error::BadMetadata("version is missing".into()));
        }
        check_version(&meta.version)?;
        if !flat_group.is_empty() {
            // Flat lists win over key_groups (spec 5.1).
            meta.key_groups = vec![flat_group];
        } else if let Some(groups) = groups_node {
            meta.key_groups = read_key_groups(groups)?;
        }
        if meta.key_groups.iter().all(|g| g.is_empty()) {
            return Err(Error::BadMetadata("No keys found in file".into()));
        }
        if let Some((field, value)) = &meta.rule {
            SelectionRule::from_field(field, value).map_err(Error::BadMetadata)?;
        }
        Ok(meta)
    }

    /// The `sops` mapping in sops's field order (spec 5.1).
    pub fn to_node(&self, empty_list: EmptyList) -> Node {
        let mut items = Vec::new();
        if self.shamir_threshold != 0 {
            items.push(field("shamir_threshold", int(self.shamir_threshold as i64)));
        }
        if self.key_groups.len() >= 2 {
            let groups =
                self.key_groups.iter().map(|group| SeqItem::Value(group_node(group, empty_list))).collect();
            items.push(field("key_groups", Node::seq(groups)));
        } else if let Some(group) = self.key_groups.first() {
            for type_id in ["kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age"] {
                if let Some(list) = key_list(group, type_id) {
                    items.push(field(type_id, list));
                }
            }
        }
        items.push(field("lastmodified", string(&self.last_modified)));
        items.push(field("mac", string(&self.mac)));
        if self.key_groups.len() < 2
            && let Some(list) = self.key_groups.first().and_then(|g| key_list(g, "pgp"))
        {
            items.push(field("pgp", list));
        }
        for rule_field in SelectionRule::FIELDS {
            if let Some((f, value)) = &self.rule
                && f == rule_field
            {
                items.push(field(rule_field, string(value)));
            }
        }
        if self.mac_only_encrypted {
            items.push(field("mac_only_encrypted", Node::scalar(Scalar::Bool(true))));
        }
        items.push(field("version", string(&self.version)));
        if let Some(sealed) = &self.style_memory {
            items.push(field(crate::style::FIELD, string(sealed)));
        }
        for (name, value) in &self.unknown {
            items.push(field(name, value.clone()));
        }
        Node::map(items)
    }
}

const KEY_TYPES: [&str; 7] = ["kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age", "pgp"];

fn field(name: &str, value: Node) -> MapItem {
    MapItem::Pair(Pair { key: Key::new(name), value })
}

fn string(text: &str) -> Node {
    Node::scalar(Scalar::Str(SecretBytes::from_text(text)))
}

fn int(value: i64) -> Node {
    Node::scalar(Scalar::Int(value))
}

fn map(entries: Vec<(&str, Node)>) -> Node {
    Node::map(entries.into_iter().map(|(k, v)| field(k, v)).collect())
}

/// One key group entry: pgp, kms, gcp_kms, hckms and azure_kv when not
/// empty; hc_vault and age always (spec 5.1).
fn group_node(group: &[MasterKey], empty_list: EmptyList) -> Node {
    let mut items = Vec::new();
    for type_id in ["pgp", "kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age"] {
        match key_list(group, type_id) {
            Some(list) => items.push(field(type_id, list)),
            None if matches!(type_id, "hc_vault" | "age") => {
                let empty = match empty_list {
                    EmptyList::Brackets => Node::seq(Vec::new()),
                    EmptyList::Null => Node::scalar(Scalar::Null),
                };
                items.push(field(type_id, empty));
            }
            None => {}
        }
    }
    Node::map(items)
}

/// The keys of one type in a group, as a sequence of mappings; `None` when
/// the group has none.
fn key_list(group: &[MasterKey], type_id: &str) -> Option<Node> {
    let entries: Vec<SeqItem> =
        group.iter().filter(|k| k.type_id() == type_id).map(|k| SeqItem::Value(key_node(k))).collect();
    (!entries.is_empty()).then(|| Node::seq(entries))
}

fn key_node(key: &MasterKey) -> Node {
    match key {
        MasterKey::Age(k) => map(vec![("recipient", string(&k.recipient)), ("enc", string(&k.enc))]),
        MasterKey::Pgp(k) => map(vec![
            ("created_at", string(&k.created_at)),
            ("enc", string(&k.enc)),
            ("fp", string(&k.fingerprint)),
        ]),
        MasterKey::Kms(k) => {
            let mut entries = vec![("arn", string(&k.arn))];
            if !k.role.is_empty() {
                entries.push(("role", string(&k.role)));
            }
            if !k.context.is_empty() {
                let mut context = k.context.clone();
                context.sort();
                let context_items = context.iter().map(|(name, value)| field(name, string(value))).collect();
                entries.push(("context", Node::map(context_items)));
            }
            entries.push(("created_at", string(&k.created_at)));
            entries.push(("enc", string(&k.enc)));
            entries.push(("aws_profile", string(&k.aws_profile)));
            map(entries)
        }
        MasterKey::GcpKms(k) => map(vec![
            ("resource_id", string(&k.resource_id)),
            ("created_at", string(&k.created_at)),
            ("enc", string(&k.enc)),
        ]),
        MasterKey::AzureKv(k) => map(vec![
            ("vault_url", string(&k.vault_url)),
            ("name", string(&k.name)),
            ("version", string(&k.version)),
            ("created_at", string(&k.created_at)),
            ("enc", string(&k.enc)),
        ]),
        MasterKey::HcVault(k) => map(vec![
            ("vault_address", string(&k.vault_address)),
            ("engine_path", string(&k.engine_path)),
            ("key_name", string(&k.key_name)),
            ("created_at", string(&k.created_at)),
            ("enc", string(&k.enc)),
        ]),
        MasterKey::Hckms(k) => map(vec![
            ("key_id", string(&k.key_id)),
            ("created_at", string(&k.created_at)),
            ("enc", string(&k.enc)),
        ]),
    }
}

fn read_key_groups(node: &Node) -> Result<Vec<KeyGroup>> {
    let items = match &node.value {
        Value::Seq(items) => items,
        Value::Scalar(Scalar::Null) => return Ok(Vec::new()),
        _ => return Err(Error::BadMetadata("key_groups is not a list".into())),
    };
    let mut groups = Vec::new();
    for item in items {
        let SeqItem::Value(group) = item else {
            continue;
        };
        let Value::Map(entries) = &group.value else {
            return Err(Error::BadMetadata("a key group is not a mapping".into()));
        };
        let mut keys = Vec::new();
        for entry in entries {
            let MapItem::Pair(pair) = entry else { continue };
            if KEY_TYPES.contains(&pair.key.name.as_str()) {
                keys.extend(read_key_list(&pair.key.name, &pair.value)?);
            }
        }
        groups.push(keys);
    }
    Ok(groups)
}

fn read_key_list(type_id: &str, node: &Node) -> Result<Vec<MasterKey>> {
    let items = match &node.value {
        Value::Seq(items) => items,
        Value::Scalar(Scalar::Null) => return Ok(Vec::new()),
        _ => return Err(Error::BadMetadata(format!("{type_id} is not a list"))),
    };
    let mut keys = Vec::new();
    for item in items {
        let SeqItem::Value(entry) = item else {
            continue;
        };
        let Value::Map(fields) = &entry.value else {
            return Err(Error::BadMetadata(format!("an entry of {type_id} is not a mapping")));
        };
        let get = |name: &str| -> Result<String> {
            match crate::tree::map_get(fields, name) {
                Some(node) => Ok(read_string(node, name)?.unwrap_or_default()),
                None => Ok(String::new()),
            }
        };
        let created_at = || -> Result<String> {
            let text = get("created_at")?;
            if Timestamp::parse_rfc3339(&text).is_none() {
                return Err(Error::BadMetadata(format!(
                    "a {type_id} key has a missing or invalid created_at {text:?}"
                )));
            }
            Ok(text)
        };
        let key = match type_id {
            "age" => MasterKey::Age(AgeKey { recipient: get("recipient")?, enc: get("enc")? }),
            "pgp" => MasterKey::Pgp(PgpKey {
                fingerprint: get("fp")?,
                created_at: created_at()?,
                enc: get("enc")?,
            }),
            "kms" => {
                let mut context = Vec::new();
                if let Some(node) = crate::tree::map_get(fields, "context")
                    && let Value::Map(entries) = &node.value
                {
                    for entry in entries {
                        if let MapItem::Pair(p) = entry {
                            context.push((
                                p.key.name.clone(),
                                read_string(&p.value, "context")?.unwrap_or_default(),
                            ));
                        }
                    }
                }
                // A map: its order carries no meaning; sops writes it sorted.
                context.sort();
                MasterKey::Kms(KmsKey {
                    arn: get("arn")?,
                    role: get("role")?,
                    context,
                    created_at: created_at()?,
                    enc: get("enc")?,
                    aws_profile: get("aws_profile")?,
                })
            }
            "gcp_kms" => MasterKey::GcpKms(GcpKmsKey {
                resource_id: get("resource_id")?,
                created_at: created_at()?,
                enc: get("enc")?,
            }),
            "azure_kv" => MasterKey::AzureKv(AzureKvKey {
                vault_url: get("vault_url")?,
                name: get("name")?,
                version: get("version")?,
                created_at: created_at()?,
                enc: get("enc")?,
            }),
            "hc_vault" => MasterKey::HcVault(HcVaultKey {
                vault_address: get("vault_address")?,
                engine_path: get("engine_path")?,
                key_name: get("key_name")?,
                created_at: created_at()?,
                enc: get("enc")?,
            }),
            "hckms" => MasterKey::Hckms(HckmsKey {
                key_id: get("key_id")?,
                created_at: created_at()?,
                enc: get("enc")?,
            }),
            _ => unreachable!("read_key_list called with a known type"),
        };
        keys.push(key);
    }
    Ok(keys)
}

/// A string field. Null counts as absent. Other scalar types are refused, as
/// sops refuses a non-string `version` in JSON.
fn read_string(node: &Node, name: &str) -> Result<Option<String>> {
    match &node.value {
        Value::Scalar(Scalar::Null) => Ok(None),
        Value::Scalar(Scalar::Str(bytes)) => bytes
            .as_str()
            .map(|s| Some(s.to_owned()))
            .ok_or_else(|| Error::BadMetadata(format!("{name} is not valid UTF-8"))),
        _ => Err(Error::BadMetadata(format!("{name} must be a string"))),
    }
}

/// `lastmodified` may be an unquoted YAML timestamp, which the YAML store
/// types as a time (spec 5.5.1).
fn read_timestamp_text(node: &Node, name: &str) -> Result<String> {
    match &node.value {
        Value::Scalar(Scalar::Time(ts)) => Ok(ts.to_rfc3339_nano()),
        _ => Ok(read_string(node, name)?.unwrap_or_default()),
    }
}

fn read_bool(node: &Node, name: &str) -> Result<bool> {
    match &node.value {
        Value::Scalar(Scalar::Bool(b)) => Ok(*b),
        Value::Scalar(Scalar::Null) => Ok(false),
        // dotenv and INI store it as a string; only "true" is true.
        Value::Scalar(Scalar::Str(bytes)) => Ok(bytes.as_bytes() == b"true"),
        _ => Err(Error::BadMetadata(format!("{name} must be a boolean"))),
    }
}

fn read_threshold(node: &Node) -> Result<usize> {
    let bad = || Error::BadMetadata("shamir_threshold must be a non-negative integer".into());
    match &node.value {
        Value::Scalar(Scalar::Int(i)) => usize::try_from(*i).map_err(|_| bad()),
        Value::Scalar(Scalar::Float(f)) if f.fract() == 0.0 && *f >= 0.0 && *f < 256.0 => Ok(*f as usize),
        Value::Scalar(Scalar::Null) => Ok(0),
        // dotenv and INI: "2", or "2.000000" from older sops.
        Value::Scalar(Scalar::Str(bytes)) => {
            let text = bytes.as_str().ok_or_else(bad)?;
            if let Ok(n) = text.parse::<usize>() {
                return Ok(n);
            }
            let f: f64 = text.parse().map_err(|_| bad())?;
            if f.fract() == 0.0 && (0.0..256.0).contains(&f) { Ok(f as usize) } else { Err(bad()) }
        }
        _ => Err(bad()),
    }
}

/// sops refuses files whose version is not semver (spec 5.4).
fn check_version(version: &str) -> Result<()> {
    if version.is_empty() {
        return Err(Error::BadMetadata("Version string empty".into()));
    }
    let core = version.strip_prefix('v').unwrap_or(version);
    let core = core.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return Err(Error::BadMetadata(format!("version {version:?}: No Major.Minor.Patch elements found")));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
