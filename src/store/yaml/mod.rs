//! The YAML store.
//!
//! Parsing goes through granit-parser's events into the tree (`parse`),
//! scalars are typed as go-yaml v3 types them (`resolve`), writing splices
//! into the original bytes (`splice`) or, without them, emits the tree the
//! way sops's go-yaml encoder does (`emit`).

pub mod emit;
mod layout;
mod parse;
pub mod resolve;
mod splice;

pub use layout::Layout;
pub use parse::parse;
pub use splice::{emit_spliced, styled_tokens};

use crate::error::Result;
use crate::store::StoreOptions;
use crate::tree::{Node, Tree};

/// The whole tree as sops prints it.
pub fn emit_fresh(tree: &Tree, metadata: Option<&Node>, options: &StoreOptions) -> Result<Vec<u8>> {
    emit::emit_fresh(tree, metadata, options)
}

#[cfg(test)]
mod tests;
