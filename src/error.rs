//! The library's error type.
//!
//! Every failure a user can meet is one variant here, and each variant knows
//! two things beyond its message: the process exit code sops uses for it
//! (spec 12; scripts depend on them) and, where there is one, a hint that
//! says what to do next. Messages name files, keys, paths and recipients,
//! never values: nothing in this module is given a decrypted byte.

use std::fmt;
use std::path::PathBuf;

use crate::cipher::EnvelopeError;

/// sops's exit codes (spec 12).
pub mod exit {
    pub const GENERIC: i32 = 1;
    pub const COULD_NOT_READ_INPUT: i32 = 2;
    pub const COULD_NOT_WRITE_OUTPUT: i32 = 3;
    pub const ERROR_DUMPING_TREE: i32 = 4;
    pub const ERROR_READING_CONFIG: i32 = 5;
    pub const INVALID_KMS_ENCRYPTION_CONTEXT: i32 = 6;
    pub const INVALID_SET_FORMAT: i32 = 7;
    pub const CONFLICTING_PARAMETERS: i32 = 8;
    pub const ERROR_ENCRYPTING_MAC: i32 = 21;
    pub const ERROR_ENCRYPTING_TREE: i32 = 23;
    pub const ERROR_DECRYPTING_MAC: i32 = 24;
    pub const ERROR_DECRYPTING_TREE: i32 = 25;
    pub const CANNOT_CHANGE_KEYS_FROM_NON_EXISTENT_FILE: i32 = 49;
    pub const MAC_MISMATCH: i32 = 51;
    pub const MAC_NOT_FOUND: i32 = 52;
    pub const CONFIG_FILE_NOT_FOUND: i32 = 61;
    pub const KEYBOARD_INTERRUPT: i32 = 85;
    pub const INVALID_TREE_PATH_FORMAT: i32 = 91;
    pub const NEED_AT_LEAST_ONE_DOCUMENT: i32 = 92;
    pub const NO_FILE_SPECIFIED: i32 = 100;
    pub const NO_ENCRYPTION_KEY_FOUND: i32 = 111;
    pub const DUPLICATE_DECRYPTION_KEY_TYPE: i32 = 112;
    pub const COULD_NOT_RETRIEVE_KEY: i32 = 128;
    pub const FILE_HAS_NOT_BEEN_MODIFIED: i32 = 200;
    pub const NO_EDITOR_FOUND: i32 = 201;
    pub const FAILED_TO_COMPARE_VERSIONS: i32 = 202;
    pub const FILE_ALREADY_ENCRYPTED: i32 = 203;
}

