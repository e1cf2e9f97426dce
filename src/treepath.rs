//! sops's tree path syntax: `["a"]["b"][0]`, used by `--extract`, `set`
//! and `unset` (spec 10.2).
//!
//! The grammar is sops's, quirks included: the text is split on `[`, each
//! piece must end with `]`, a piece starting with a quote is a key with its
//! first and last characters dropped (there is no escaping), anything else
//! is a decimal index. Indices count comment items in sequences, because
//! sops's tree holds comments as items.

use crate::tree::{MapItem, Node, SeqItem, Value};

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Key(key) => write!(f, "[{key:?}]"),
            Step::Index(index) => write!(f, "[{index}]"),
        }
    }
}

/// Parse a path; the error says what is wrong without echoing more than
/// the path itself.
pub fn parse(text: &str) -> Result<Vec<Step>, String> {
    let mut pieces = text.split('[');
    if pieces.next() != Some("") {
        return Err(format!("path {text:?} must start with '['"));
    }
    let mut steps = Vec::new();
    for piece in pieces {
        let Some(inner) = piece.strip_suffix(']') else {
            return Err(format!("component {piece:?} of path {text:?} does not end with ']'"));
        };
        if inner.starts_with(['"', '\'']) {
            if inner.len() < 2 {
                return Err(format!("component {piece:?} of path {text:?} is not a quoted key"));
            }
            steps.push(Step::Key(inner[1..inner.len() - 1].to_owned()));
        } else {
            let index = inner.parse::<usize>().map_err(|_| {
                format!("component {piece:?} of path {text:?} is neither a quoted key nor an index")
            })?;
            steps.push(Step::Index(index));
        }
    }
    if steps.is_empty() {
        return Err(format!("path {text:?} is empty"));
    }
    Ok(steps)
}

/// Follow `steps` from a document's top-level entries. The error names the
/// first component that is missing.
pub fn lookup<'a>(items: &'a [MapItem], steps: &[Step]) -> Result<&'a Node, String> {
    let mut current: Option<&Node> = None;
    for step in steps {
        let value = current.map(|n| &n.value);
        let next = match (step, value) {
            (Step::Key(key), None) => crate::tree::map_get(items, key),
            (Step::Key(key), Some(Value::Map(entries))) => crate::tree::map_get(entries, key),
            (Step::Index(index), Some(Value::Seq(entries))) => match entries.get(*index) {
                Some(SeqItem::Value(node)) => Some(node),
                // A comment item occupies the index but has no value.
                _ => None,
            },
            _ => None,
        };
        current = Some(next.ok_or_else(|| step.to_string())?);
    }
    current.ok_or_else(|| "[]".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sops_paths() {
        assert_eq!(
            parse(r#"["a"]['b'][0]"#).unwrap(),
            vec![Step::Key("a".into()), Step::Key("b".into()), Step::Index(0)]
        );
        // No escaping: the first and last characters are dropped.
        assert_eq!(parse(r#"["a]b"]"#).unwrap(), vec![Step::Key("a]b".into())]);
        assert!(parse("list").is_err());
        assert!(parse("[x]").is_err());
        assert!(parse(r#"["a""#).is_err());
        assert!(parse("").is_err());
        assert!(parse("[-1]").is_err());
    }
}
