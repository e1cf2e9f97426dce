//! The YAML store.
//!
//! Parsing goes through granit-parser's events into the tree (`parse`),
//! scalars are typed as go-yaml v3 types them (`resolve`), writing splices
//! into the original bytes (`splice`) or, without them, emits the tree the
//! way sops's go-yaml encoder does (`emit`).

mod block_scan;
pub mod emit;
pub mod emit_scalar;
mod layout;
pub mod one_pass;
mod parse;
pub mod pieces;
mod plain_as_written;
pub mod resolve;
mod splice;
mod splice_match;

pub use layout::Layout;
pub use parse::{parse, parse_owned};
pub use splice::{emit_spliced, styled_tokens};

use crate::error::Result;
use crate::store::StoreOptions;
use crate::tree::{Node, Tree, Value};

/// One value as a document of its own (`--extract` of a number or a list):
/// what go-yaml prints when it marshals just that value.
pub fn emit_value_doc(node: &Node, options: &StoreOptions) -> String {
    if let Value::Scalar(scalar) = &node.value {
        let ctx = emit::ScalarContext { flow: false, block_indent: 0, is_key: false, parent_column: 0 };
        let mut text = emit::render_scalar(scalar, &ctx);
        if !text.ends_with('\n') {
            text.push('\n');
        }
        return text;
    }
    // The block text under a key at column 0 is indented by one step;
    // remove that step to get the top-level form.
    let width = emit::indent_width(options);
    let block = emit::emit_block_value(node, 0, options);
    let mut out = String::with_capacity(block.len());
    for line in block.trim_start_matches([' ', '\n']).split_inclusive('\n') {
        out.push_str(line.strip_prefix(&" ".repeat(width)).unwrap_or(line));
    }
    if block.starts_with('\n') {
        // The first line had its indentation trimmed with the newline.
        return out;
    }
    out
}

/// The whole tree as sops prints it.
pub fn emit_fresh(tree: &Tree, metadata: Option<&Node>, options: &StoreOptions) -> Result<Vec<u8>> {
    emit::emit_fresh(tree, metadata, options)
}

#[cfg(test)]
mod tests;
