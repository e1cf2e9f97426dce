//! TEMPORARY stand-in for the go-yaml v3 emitter (replaced by the full one).
use crate::error::Result;
use crate::store::StoreOptions;
use crate::tree::{Key, MapItem, Node, Scalar, SeqItem, Tree, Value};

#[derive(Clone, Copy, Debug)]
pub struct ScalarContext {
    pub flow: bool,
    pub block_indent: usize,
    pub is_key: bool,
}

pub fn render_scalar(scalar: &Scalar, ctx: &ScalarContext) -> String {
    match scalar {
        Scalar::Null => "null".into(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => crate::gofmt::format_float_yaml(*f),
        Scalar::BigInt(d) => d.as_str().unwrap_or("0").to_owned(),
        Scalar::Time(t) => t.to_rfc3339_nano(),
        Scalar::Str(b) => {
            let text = String::from_utf8_lossy(b.as_bytes());
            if text.contains('\n') && !ctx.flow {
                let mut out = String::from("|");
                if !text.ends_with('\n') {
                    out.push('-');
                }
                out.push('\n');
                for line in text.trim_end_matches('\n').split('\n') {
                    out.push_str(&" ".repeat(ctx.block_indent));
                    out.push_str(line);
                    out.push('\n');
                }
                out
            } else if super::resolve::plain_is_string(&text)
                && !text.is_empty()
                && !text.contains(": ")
                && !text.starts_with([
                    '\'', '"', '#', '-', '[', '{', '&', '*', '!', '|', '>', '%', '@', ' ',
                ])
            {
                text.into_owned()
            } else {
                format!("{text:?}")
            }
        }
    }
}

pub fn render_key(key: &Key) -> String {
    if key.is_string {
        render_scalar(
            &Scalar::str(&key.name),
            &ScalarContext {
                flow: false,
                block_indent: 0,
                is_key: true,
            },
        )
    } else {
        key.name.clone()
    }
}

fn emit_items(items: &[MapItem], indent: usize, width: usize, out: &mut String) {
    for item in items {
        match item {
            MapItem::Comment(c) => {
                out.push_str(&" ".repeat(indent));
                out.push('#');
                out.push_str(&String::from_utf8_lossy(c.text.as_bytes()));
                out.push('\n');
            }
            MapItem::Pair(p) => {
                out.push_str(&" ".repeat(indent));
                out.push_str(&render_key(&p.key));
                out.push(':');
                emit_value(&p.value, indent, width, out);
            }
        }
    }
}

fn emit_value(node: &Node, indent: usize, width: usize, out: &mut String) {
    match &node.value {
        Value::Scalar(s) => {
            out.push(' ');
            out.push_str(&render_scalar(
                s,
                &ScalarContext {
                    flow: false,
                    block_indent: indent + width,
                    is_key: false,
                },
            ));
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
        Value::Map(items) if items.is_empty() => out.push_str(" {}\n"),
        Value::Seq(items) if items.is_empty() => out.push_str(" []\n"),
        Value::Map(items) => {
            out.push('\n');
            emit_items(items, indent + width, width, out);
        }
        Value::Seq(items) => {
            out.push('\n');
            for item in items {
                match item {
                    SeqItem::Comment(c) => {
                        out.push_str(&" ".repeat(indent + width));
                        out.push('#');
                        out.push_str(&String::from_utf8_lossy(c.text.as_bytes()));
                        out.push('\n');
                    }
                    SeqItem::Value(v) => {
                        out.push_str(&" ".repeat(indent + width));
                        out.push('-');
                        match &v.value {
                            Value::Map(m) if !m.is_empty() => {
                                let mut inner = String::new();
                                emit_items(m, indent + width + 2, width, &mut inner);
                                out.push(' ');
                                out.push_str(inner.trim_start());
                            }
                            _ => emit_value(v, indent + width, width, out),
                        }
                    }
                }
            }
        }
    }
}

pub fn emit_block_value(node: &Node, indent: usize, options: &StoreOptions) -> String {
    let mut out = String::new();
    emit_value(node, indent, options.yaml_indent, &mut out);
    out
}

pub fn emit_fresh(tree: &Tree, metadata: Option<&Node>, options: &StoreOptions) -> Result<Vec<u8>> {
    let mut out = String::new();
    for (i, doc) in tree.documents.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        emit_items(&doc.items, 0, options.yaml_indent, &mut out);
        if let Some(meta) = metadata {
            out.push_str("sops:");
            emit_value(meta, 0, options.yaml_indent, &mut out);
        }
    }
    Ok(out.into_bytes())
}

pub fn emit_value_doc(node: &Node, options: &StoreOptions) -> String {
    let mut out = String::new();
    emit_value_at(node, 0, options.yaml_indent, &mut out);
    out.trim_start().to_owned()
}

fn emit_value_at(node: &Node, indent: usize, width: usize, out: &mut String) {
    emit_value(node, indent, width, out)
}
