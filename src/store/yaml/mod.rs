//! YAML store (placeholder until the parser lands).
use crate::error::{Error, Result};
use crate::store::StoreOptions;
use crate::tree::{Node, Tree};

pub mod emit;
pub mod emit_scalar;
pub mod resolve;

pub struct Layout;

pub fn parse(_input: &[u8]) -> Result<(Tree, Layout)> {
    Err(Error::InvalidArgument("yaml parser not built yet".into()))
}
pub fn emit_spliced(
    _t: &Tree,
    _l: &Layout,
    _m: Option<&Node>,
    _o: &StoreOptions,
) -> Result<Vec<u8>> {
    Err(Error::InvalidArgument("yaml writer not built yet".into()))
}
pub fn emit_fresh(t: &Tree, m: Option<&Node>, o: &StoreOptions) -> Result<Vec<u8>> {
    emit::emit_fresh(t, m, o)
}