/// Where in a file something went wrong, for messages: `line 3, column 7`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// A library error. See [`Error::exit_code`] and [`Error::hint`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not valid for its format (exit 2).
    #[error("Error unmarshalling input {format}: {message}")]
    Parse { format: &'static str, message: String },

    /// The input parsed but has a shape sops cannot store: a top-level list
    /// in YAML, an array in JSON (exit 2).
    #[error("Error unmarshalling input {format}: {message}")]
    Shape { format: &'static str, message: String },

    /// An empty input (exit 92).
    #[error("File cannot be completely empty, it must contain at least one document")]
    EmptyInput,

    /// A document with more nesting or more alias expansion than allowed
    /// (exit 2).
    #[error("Error unmarshalling input {format}: {message}")]
    LimitExceeded { format: &'static str, message: String },

    /// The plaintext to encrypt already has sops metadata (exit 203).
    #[error("File already encrypted")]
    AlreadyEncrypted,

    /// A file to decrypt has no sops metadata (exit 1).
    #[error("sops metadata not found")]
    MetadataNotFound,

    /// The metadata is present but invalid (exit 1).
    #[error("invalid sops metadata: {0}")]
    BadMetadata(String),

    /// The tree cannot be encrypted: a non-string key, an unsupported value
    /// (exit 23).
    #[error("Error encrypting tree: {0}")]
    EncryptTree(String),

    /// A value could not be decrypted (exit 25).
    #[error("Error decrypting tree: value at {path}: {reason}")]
    DecryptValue { path: String, reason: EnvelopeError },

    /// A value that the selection rules say is encrypted is not an envelope
    /// (exit 25).
    #[error("Error decrypting tree: value at {path} should be encrypted but is {found}")]
    NotEncrypted { path: String, found: &'static str },

    /// The MAC does not match, cannot be decrypted, or is missing (exit 51).
    #[error("{0}")]
    Mac(MacProblem),

    /// The tree cannot be written in the output format (exit 4).
    #[error("Error dumping file: {0}")]
    Emit(String),

    /// Reading the input failed (exit 2, or 100 when the file is missing).
    #[error("Error reading {path}: {source}")]
    ReadInput { path: PathBuf, source: std::io::Error },

    /// Writing the output failed; the original is unchanged (exit 3).
    #[error("Could not write output file {path}: {source}")]
    WriteOutput { path: PathBuf, source: std::io::Error },

    /// A configuration file is invalid (exit 1, as sops).
    #[error("error loading config file {path}: {message}")]
    Config { path: PathBuf, message: String },

    /// No creation rule matches the file (exit 1).
    #[error("error loading config: no matching creation rules found")]
    NoMatchingRule { config: PathBuf, file: String },

    /// Nothing says which keys to encrypt to (exit 1).
    #[error(
        "config file not found, or has no creation rules, and no keys provided through command line options"
    )]
    NoKeys,

    /// A creation rule or command line names no master key (exit 1).
    #[error("Could not generate data key: [empty key group provided]")]
    EmptyKeyGroup,

    /// Wrapping the data key for a master key failed (exit 1).
    #[error("Could not generate data key: {0}")]
    WrapFailed(String),

    /// No key group yielded the data key (exit 128). The report lists every
    /// master key and why it failed.
    #[error("Failed to get the data key required to decrypt the SOPS file.\n\n{report}")]
    NoKeyCouldDecrypt { report: String },

    /// Options that cannot be used together (exit 8).
    #[error("{0}")]
    ConflictingParameters(String),

    /// An `--extract` path that does not parse (exit 91).
    #[error("invalid tree path format: {0}")]
    InvalidTreePath(String),

    /// A `set`/`unset` path or value that does not parse (exit 7).
    #[error("invalid set format: {0}")]
    InvalidSetFormat(String),

    /// A path component that is not in the tree (exit 1).
    #[error("component {0} not found")]
    PathNotFound(String),

    /// The file given does not exist (exit 100).
    #[error("cannot operate on non-existent file {0}")]
    NoSuchFile(PathBuf),

    /// `--add-*`/`--rm-*` on a file that does not exist (exit 49).
    #[error("cannot change the keys of {0}: the file does not exist")]
    CannotChangeKeysOfMissingFile(PathBuf),

    /// `edit` ended without a change (exit 200).
    #[error("File has not changed, exiting.")]
    FileNotModified,

    /// No editor could be found (exit 201).
    #[error("no editor found: set SOPS_EDITOR or EDITOR, or install vim, nano or vi")]
    NoEditor,

    /// The editor failed (exit 1).
    #[error("{0}")]
    Editor(String),

    /// A command run by `exec-env`/`exec-file` exited with this status; it
    /// becomes ours, and nothing is printed.
    #[error("the command exited with status {0}")]
    ChildExit(i32),

    /// `exec-env`/`exec-file` ran a command without a shell (see
    /// `exec::without_shell`) and it could not be started: exit 127 when
    /// there is no such program, 126 otherwise, as a shell would.
    #[error("could not run {program}: {source}")]
    CommandNotRun { program: String, source: std::io::Error },

    /// The audit log could not be written (exit 1).
    #[error("could not write the audit log {path}: {source}")]
    Audit { path: PathBuf, source: std::io::Error },

    /// `check` found files with problems; they were listed (exit 1).
    #[error("{0} file(s) with problems")]
    CheckFailed(usize),

    /// A bad KMS encryption context (exit 6).
    #[error("invalid KMS encryption context format: {0}")]
    BadEncryptionContext(String),

    /// A duplicate key type in `--decryption-order` (exit 112).
    #[error("duplicate key type in decryption order: {0}")]
    DuplicateDecryptionKeyType(String),

    /// An invalid argument value that sops reports with the generic code.
    #[error("{0}")]
    InvalidArgument(String),

    /// The operating system's random source failed (exit 1).
    #[error("could not get random bytes: {0}")]
    Random(String),
}

/// The three ways a MAC check fails, each exit 51 in sops.
#[derive(Debug)]
pub enum MacProblem {
    Missing,
    Undecryptable,
    Mismatch,
}

impl fmt::Display for MacProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MacProblem::Missing => f.write_str("MAC mismatch. File has no MAC"),
            MacProblem::Undecryptable => {
                f.write_str("Cannot decrypt MAC: the mac or lastmodified field was modified, or the file was tampered with")
            }
            // The hashes are not printed: a MAC over few or short values can
            // be brute-forced back to them.
            MacProblem::Mismatch => f.write_str("MAC mismatch: the file's values were changed, reordered, added or removed after it was encrypted"),
        }
    }
}

