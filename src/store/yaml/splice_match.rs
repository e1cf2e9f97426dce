//! Which original entry of a block collection each entry of the tree takes,
//! so the splicing writer rewrites it in place.
//!
//! A mapping's pair takes the first unmatched original entry with its key;
//! a sequence's item takes the original item with its position handle. A
//! search through all entries per entry made 10,000 keys quadratic, and an
//! index of every collection was 5% of a decryption, although a decryption
//! or encryption never moves an entry. So both matchers walk the two lists
//! side by side while they agree, and index the original entries not yet
//! taken at the first entry out of order. `tests` holds each to the plain
//! index on generated lists.

use foldhash::{HashMap, HashMapExt};

use super::layout::CollectionEntry;
use crate::tree::Src;

/// The original entries of a block mapping, for its pairs in the tree.
pub(super) enum OriginalPairs<'a> {
    /// Entries before this one are all matched, none after it.
    InOrder(usize),
    /// Per key, the next unmatched entry and the last one; `next_same`
    /// chains the entries of one key, so the index is two allocations
    /// rather than one list per key.
    Indexed { by_key: HashMap<&'a str, (usize, usize)>, next_same: Vec<usize> },
}

impl<'a> OriginalPairs<'a> {
    const NONE: usize = usize::MAX;

    /// The original entry the pair with `key` takes, if any.
    pub(super) fn take(&mut self, key: &str, entry: &'a CollectionEntry, source: &'a str) -> Option<usize> {
        if let OriginalPairs::InOrder(next) = *self {
            if next < entry.entries.len() && entry.key(next, source) == Some(key) {
                *self = OriginalPairs::InOrder(next + 1);
                return Some(next);
            }
            *self = OriginalPairs::index(entry, source, next);
        }
        let OriginalPairs::Indexed { by_key, next_same } = self else { unreachable!("indexed above") };
        let (unmatched, _) = by_key.get_mut(key)?;
        let this = *unmatched;
        if this == Self::NONE {
            return None;
        }
        *unmatched = next_same[this];
        Some(this)
    }

    /// The index of entries `from..`, the ones not yet matched.
    fn index(entry: &'a CollectionEntry, source: &'a str, from: usize) -> OriginalPairs<'a> {
        let count = entry.entries.len();
        let mut next_same = vec![Self::NONE; count];
        let mut by_key: HashMap<&str, (usize, usize)> = HashMap::with_capacity(count - from);
        for i in from..count {
            let Some(key) = entry.key(i, source) else { continue };
            match by_key.entry(key) {
                std::collections::hash_map::Entry::Occupied(mut known) => {
                    let (_, last) = known.get_mut();
                    next_same[*last] = i;
                    *last = i;
                }
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert((i, i));
                }
            }
        }
        OriginalPairs::Indexed { by_key, next_same }
    }
}

/// The original items of a block sequence, for its items in the tree.
pub(super) enum OriginalItems {
    /// Items before this one are all taken, none after it.
    InOrder(usize),
    /// Each original item by its position handle.
    Indexed(HashMap<Src, usize>),
}

impl OriginalItems {
    /// The original item the tree's item at `src` takes, if any; `seen`
    /// marks the ones already taken.
    pub(super) fn take(&mut self, src: Src, entry: &CollectionEntry, seen: &[bool]) -> Option<usize> {
        if src == Src::NONE {
            return None;
        }
        if let OriginalItems::InOrder(next) = *self {
            if entry.item_srcs.get(next) == Some(&src) {
                *self = OriginalItems::InOrder(next + 1);
                return Some(next);
            }
            // Handles are unique; the first index of one wins all the same.
            let by_src = entry
                .item_srcs
                .iter()
                .enumerate()
                .filter(|(_, s)| **s != Src::NONE)
                .map(|(i, s)| (*s, i))
                .rev()
                .collect();
            *self = OriginalItems::Indexed(by_src);
        }
        let OriginalItems::Indexed(by_src) = self else { unreachable!("indexed above") };
        by_src.get(&src).copied().filter(|i| !seen[*i])
    }
}

#[cfg(test)]
#[path = "splice_match_tests.rs"]
mod tests;
