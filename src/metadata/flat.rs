//! The flattened metadata of dotenv and INI files (spec 5.5.3, 5.5.4).
//!
//! Those formats hold only flat string pairs, so sops writes its metadata
//! object as keys that spell out the path: a map entry `k` adds `__map_k`,
//! a list index `i` adds `__list_i`, so the first age recipient is
//! `age__list_0__map_recipient`. Nulls are dropped, booleans are
//! `true`/`false`, numbers decimal, and newlines inside values are the two
//! characters `\n`. Reading splits the keys at those markers and rebuilds the
//! object; list indices may come in any order, and lists grow to the largest
//! index seen. Keys that literally contain a marker are mangled, as in sops.

use crate::error::{Error, Result};
use crate::secret::SecretBytes;
use crate::tree::{Key, MapItem, Node, Pair, Scalar, SeqItem, Value};

const MAP: &str = "__map_";
const LIST: &str = "__list_";

/// The null elements that sparse or out-of-order list indices may add in
/// one file, in all. sops writes indices densely, so real metadata needs
/// none; without a total, keys like `x1__list_9999`, `x2__list_9999`, ...
/// each added 10,000 nodes for 16 bytes of input, and a 64 KiB file took
/// gigabytes (found by fuzzing the metadata loader).
const MAX_PADDING: usize = 10_000;

/// The flat pairs of a metadata mapping, sorted byte-wise by key (as sops
/// writes dotenv). Values have newlines escaped as `\n`.
pub fn flatten(metadata: &Node) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    if let Value::Map(items) = &metadata.value {
        for item in items {
            if let MapItem::Pair(pair) = item {
                flatten_into(&pair.key.name, &pair.value, &mut pairs);
            }
        }
    }
    pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    pairs
}

fn flatten_into(prefix: &str, node: &Node, out: &mut Vec<(String, String)>) {
    match &node.value {
        Value::Map(items) => {
            for item in items {
                if let MapItem::Pair(pair) = item {
                    flatten_into(&format!("{prefix}{MAP}{}", pair.key.name), &pair.value, out);
                }
            }
        }
        Value::Seq(items) => {
            let values = items.iter().filter_map(|i| match i {
                SeqItem::Value(v) => Some(v),
                SeqItem::Comment(_) => None,
            });
            for (index, value) in values.enumerate() {
                flatten_into(&format!("{prefix}{LIST}{index}"), value, out);
            }
        }
        Value::Scalar(Scalar::Null) => {}
        Value::Scalar(scalar) => {
            let text = match scalar {
                Scalar::Bool(b) => b.to_string(),
                Scalar::Int(i) => i.to_string(),
                Scalar::Str(bytes) => String::from_utf8_lossy(bytes.as_bytes()).into_owned(),
                other => String::from_utf8_lossy(other.mac_bytes().as_bytes()).into_owned(),
            };
            out.push((prefix.to_owned(), text.replace('\n', "\\n")));
        }
    }
}

/// One step of a flat key.
enum Step<'a> {
    Map(&'a str),
    List(usize),
}

/// Rebuild the metadata mapping from flat pairs (without their `sops_`
/// prefix or section), unescaping `\n`.
pub fn unflatten(pairs: &[(String, String)]) -> Result<Node> {
    let mut root = Node::map(Vec::new());
    let mut padding_left = MAX_PADDING;
    for (key, value) in pairs {
        let (first, steps) = split_key(key)?;
        let mut node = child_of_map(&mut root, first);
        for step in steps {
            node = match step {
                Step::Map(name) => child_of_map(node, name),
                Step::List(index) => child_of_list(node, index, &mut padding_left)?,
            };
        }
        node.value = Value::Scalar(Scalar::Str(SecretBytes::from(value.replace("\\n", "\n"))));
    }
    Ok(root)
}

