//! `.sops-rs.yaml` and `.sops.yaml`: finding the file, reading it, and
//! choosing the creation rule for a path.
//!
//! The schema is sops's (spec 9.2), so an existing `.sops.yaml` works
//! unchanged; our additions (`cipher` in a creation rule) live in the same
//! rules and are ignored by sops. Discovery walks up from the current
//! directory, as sops does (not from the file's directory). At each level a
//! `.sops-rs.yaml` is preferred to a `.sops.yaml`, and the nearest level
//! wins, so a sub-project's own `.sops.yaml` still applies inside it.
//!
//! The file is read with our own YAML parser into the tree and checked field
//! by field, so a mistake is reported with the field's name and the config
//! file's path instead of a deserializer's type error.

use std::path::{Path, PathBuf};

use regex::Regex;

use crate::cipher::CipherKind;
use crate::env::Environment;
use crate::error::{Error, Result};
use crate::keys::age::AgeKey;
use crate::keys::{AzureKvKey, GcpKmsKey, HcVaultKey, HckmsKey, KmsKey, MasterKey, PgpKey};
use crate::metadata::KeyGroup;
use crate::store::{MAX_JSON_INDENT, StoreOptions};
use crate::tree::{MapItem, Node, Scalar, SeqItem, Value};
use crate::walk::SelectionRule;

/// Config file names, in order of preference at each directory level.
pub const FILE_NAMES: [&str; 2] = [".sops-rs.yaml", ".sops.yaml"];

/// How many parent directories discovery looks at (as sops).
const MAX_LEVELS: usize = 100;

/// A parsed config file.
#[derive(Debug)]
pub struct Config {
    pub path: PathBuf,
    pub creation_rules: Vec<CreationRule>,
    pub stores: StoreOptions,
    /// Ours: `audit: {path: ...}`, relative to the config's directory.
    pub audit_path: Option<PathBuf>,
}

/// One entry of `creation_rules`.
#[derive(Debug, Clone, Default)]
pub struct CreationRule {
    /// `None` matches every path.
    pub path_regex: Option<Regex>,
    pub key_groups: Vec<KeyGroup>,
    pub shamir_threshold: usize,
    pub rule: Option<SelectionRule>,
    pub mac_only_encrypted: bool,
    /// Ours: the cipher for new files.
    pub cipher: Option<CipherKind>,
}

