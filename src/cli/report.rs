//! The JSON reports of the commands that go through several files.
//!
//! `check --json`, `updatekeys --json` and `rotate --json` print the same
//! shape, so that one script (or one `jq` filter) reads all three: a JSON
//! array with one object per file, in the order the files were handled,
//! each with
//!
//! - `file`: the path as given (or as found, for `check`'s walk);
//! - `status`: one word from a small per-command vocabulary, `error` for a
//!   file the command failed on;
//! - `detail`: a human sentence, never parsed;
//!
//! plus, for `error`, the `exit_code` the command would have exited with
//! on that file alone, and whatever fields the command adds (`updatekeys`
//! lists the keys `added` and `removed`). The array is printed once, at the
//! end, so a script never sees half a document; messages meant for people
//! stay on stderr.
//!
//! `filestatus` keeps sops's own one-line `{"encrypted":true}`, which
//! scripts written for sops already parse.

use std::path::Path;

use crate::error::Error;

/// One file's line in a report.
pub struct FileReport {
    fields: serde_json::Map<String, serde_json::Value>,
}

impl FileReport {
    pub fn new(file: &Path, status: &str, detail: impl Into<String>) -> FileReport {
        let mut fields = serde_json::Map::new();
        fields.insert("file".into(), file.to_string_lossy().into_owned().into());
        fields.insert("status".into(), status.into());
        fields.insert("detail".into(), detail.into().into());
        FileReport { fields }
    }

    /// A file the command failed on: the error's first line and its exit code.
    pub fn error(file: &Path, error: &Error) -> FileReport {
        let message = error.to_string();
        let mut report = FileReport::new(file, "error", message.lines().next().unwrap_or(""));
        report.fields.insert("exit_code".into(), error.exit_code().into());
        report
    }

    /// A command-specific field.
    pub fn with(mut self, name: &str, value: impl Into<serde_json::Value>) -> FileReport {
        self.fields.insert(name.into(), value.into());
        self
    }
}

/// Print the report on stdout as one pretty-printed JSON array.
pub fn print_json(reports: &[FileReport]) {
    let array: Vec<&serde_json::Map<String, serde_json::Value>> = reports.iter().map(|r| &r.fields).collect();
    println!("{}", serde_json::to_string_pretty(&array).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_their_exit_code_and_one_line() {
        let report =
            FileReport::error(Path::new("a.yaml"), &Error::NoKeyCouldDecrypt { report: "x\ny".into() });
        assert_eq!(report.fields["status"], "error");
        assert_eq!(report.fields["exit_code"], 128);
        assert!(!report.fields["detail"].as_str().unwrap().contains('\n'));
    }

    #[test]
    fn fields_keep_their_order() {
        let report = FileReport::new(Path::new("a.yaml"), "updated", "done").with("added", vec!["age1x"]);
        let keys: Vec<&str> = report.fields.keys().map(String::as_str).collect();
        assert_eq!(keys, ["file", "status", "detail", "added"]);
    }
}