fn split_key(key: &str) -> Result<(&str, Vec<Step<'_>>)> {
    let mut markers: Vec<(usize, bool)> = key.match_indices(MAP).map(|(i, _)| (i, true)).collect();
    markers.extend(key.match_indices(LIST).map(|(i, _)| (i, false)));
    markers.sort();
    let first_end = markers.first().map_or(key.len(), |(i, _)| *i);
    let mut steps = Vec::new();
    for (n, &(at, is_map)) in markers.iter().enumerate() {
        let start = at + if is_map { MAP.len() } else { LIST.len() };
        let end = markers.get(n + 1).map_or(key.len(), |(i, _)| *i);
        let text = key.get(start..end.max(start)).unwrap_or("");
        steps.push(if is_map {
            Step::Map(text)
        } else {
            Step::List(text.parse().map_err(|_| {
                Error::BadMetadata(format!("metadata key {key:?} has a list index that is not a number"))
            })?)
        });
    }
    Ok((&key[..first_end], steps))
}

/// The value of `name` in a mapping node, created (as null) if missing; a
/// non-mapping node becomes a mapping.
fn child_of_map<'a>(node: &'a mut Node, name: &str) -> &'a mut Node {
    if !matches!(node.value, Value::Map(_)) {
        node.value = Value::Map(Vec::new());
    }
    let Value::Map(items) = &mut node.value else { unreachable!("made a map above") };
    let position = items.iter().position(|i| matches!(i, MapItem::Pair(p) if p.key.name == name));
    let index = match position {
        Some(index) => index,
        None => {
            items.push(MapItem::Pair(Pair { key: Key::new(name), value: Node::scalar(Scalar::Null) }));
            items.len() - 1
        }
    };
    match &mut items[index] {
        MapItem::Pair(pair) => &mut pair.value,
        MapItem::Comment(_) => unreachable!("position matched a pair"),
    }
}

