use proptest::prelude::*;

use super::{OriginalItems, OriginalPairs};
use crate::store::yaml::layout::{CollectionEntry, EntryKey, OriginalEntry};
use crate::tree::Src;

fn block(keys: &[&str], srcs: &[Src]) -> CollectionEntry {
    CollectionEntry {
        is_map: !keys.is_empty(),
        flow: false,
        range: 0..0,
        indent: 0,
        entries: (0..keys.len() as u32).map(|i| OriginalEntry::new(EntryKey::Named(i), 0..0)).collect(),
        named_keys: keys.iter().map(|k| (*k).into()).collect(),
        item_srcs: srcs.to_vec(),
    }
}

/// The rule itself: each pair takes the first original entry with its key
/// that no earlier pair took.
fn first_untaken_by_key(originals: &[&str], pairs: &[&str]) -> Vec<Option<usize>> {
    let mut taken = vec![false; originals.len()];
    pairs
        .iter()
        .map(|key| {
            let i = (0..originals.len()).find(|&i| !taken[i] && originals[i] == *key)?;
            taken[i] = true;
            Some(i)
        })
        .collect()
}

fn matched_pairs(originals: &[&str], pairs: &[&str]) -> Vec<Option<usize>> {
    let entry = block(originals, &[]);
    let mut matcher = OriginalPairs::InOrder(0);
    pairs.iter().map(|key| matcher.take(key, &entry, "")).collect()
}

/// Each item takes the untaken original item with its handle.
fn untaken_by_src(originals: &[Src], items: &[Src]) -> Vec<Option<usize>> {
    let mut taken = vec![false; originals.len()];
    items
        .iter()
        .map(|src| {
            let i = (0..originals.len()).find(|&i| *src != Src::NONE && !taken[i] && originals[i] == *src)?;
            taken[i] = true;
            Some(i)
        })
        .collect()
}

fn matched_items(originals: &[Src], items: &[Src]) -> Vec<Option<usize>> {
    let entry = block(&[], originals);
    let mut seen = vec![false; originals.len()];
    let mut matcher = OriginalItems::InOrder(0);
    items
        .iter()
        .map(|src| {
            let i = matcher.take(*src, &entry, &seen)?;
            seen[i] = true;
            Some(i)
        })
        .collect()
}

fn key() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["a", "b", "c", "sops"])
}

/// Pairs that often start as the originals do (as after a decryption), then
/// go their own way.
fn keys_and_pairs() -> impl Strategy<Value = (Vec<&'static str>, Vec<&'static str>)> {
    prop::collection::vec(key(), 0..8).prop_flat_map(|originals| {
        let len = originals.len();
        (Just(originals), 0..=len, prop::collection::vec(key(), 0..6)).prop_map(|(originals, kept, tail)| {
            let mut pairs = originals[..kept].to_vec();
            pairs.extend(tail);
            (originals, pairs)
        })
    })
}

fn srcs_and_items() -> impl Strategy<Value = (Vec<Src>, Vec<Src>)> {
    let src = prop_oneof![4 => (0u32..10).prop_map(Src), 1 => Just(Src::NONE)];
    (prop::collection::vec(src.clone(), 0..8), 0usize..8, prop::collection::vec(src, 0..6)).prop_map(
        |(originals, kept, tail)| {
            // Original handles are unique, as the parser hands them out.
            let mut unique: Vec<Src> = Vec::new();
            for s in originals {
                if s == Src::NONE || !unique.contains(&s) {
                    unique.push(s);
                }
            }
            let mut items = unique[..kept.min(unique.len())].to_vec();
            items.extend(tail);
            (unique, items)
        },
    )
}

proptest! {
    #[test]
    fn pairs_take_the_first_untaken_entry_with_their_key((originals, pairs) in keys_and_pairs()) {
        prop_assert_eq!(matched_pairs(&originals, &pairs), first_untaken_by_key(&originals, &pairs));
    }

    #[test]
    fn items_take_the_untaken_item_with_their_handle((originals, items) in srcs_and_items()) {
        prop_assert_eq!(matched_items(&originals, &items), untaken_by_src(&originals, &items));
    }
}

#[test]
fn a_pair_out_of_order_is_found_by_the_index_of_the_rest() {
    // a b a c: the tree has a, c, a, b.
    assert_eq!(
        matched_pairs(&["a", "b", "a", "c"], &["a", "c", "a", "b"]),
        [Some(0), Some(3), Some(2), Some(1)]
    );
    // A key matched in order is not matched again from the index.
    assert_eq!(matched_pairs(&["a", "b"], &["a", "a", "b"]), [Some(0), None, Some(1)]);
}

#[test]
fn plain_keys_are_read_from_the_source_and_others_are_kept() {
    let source = "plain: 1\n'quoted': 2\n";
    let mut named_keys = Vec::new();
    let plain = EntryKey::new("plain", 0, source, &mut named_keys);
    assert!(matches!(plain, EntryKey::InSource { start: 0, len: 5 }));
    let quoted = EntryKey::new("quoted", 9, source, &mut named_keys);
    assert!(matches!(quoted, EntryKey::Named(0)));
    // Past the end of the source: kept as a name.
    assert!(matches!(EntryKey::new("x", 100, source, &mut named_keys), EntryKey::Named(1)));
    assert_eq!(named_keys, [Box::from("quoted"), Box::from("x")]);
    let entry = CollectionEntry {
        is_map: true,
        flow: false,
        range: 0..source.len(),
        indent: 0,
        entries: vec![OriginalEntry::new(plain, 0..9), OriginalEntry::new(quoted, 9..21)],
        named_keys,
        item_srcs: vec![],
    };
    assert_eq!(entry.key(0, source), Some("plain"));
    assert_eq!(entry.key(1, source), Some("quoted"));
}
