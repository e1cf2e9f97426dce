//! TEMPORARY stand-in for the go-yaml v3 resolver (replaced by the full one).
use crate::secret::SecretBytes;
use crate::timestamp::Timestamp;
use crate::tree::Scalar;

pub enum Resolved {
    Scalar(Scalar),
    Uint64,
}

pub fn resolve_plain(text: &str) -> Resolved {
    Resolved::Scalar(match text {
        "" | "~" | "null" | "Null" | "NULL" => Scalar::Null,
        "true" | "True" | "TRUE" => Scalar::Bool(true),
        "false" | "False" | "FALSE" => Scalar::Bool(false),
        _ => {
            if let Some(ts) = Timestamp::parse_yaml(text) {
                Scalar::Time(ts)
            } else if let Ok(i) = text.parse::<i64>() {
                Scalar::Int(i)
            } else if let Ok(f) = text.parse::<f64>() {
                Scalar::Float(f)
            } else {
                Scalar::Str(SecretBytes::from_str(text))
            }
        }
    })
}

pub fn resolve_tagged(tag_suffix: &str, text: &str, plain: bool) -> Result<Resolved, String> {
    match tag_suffix {
        "str" => Ok(Resolved::Scalar(Scalar::Str(SecretBytes::from_str(text)))),
        _ if plain => Ok(resolve_plain(text)),
        _ => Ok(Resolved::Scalar(Scalar::Str(SecretBytes::from_str(text)))),
    }
}

pub fn plain_is_string(text: &str) -> bool {
    matches!(resolve_plain(text), Resolved::Scalar(Scalar::Str(_)))
}
