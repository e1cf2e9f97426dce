//! JSON store (placeholder until the parser lands).
use crate::error::{Error, Result};
use crate::store::StoreOptions;
use crate::tree::{Node, Tree};

pub struct Layout;

pub fn parse(_input: &[u8]) -> Result<(Tree, Layout)> {
    Err(Error::InvalidArgument("json parser not built yet".into()))
}
pub fn emit_spliced(_t: &Tree, _l: &Layout, _m: Option<&Node>, _o: &StoreOptions) -> Result<Vec<u8>> {
    Err(Error::InvalidArgument("json writer not built yet".into()))
}
pub fn emit_fresh(_t: &Tree, _m: Option<&Node>, _o: &StoreOptions) -> Result<Vec<u8>> {
    Err(Error::InvalidArgument("json writer not built yet".into()))
}
pub fn emit_value(_n: &Node, _o: &StoreOptions) -> Result<Vec<u8>> {
    Err(Error::InvalidArgument("json writer not built yet".into()))
}