/// Find the config file: `SOPS_CONFIG` if set, else walk up from `start`.
pub fn discover(start: &Path, env: &Environment) -> Option<PathBuf> {
    if let Some(path) = env.non_empty("SOPS_CONFIG") {
        return Some(PathBuf::from(path));
    }
    let mut dir = Some(start);
    for _ in 0..MAX_LEVELS {
        let current = dir?;
        for name in FILE_NAMES {
            let candidate = current.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
        dir = current.parent();
    }
    None
}

impl Config {
    /// Read and check a config file (within the default size limit; the
    /// command line reads it itself, within `SOPS_RS_MAX_FILE_SIZE`).
    pub fn load(path: &Path) -> Result<Config> {
        let bytes = crate::fsio::read_file(path, crate::fsio::SizeLimit::default())
            .map_err(|e| Error::Config { path: path.to_owned(), message: format!("cannot read it: {e}") })?;
        Config::from_bytes(path, &bytes)
    }

    /// Check config text; `path` is used for messages and rule matching.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Config> {
        let fail = |message: String| Error::Config { path: path.to_owned(), message };
        let mut config = Config {
            path: path.to_owned(),
            creation_rules: Vec::new(),
            stores: StoreOptions::default(),
            audit_path: None,
        };
        let tree = match crate::store::yaml::parse(bytes) {
            Ok((tree, _)) => tree,
            Err(Error::EmptyInput) => return Ok(config),
            Err(e) => return Err(fail(e.to_string())),
        };
        let Some(document) = tree.documents.first() else {
            return Ok(config);
        };
        for item in &document.items {
            let MapItem::Pair(pair) = item else { continue };
            match pair.key.name.as_str() {
                "creation_rules" => {
                    for (index, rule) in
                        seq_items(&pair.value, "creation_rules").map_err(fail)?.iter().enumerate()
                    {
                        let rule =
                            parse_rule(rule).map_err(|m| fail(format!("creation_rules[{index}]: {m}")))?;
                        config.creation_rules.push(rule);
                    }
                }
                "stores" => config.stores = parse_stores(&pair.value).map_err(fail)?,
                "audit" => {
                    for (name, value) in map_pairs(&pair.value, "audit").map_err(fail)? {
                        if name == "path" {
                            let text = text(value, "audit.path").map_err(fail)?;
                            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                            config.audit_path = (!text.is_empty()).then(|| dir.join(text));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(config)
    }

    /// The directory the config file is in; rule paths are relative to it.
    pub fn dir(&self) -> PathBuf {
        let dir = self.path.parent().map(Path::to_path_buf).unwrap_or_default();
        std::path::absolute(&dir).unwrap_or(dir)
    }

    /// The first creation rule whose `path_regex` matches `file` (spec 9.2):
    /// the path is made absolute, the config directory is removed from its
    /// start when it lies under it, and the regex searches the rest.
    pub fn rule_for(&self, file: &Path) -> Result<&CreationRule> {
        let relative = self.match_path(file);
        self.creation_rules
            .iter()
            .find(|rule| rule.path_regex.as_ref().is_none_or(|re| re.is_match(&relative)))
            .ok_or_else(|| Error::NoMatchingRule { config: self.path.clone(), file: relative })
    }

    fn match_path(&self, file: &Path) -> String {
        let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        let dir = self.dir();
        match absolute.strip_prefix(&dir) {
            Ok(rest) if !dir.as_os_str().is_empty() => rest.to_string_lossy().into_owned(),
            _ => absolute.to_string_lossy().into_owned(),
        }
    }
}

fn seq_items<'a>(node: &'a Node, what: &str) -> std::result::Result<Vec<&'a Node>, String> {
    match &node.value {
        Value::Seq(items) => Ok(items
            .iter()
            .filter_map(|i| match i {
                SeqItem::Value(v) => Some(v),
                SeqItem::Comment(_) => None,
            })
            .collect()),
        Value::Scalar(Scalar::Null) => Ok(Vec::new()),
        _ => Err(format!("{what} must be a list")),
    }
}

fn map_pairs<'a>(node: &'a Node, what: &str) -> std::result::Result<Vec<(&'a str, &'a Node)>, String> {
    match &node.value {
        Value::Map(items) => Ok(items
            .iter()
            .filter_map(|i| match i {
                MapItem::Pair(p) => Some((p.key.name.as_str(), &p.value)),
                MapItem::Comment(_) => None,
            })
            .collect()),
        Value::Scalar(Scalar::Null) => Ok(Vec::new()),
        _ => Err(format!("{what} must be a mapping")),
    }
}

/// A scalar as text (config values are read as go-yaml reads them into
/// Go strings: numbers and booleans keep their spelling's value).
fn text(node: &Node, what: &str) -> std::result::Result<String, String> {
    match &node.value {
        Value::Scalar(Scalar::Str(s)) => {
            s.as_str().map(str::to_owned).ok_or_else(|| format!("{what} is not UTF-8"))
        }
        Value::Scalar(Scalar::Null) => Ok(String::new()),
        Value::Scalar(Scalar::Int(i)) => Ok(i.to_string()),
        Value::Scalar(Scalar::Bool(b)) => Ok(b.to_string()),
        Value::Scalar(Scalar::Float(f)) => Ok(crate::gofmt::format_float_yaml(*f)),
        _ => Err(format!("{what} must be a string")),
    }
}

fn int(node: &Node, what: &str) -> std::result::Result<i64, String> {
    match &node.value {
        Value::Scalar(Scalar::Int(i)) => Ok(*i),
        Value::Scalar(Scalar::Null) => Ok(0),
        _ => Err(format!("{what} must be an integer")),
    }
}

/// A key list: a comma-separated string or a YAML list of strings.
fn string_list(node: &Node, what: &str) -> std::result::Result<Vec<String>, String> {
    match &node.value {
        Value::Seq(_) => seq_items(node, what)?.into_iter().map(|n| text(n, what)).collect(),
        _ => Ok(split_list(&text(node, what)?)),
    }
}

/// sops's comma-separated lists: items trimmed, empty items skipped.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn parse_rule(node: &Node) -> std::result::Result<CreationRule, String> {
    let mut rule = CreationRule::default();
    let mut flat: KeyGroup = Vec::new();
    let mut flat_kms: Vec<String> = Vec::new();
    let mut aws_profile = String::new();
    let mut selection: Vec<(String, String)> = Vec::new();
    for (name, value) in map_pairs(node, "a creation rule")? {
        match name {
            "path_regex" => {
                let pattern = text(value, name)?;
                if !pattern.is_empty() {
                    rule.path_regex = Some(Regex::new(&pattern).map_err(|e| {
                        format!("path_regex {pattern:?} is invalid: {}", crate::walk::regex_problem(&e))
                    })?);
                }
            }
            "age" => flat
                .extend(string_list(value, name)?.iter().map(|r| age_key(r)).collect::<Result<Vec<_>, _>>()?),
            "pgp" => flat.extend(string_list(value, name)?.into_iter().map(pgp_key)),
            "kms" => flat_kms = string_list(value, name)?,
            "aws_profile" => aws_profile = text(value, name)?,
            "gcp_kms" => flat.extend(string_list(value, name)?.into_iter().map(gcp_key)),
            "azure_keyvault" => {
                for url in string_list(value, name)? {
                    flat.push(azure_key_from_url(&url)?);
                }
            }
            "hc_vault_transit_uri" => {
                for uri in string_list(value, name)? {
                    flat.push(vault_key_from_uri(&uri)?);
                }
            }
            "hckms" => {
                for id in string_list(value, name)? {
                    flat.push(hckms_key(&id)?);
                }
            }
            "key_groups" => {
                for (index, group) in seq_items(value, name)?.into_iter().enumerate() {
                    let group = parse_group(group).map_err(|m| format!("key_groups[{index}]: {m}"))?;
                    rule.key_groups.push(group);
                }
            }
            "shamir_threshold" => {
                rule.shamir_threshold =
                    usize::try_from(int(value, name)?).map_err(|_| "shamir_threshold must not be negative")?
            }
            "mac_only_encrypted" => {
                rule.mac_only_encrypted = matches!(value.value, Value::Scalar(Scalar::Bool(true)));
            }
            "cipher" => {
                let spelled = text(value, name)?;
                rule.cipher = Some(CipherKind::parse(&spelled).ok_or_else(|| {
                    format!("cipher {spelled:?} is not one of aes256_gcm, xchacha20_poly1305")
                })?);
            }
            field if SelectionRule::FIELDS.contains(&field) => {
                let value = text(value, name)?;
                if !value.is_empty() {
                    selection.push((field.to_owned(), value));
                }
            }
            _ => {}
        }
    }
    for arn in flat_kms {
        flat.push(kms_key(&arn, &aws_profile, Vec::new())?);
    }
    if selection.len() > 1 {
        let names: Vec<&str> = selection.iter().map(|(f, _)| f.as_str()).collect();
        return Err(format!(
            "only one of {} may be set; this rule sets {}",
            SelectionRule::FIELDS.join(", "),
            names.join(" and ")
        ));
    }
    if let Some((field, value)) = selection.pop() {
        rule.rule = Some(SelectionRule::from_field(&field, &value)?);
    }
    // Key groups take precedence over flat lists when they are non-empty.
    if rule.key_groups.is_empty() && !flat.is_empty() {
        rule.key_groups.push(flat);
    }
    Ok(rule)
}

fn parse_group(node: &Node) -> std::result::Result<KeyGroup, String> {
    let mut group: KeyGroup = Vec::new();
    for (name, value) in map_pairs(node, "a key group")? {
        match name {
            "age" => {
                for r in string_list(value, name)? {
                    group.push(age_key(&r)?);
                }
            }
            "pgp" => group.extend(string_list(value, name)?.into_iter().map(pgp_key)),
            "kms" => {
                for entry in seq_items(value, name)? {
                    let fields = map_pairs(entry, "a kms entry")?;
                    let get =
                        |f: &str| fields.iter().find(|(n, _)| *n == f).map(|(_, v)| text(v, f)).transpose();
                    let arn = get("arn")?.ok_or("a kms entry needs an arn")?;
                    let profile = get("aws_profile")?.unwrap_or_default();
                    let mut key = kms_key(&arn, &profile, Vec::new())?;
                    if let (Some(role), MasterKey::Kms(k)) = (get("role")?, &mut key) {
                        k.role = role;
                    }
                    if let Some((_, context)) = fields.iter().find(|(n, _)| *n == "context") {
                        let mut pairs = Vec::new();
                        for (k, v) in map_pairs(context, "context")? {
                            pairs.push((k.to_owned(), text(v, "context")?));
                        }
                        if let MasterKey::Kms(k) = &mut key {
                            k.context = pairs;
                        }
                    }
                    group.push(key);
                }
            }
            "gcp_kms" => {
                for entry in seq_items(value, name)? {
                    let fields = map_pairs(entry, "a gcp_kms entry")?;
                    let id = fields
                        .iter()
                        .find(|(n, _)| *n == "resource_id")
                        .ok_or("a gcp_kms entry needs a resource_id")?;
                    group.push(gcp_key(text(id.1, "resource_id")?));
                }
            }
            "azure_keyvault" => {
                for entry in seq_items(value, name)? {
                    let fields = map_pairs(entry, "an azure_keyvault entry")?;
                    let get =
                        |f: &str| fields.iter().find(|(n, _)| *n == f).map(|(_, v)| text(v, f)).transpose();
                    group.push(MasterKey::AzureKv(AzureKvKey {
                        vault_url: get("vaultUrl")?.ok_or("an azure_keyvault entry needs a vaultUrl")?,
                        name: get("key")?.ok_or("an azure_keyvault entry needs a key")?,
                        version: get("version")?.unwrap_or_default(),
                        ..AzureKvKey::default()
                    }));
                }
            }
            "hc_vault" => {
                for uri in string_list(value, name)? {
                    group.push(vault_key_from_uri(&uri)?);
                }
            }
            "hckms" => {
                for entry in seq_items(value, name)? {
                    let fields = map_pairs(entry, "an hckms entry")?;
                    let id =
                        fields.iter().find(|(n, _)| *n == "key_id").ok_or("an hckms entry needs a key_id")?;
                    group.push(hckms_key(&text(id.1, "key_id")?)?);
                }
            }
            "merge" => {
                for nested in seq_items(value, name)? {
                    group.extend(parse_group(nested)?);
                }
            }
            _ => {}
        }
    }
    // Duplicates within a group are dropped, per type and identifier.
    let mut seen = std::collections::HashSet::new();
    group.retain(|k| seen.insert((k.type_id(), k.identifier())));
    Ok(group)
}

fn age_key(recipient: &str) -> std::result::Result<MasterKey, String> {
    AgeKey::new(recipient).map(MasterKey::Age).map_err(|f| f.message)
}

fn pgp_key(fingerprint: String) -> MasterKey {
    MasterKey::Pgp(PgpKey { fingerprint: fingerprint.replace(' ', ""), ..PgpKey::default() })
}

fn gcp_key(resource_id: String) -> MasterKey {
    MasterKey::GcpKms(GcpKmsKey { resource_id, ..GcpKmsKey::default() })
}

/// `arn` or `arn+role_arn` (spec 6.3).
pub fn kms_key(
    spec: &str,
    profile: &str,
    context: Vec<(String, String)>,
) -> std::result::Result<MasterKey, String> {
    let (arn, role) = match spec.split_once("+arn:aws:iam::") {
        Some((arn, rest)) => (arn, format!("arn:aws:iam::{rest}")),
        None => (spec, String::new()),
    };
    let arn_re = Regex::new(r"^arn:aws[\w-]*:kms:(.+):[0-9]+:(key|alias)/.+$").expect("valid regex");
    if !arn_re.is_match(arn.trim()) {
        return Err(format!("{arn:?} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)"));
    }
    Ok(MasterKey::Kms(KmsKey {
        arn: arn.trim().to_owned(),
        role,
        context,
        aws_profile: profile.to_owned(),
        ..KmsKey::default()
    }))
}

/// `https://<vault>/keys/<name>[/<version>]`.
pub fn azure_key_from_url(url: &str) -> std::result::Result<MasterKey, String> {
    let re = Regex::new(r"^(https://[^/]+)/keys/([^/]+)(?:/([^/]+))?/?$").expect("valid regex");
    let caps = re.captures(url.trim()).ok_or_else(|| {
        format!("{url:?} is not an Azure Key Vault key URL (https://<vault>/keys/<name>[/<version>])")
    })?;
    Ok(MasterKey::AzureKv(AzureKvKey {
        vault_url: caps[1].to_owned(),
        name: caps[2].to_owned(),
        version: caps.get(3).map(|m| m.as_str().to_owned()).unwrap_or_default(),
        ..AzureKvKey::default()
    }))
}

/// A HuaweiCloud KMS key, `region:key-uuid` as sops spells it. sops-rs
/// cannot wrap with one, but it records, keeps and removes them, so a
/// config or command line naming one is not silently narrowed to the keys
/// this build can use.
pub fn hckms_key(id: &str) -> std::result::Result<MasterKey, String> {
    let id = id.trim();
    match id.split_once(':') {
        Some((region, key)) if !region.is_empty() && !key.is_empty() && !key.contains(':') => {
            Ok(MasterKey::Hckms(HckmsKey { key_id: id.to_owned(), ..HckmsKey::default() }))
        }
        _ => Err(format!("{id:?} is not a HuaweiCloud KMS key ID (region:key-uuid)")),
    }
}

/// `https://vault:8200/v1/<engine path>/keys/<name>`.
pub fn vault_key_from_uri(uri: &str) -> std::result::Result<MasterKey, String> {
    let re = Regex::new(r"^(https?://[^/]+)/v1/(.+)/keys/([^/]+)/?$").expect("valid regex");
    let caps = re.captures(uri.trim()).ok_or_else(|| {
        format!("{uri:?} is not a Vault transit key URI (https://vault:8200/v1/<engine>/keys/<name>)")
    })?;
    Ok(MasterKey::HcVault(HcVaultKey {
        vault_address: caps[1].to_owned(),
        engine_path: caps[2].to_owned(),
        key_name: caps[3].to_owned(),
        ..HcVaultKey::default()
    }))
}

fn parse_stores(node: &Node) -> std::result::Result<StoreOptions, String> {
    let mut options = StoreOptions::default();
    for (store, settings) in map_pairs(node, "stores")? {
        for (name, value) in map_pairs(settings, store)? {
            if name != "indent" {
                continue;
            }
            let indent = int(value, "indent")?;
            match store {
                "yaml" => {
                    if indent < 0 {
                        return Err("stores.yaml.indent must not be negative".into());
                    }
                    options.yaml_indent = if indent == 0 { 4 } else { indent as usize };
                }
                "json" => {
                    if indent < -1 {
                        return Err("stores.json.indent must be -1 (tabs) or more".into());
                    }
                    if indent > MAX_JSON_INDENT as i64 {
                        return Err(format!("stores.json.indent must be at most {MAX_JSON_INDENT}"));
                    }
                    options.json_indent = (indent >= 0).then_some(indent as usize);
                }
                _ => {}
            }
        }
    }
    Ok(options)
}

#[cfg(test)]
mod tests;