/// Element `index` of a list node, growing the list with nulls, which are
/// taken from `padding_left`.
fn child_of_list<'a>(node: &'a mut Node, index: usize, padding_left: &mut usize) -> Result<&'a mut Node> {
    // A hostile file could name index 10^12; metadata lists are short.
    if index > 10_000 {
        return Err(Error::BadMetadata(format!("metadata list index {index} is too large")));
    }
    if !matches!(node.value, Value::Seq(_)) {
        node.value = Value::Seq(Vec::new());
    }
    let Value::Seq(items) = &mut node.value else { unreachable!("made a list above") };
    let padding = index.saturating_sub(items.len());
    if padding > *padding_left {
        return Err(Error::BadMetadata("the metadata's list indices leave too many gaps".into()));
    }
    *padding_left -= padding;
    while items.len() <= index {
        items.push(SeqItem::Value(Node::scalar(Scalar::Null)));
    }
    match &mut items[index] {
        SeqItem::Value(value) => Ok(value),
        SeqItem::Comment(_) => unreachable!("lists built here hold no comments"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MasterKey;
    use crate::keys::age::AgeKey;
    use crate::metadata::{EmptyList, Metadata};

    fn sample(groups: usize) -> Metadata {
        let key = |r: &str| {
            MasterKey::Age(AgeKey {
                recipient: r.into(),
                enc: "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n".into(),
            })
        };
        let mut kms = crate::keys::KmsKey {
            arn: "arn:aws:kms:us-east-1:123456789012:key/abcd".into(),
            created_at: "2024-05-06T07:08:09Z".into(),
            enc: "AQIC".into(),
            aws_profile: "prof".into(),
            ..Default::default()
        };
        kms.context = vec![("App".into(), "demo".into()), ("Zed".into(), "last".into())];
        Metadata {
            key_groups: (0..groups)
                .map(|i| vec![key(&format!("age1r{i}")), MasterKey::Kms(kms.clone())])
                .collect(),
            shamir_threshold: if groups > 1 { 2 } else { 0 },
            last_modified: "2026-11-22T19:07:37Z".into(),
            mac: "ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]".into(),
            rule: Some(("unencrypted_suffix".into(), "_unencrypted".into())),
            mac_only_encrypted: true,
            version: "3.11.0".into(),
            style_memory: None,
            unknown: Vec::new(),
        }
    }

    #[test]
    fn flattens_as_sops_writes_dotenv() {
        let pairs = flatten(&sample(1).to_node(EmptyList::Null));
        let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "age__list_0__map_enc",
                "age__list_0__map_recipient",
                "kms__list_0__map_arn",
                "kms__list_0__map_aws_profile",
                "kms__list_0__map_context__map_App",
                "kms__list_0__map_context__map_Zed",
                "kms__list_0__map_created_at",
                "kms__list_0__map_enc",
                "lastmodified",
                "mac",
                "mac_only_encrypted",
                "unencrypted_suffix",
                "version",
            ]
        );
        assert_eq!(
            pairs[0].1,
            "-----BEGIN AGE ENCRYPTED FILE-----\\nYWdl\\n-----END AGE ENCRYPTED FILE-----\\n"
        );
        assert_eq!(pairs[10].1, "true");
    }

    #[test]
    fn key_groups_drop_null_lists_and_keep_threshold() {
        let pairs = flatten(&sample(2).to_node(EmptyList::Null));
        assert!(pairs.iter().any(|(k, v)| k == "shamir_threshold" && v == "2"));
        assert!(pairs.iter().any(|(k, _)| k == "key_groups__list_1__map_age__list_0__map_recipient"));
        assert!(!pairs.iter().any(|(k, _)| k.contains("hc_vault")));
    }

    #[test]
    fn unflatten_reverses_flatten() {
        for groups in [1, 2] {
            let meta = sample(groups);
            let pairs = flatten(&meta.to_node(EmptyList::Null));
            let mut shuffled = pairs.clone();
            shuffled.reverse();
            let back = Metadata::from_node(&unflatten(&shuffled).unwrap()).unwrap();
            let normal = |groups: &[Vec<MasterKey>]| {
                let mut groups: Vec<Vec<String>> =
                    groups.iter().map(|g| g.iter().map(|k| format!("{k:?}")).collect()).collect();
                groups.iter_mut().for_each(|g| g.sort());
                groups
            };
            assert_eq!(normal(&back.key_groups), normal(&meta.key_groups));
            assert_eq!(back.shamir_threshold, meta.shamir_threshold);
            assert!(back.mac_only_encrypted);
            assert_eq!(back.last_modified, meta.last_modified);
        }
    }

    #[test]
    fn bad_flat_keys_are_errors_not_panics() {
        assert!(unflatten(&[("age__list_x".into(), "v".into())]).is_err());
        assert!(unflatten(&[("age__list_99999999999".into(), "v".into())]).is_err());
        // Conflicting shapes do not panic.
        let node = unflatten(&[
            ("a".into(), "x".into()),
            ("a__map_b".into(), "y".into()),
            ("a__list_0".into(), "z".into()),
        ]);
        assert!(node.is_ok());
    }

    /// Found by fuzzing: many keys each naming a far list index made
    /// millions of null elements from a small file.
    #[test]
    fn sparse_list_indices_are_bounded_in_total() {
        let far: Vec<(String, String)> =
            (0..2400).map(|i| (format!("x{i}__list_9999__list_9999"), "v".into())).collect();
        let err = unflatten(&far).unwrap_err();
        assert_eq!(err.exit_code(), 1);
        assert!(err.to_string().contains("too many gaps"), "{err}");
        // Indices in any order still rebuild dense lists, whatever their size.
        let reversed: Vec<(String, String)> =
            (0..5000).rev().map(|i| (format!("age__list_{i}__map_recipient"), "r".into())).collect();
        let node = unflatten(&reversed).unwrap();
        let Value::Map(items) = &node.value else { panic!("a mapping") };
        let MapItem::Pair(pair) = &items[0] else { panic!("a pair") };
        assert!(matches!(&pair.value.value, Value::Seq(list) if list.len() == 5000));
    }
}