impl Error {
    /// The exit code sops uses for this failure.
    pub fn exit_code(&self) -> i32 {
        use exit::*;
        match self {
            Error::Parse { .. } | Error::Shape { .. } | Error::LimitExceeded { .. } => COULD_NOT_READ_INPUT,
            Error::EmptyInput => NEED_AT_LEAST_ONE_DOCUMENT,
            Error::AlreadyEncrypted => FILE_ALREADY_ENCRYPTED,
            Error::MetadataNotFound | Error::BadMetadata(_) => GENERIC,
            Error::EncryptTree(_) => ERROR_ENCRYPTING_TREE,
            Error::DecryptValue { .. } | Error::NotEncrypted { .. } => ERROR_DECRYPTING_TREE,
            Error::Mac(_) => MAC_MISMATCH,
            Error::Emit(_) => ERROR_DUMPING_TREE,
            Error::ReadInput { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                NO_FILE_SPECIFIED
            }
            Error::ReadInput { .. } => COULD_NOT_READ_INPUT,
            Error::WriteOutput { .. } => COULD_NOT_WRITE_OUTPUT,
            Error::Config { .. } | Error::NoMatchingRule { .. } | Error::NoKeys | Error::EmptyKeyGroup => {
                GENERIC
            }
            Error::WrapFailed(_) => GENERIC,
            Error::NoKeyCouldDecrypt { .. } => COULD_NOT_RETRIEVE_KEY,
            Error::ConflictingParameters(_) => CONFLICTING_PARAMETERS,
            Error::InvalidTreePath(_) => INVALID_TREE_PATH_FORMAT,
            Error::InvalidSetFormat(_) => INVALID_SET_FORMAT,
            Error::PathNotFound(_) => GENERIC,
            Error::NoSuchFile(_) => NO_FILE_SPECIFIED,
            Error::CannotChangeKeysOfMissingFile(_) => CANNOT_CHANGE_KEYS_FROM_NON_EXISTENT_FILE,
            Error::FileNotModified => FILE_HAS_NOT_BEEN_MODIFIED,
            Error::NoEditor => NO_EDITOR_FOUND,
            Error::Editor(_) => GENERIC,
            Error::ChildExit(code) => *code,
            Error::CommandNotRun { source, .. } if source.kind() == std::io::ErrorKind::NotFound => 127,
            Error::CommandNotRun { .. } => 126,
            Error::CheckFailed(_) => GENERIC,
            Error::Audit { .. } => GENERIC,
            Error::BadEncryptionContext(_) => INVALID_KMS_ENCRYPTION_CONTEXT,
            Error::DuplicateDecryptionKeyType(_) => DUPLICATE_DECRYPTION_KEY_TYPE,
            Error::InvalidArgument(_) | Error::Random(_) => GENERIC,
        }
    }

    /// What the user can do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Error::MetadataNotFound => {
                "the file is not encrypted, or its format was detected wrongly: pass --input-type to choose it".into()
            }
            Error::AlreadyEncrypted => "to change its keys use `updatekeys` or `rotate`; to edit it use `edit`".into(),
            Error::Mac(_) => "if you trust the file anyway, --ignore-mac decrypts it without this check".into(),
            Error::NoMatchingRule { config, file } => format!(
                "no creation_rules entry in {} has a path_regex matching {file}; add one, or pass keys with --age",
                config.display()
            ),
            Error::NoKeys => "pass a recipient with --age (or SOPS_AGE_RECIPIENTS), or add creation_rules to .sops-rs.yaml".into(),
            Error::EmptyKeyGroup => "the matching creation rule lists no keys; add an `age:` entry to it".into(),
            Error::Emit(message) if message.contains("complex value") => {
                "dotenv holds only flat KEY=value pairs; choose another --output-type or --extract one value".into()
            }
            Error::Shape { .. } => "sops files must have a mapping (object) at the top level".into(),
            Error::CommandNotRun { .. } => {
                "check the program's name, and PATH (the command sees the files' values in its environment)".into()
            }
            Error::ReadInput { source, .. } if source.kind() == std::io::ErrorKind::FileTooLarge => format!(
                "set {}=2G (a number of bytes, or with K, M or G; 0 for no limit) to read larger inputs",
                crate::fsio::MAX_FILE_SIZE_VAR
            ),
            Error::WriteOutput { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                "create the directory first, or write somewhere else with --output".into()
            }
            Error::WriteOutput { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied => {
                "a file is replaced by writing a new one beside it and renaming it: that needs permission to create files in its directory".into()
            }
            Error::DecryptValue { reason: EnvelopeError::AuthFailed, .. } => {
                "the value was changed or moved after encryption; restore it from version control".into()
            }
            _ => return None,
        })
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_sops() {
        assert_eq!(Error::AlreadyEncrypted.exit_code(), 203);
        assert_eq!(Error::EmptyInput.exit_code(), 92);
        assert_eq!(Error::Mac(MacProblem::Mismatch).exit_code(), 51);
        assert_eq!(Error::NoKeyCouldDecrypt { report: String::new() }.exit_code(), 128);
        assert_eq!(Error::MetadataNotFound.exit_code(), 1);
        assert_eq!(Error::EncryptTree("x".into()).exit_code(), 23);
    }

    #[test]
    fn a_failed_write_hints_by_its_cause() {
        let write =
            |kind: std::io::ErrorKind| Error::WriteOutput { path: "out.yaml".into(), source: kind.into() };
        let denied = write(std::io::ErrorKind::PermissionDenied).hint().unwrap();
        assert!(denied.contains("permission to create files in its directory"), "{denied}");
        let missing = write(std::io::ErrorKind::NotFound).hint().unwrap();
        assert!(missing.contains("create the directory first"), "{missing}");
        assert_eq!(write(std::io::ErrorKind::Other).hint(), None);
        assert_eq!(write(std::io::ErrorKind::NotFound).exit_code(), 3);
    }
}
