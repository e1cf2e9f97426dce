//! The command line, defined once.
//!
//! sops has two grammars and scripts use both: subcommands
//! (`sops encrypt -i f.yaml`) and the older global flags (`sops -e -i
//! f.yaml`, `sops -d f.yaml`). Both are parsed by this one clap definition:
//! the legacy flags live on the top-level command next to the subcommands,
//! and `cli::run` turns a legacy invocation into the subcommand it means.
//! Flags shared by several commands are grouped in structs and flattened in,
//! so each is defined (and documented, and completed) in one place. The
//! help's long texts (examples, the top-level layout) are in `help_text`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use super::deferred::Deferred;
use super::help_text::*;

/// Encrypt the values of YAML, JSON, dotenv, INI, TOML and binary files with
/// age and cloud KMS; reads and writes the sops 3.x format.
#[derive(Parser, Debug, Default)]
#[command(name = "sops-rs", version, about, after_help = TOP_EXAMPLES, disable_version_flag = true)]
#[command(help_template = TOP_HELP_TEMPLATE)]
#[command(args_conflicts_with_subcommands = false, subcommand_precedence_over_arg = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub global: GlobalArgs,

    /// Legacy form: encrypt FILE (same as `encrypt`).
    #[arg(short = 'e', long = "encrypt", help_heading = "Legacy sops flags")]
    pub legacy_encrypt: bool,

    /// Legacy form: decrypt FILE (same as `decrypt`).
    #[arg(short = 'd', long = "decrypt", help_heading = "Legacy sops flags")]
    pub legacy_decrypt: bool,

    /// Legacy form: `--set '["a"]["b"] "json value"'` sets one value in FILE.
    #[arg(long = "set", value_name = "PATH VALUE", help_heading = "Legacy sops flags")]
    pub legacy_set: Option<String>,

    /// Legacy form: new data key for FILE (same as `rotate`).
    #[arg(short = 'r', long = "rotate", help_heading = "Legacy sops flags")]
    pub legacy_rotate: bool,

    /// Legacy form: sops's `-s`, refused as for `edit`.
    #[arg(short = 's', long = "show-master-keys", hide = true)]
    pub legacy_show_master_keys: bool,

    /// Legacy form: only for YAML and JSON output, the indentation width.
    #[arg(long, value_name = "N", help_heading = "Legacy sops flags")]
    pub indent: Option<i64>,

    /// Legacy form: include only `sops` metadata-encrypted values in the MAC.
    #[arg(long, help_heading = "Legacy sops flags")]
    pub mac_only_encrypted: bool,

    /// Legacy form: leave comments matching this regex, and the value after them, unencrypted.
    #[arg(long, value_name = "REGEX", help_heading = "Legacy sops flags")]
    pub unencrypted_comment_regex: Option<String>,

    /// Legacy form: encrypt only values after comments matching this regex.
    #[arg(long, value_name = "REGEX", help_heading = "Legacy sops flags")]
    pub encrypted_comment_regex: Option<String>,

    #[command(flatten)]
    pub legacy_output: OutputArgs,
    #[command(flatten)]
    pub legacy_types: TypeArgs,
    #[command(flatten)]
    pub legacy_keys: KeyArgs,
    #[command(flatten)]
    pub legacy_selection: SelectionArgs,
    #[command(flatten)]
    pub legacy_decrypt_args: OpenArgs,
    /// Legacy form (with -d): print only this part of the file, e.g. '["db"]["password"]'.
    #[arg(long, value_name = "PATH", help_heading = "Decryption")]
    pub extract: Option<String>,
    #[command(flatten)]
    pub legacy_key_changes: KeyChangeArgs,

    /// Legacy form: the file to encrypt or decrypt.
    #[arg(value_name = "FILE")]
    pub legacy_file: Option<PathBuf>,
}

/// The flags every command takes.
#[derive(Args, Debug, Default)]
pub struct GlobalArgs {
    /// Print the version (as `sops 3.11.0 (sops-rs X.Y.Z)`, which tools that parse sops's version accept).
    #[arg(short = 'v', long = "version", global = true)]
    pub version: bool,

    /// Config file to use instead of the discovered .sops-rs.yaml or .sops.yaml.
    #[arg(long, global = true, env = "SOPS_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Accepted for sops compatibility; there is no update check.
    #[arg(long, global = true, hide = true)]
    pub disable_version_check: bool,

    /// Accepted for sops compatibility.
    #[arg(long, global = true, hide = true)]
    pub check_for_updates: bool,

    /// Accepted for sops compatibility.
    #[arg(long, global = true, hide = true)]
    pub verbose: bool,

    /// sops's remote key services (`tcp://host:port`); sops-rs has no key service client, so
    /// they are not used, and a warning says so (docs/compatibility.md).
    #[arg(
        long = "keyservice",
        global = true,
        hide = true,
        env = "SOPS_KEYSERVICE",
        value_name = "ADDRESS",
        value_delimiter = ','
    )]
    pub keyservice: Vec<String>,

    /// Accepted for sops compatibility: sops-rs always uses keys itself. `false` is refused, as
    /// it would leave only the remote key services, which sops-rs does not have.
    #[arg(
        long,
        global = true,
        hide = true,
        env = "SOPS_ENABLE_LOCAL_KEYSERVICE",
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub enable_local_keyservice: Option<bool>,
}

/// The command line when it starts with a command's name: [`Cli`] without
/// sops's legacy top-level flags (`-e`, `-d`, `--set`, ...), which only the
/// form without a command reads. clap builds every argument of the top
/// level before parsing anything, and those are fifty: 7% of a tiny file's
/// decryption (194,000 of 2.75 million instructions). The command's own
/// arguments, and the global ones, are the same definitions as in [`Cli`],
/// so parsing, help and errors are the same.
#[derive(Parser, Debug)]
#[command(name = "sops-rs", version, about, disable_version_flag = true)]
struct CommandFirst {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: GlobalArgs,
}

impl Cli {
    /// The process's command line, parsed by [`CommandFirst`] when its
    /// first word names a command, else by [`Cli`].
    pub fn from_process() -> Result<Cli, clap::Error> {
        Cli::from_words(std::env::args_os().collect())
    }

    /// `words` as the command line, program name first.
    pub fn from_words(words: Vec<std::ffi::OsString>) -> Result<Cli, clap::Error> {
        let command_first = words
            .get(1)
            .and_then(|word| word.to_str())
            .is_some_and(<Command as clap::Subcommand>::has_subcommand);
        if !command_first {
            return <Cli as Parser>::try_parse_from(words);
        }
        let parsed = <CommandFirst as Parser>::try_parse_from(words)?;
        Ok(Cli { command: Some(parsed.command), global: parsed.global, ..Cli::default() })
    }
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant)] // parsed once per run
pub enum Command {
    /// Encrypt a file's values (prints to stdout unless -i or --output).
    #[command(after_help = ENCRYPT_EXAMPLES)]
    Encrypt(Deferred<EncryptArgs>),
    /// Decrypt a file (prints to stdout unless -i or --output).
    #[command(after_help = DECRYPT_EXAMPLES)]
    Decrypt(Deferred<DecryptArgs>),
    /// New data key: every value encrypted again; optionally add or remove master keys.
    #[command(after_help = ROTATE_EXAMPLES)]
    Rotate(Deferred<RotateArgs>),
    /// Make files' master keys match their creation rule (keeps the data key and the values).
    #[command(after_help = UPDATEKEYS_EXAMPLES)]
    Updatekeys(Deferred<UpdatekeysArgs>),
    /// Add or delete key groups (keeps the data key and the values).
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// Edit an encrypted file in $SOPS_EDITOR/$EDITOR (a new file starts from an example).
    #[command(after_help = EDIT_EXAMPLES)]
    Edit(Deferred<EditArgs>),
    /// Set one value: `set FILE '["a"]["b"]' '"json value"'`.
    #[command(after_help = SET_EXAMPLES)]
    Set(Deferred<SetArgs>),
    /// Remove one value: `unset FILE '["a"]["b"]'`.
    #[command(after_help = SET_EXAMPLES)]
    Unset(Deferred<UnsetArgs>),
    /// Run a command with the decrypted values in its environment.
    #[command(after_help = EXEC_ENV_EXAMPLES)]
    ExecEnv(Deferred<ExecEnvArgs>),
    /// Run a command with the decrypted file, handed over through a FIFO.
    #[command(after_help = EXEC_FILE_EXAMPLES)]
    ExecFile(Deferred<ExecFileArgs>),
    /// Print whether a file is encrypted, as JSON (`{"encrypted":true}`).
    #[command(after_help = FILESTATUS_EXAMPLES)]
    Filestatus(Deferred<FilestatusArgs>),
    /// Check that every file a creation rule covers is encrypted to the rule's keys.
    #[command(after_help = CHECK_EXAMPLES)]
    Check(Deferred<CheckArgs>),
    /// Print a shell completion script: bash, zsh, fish, powershell or elvish.
    #[command(after_help = COMPLETIONS_EXAMPLES, alias = "completion")]
    Completions(Deferred<CompletionsArgs>),
    /// Print the man page (roff), or write one page per command into a directory.
    #[command(after_help = MAN_EXAMPLES)]
    Man(Deferred<ManArgs>),
    /// sops's short name for `help` (else `sops-rs h` would edit a new file named h).
    #[command(name = "h", hide = true)]
    ShortHelp {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
}

/// `man [--dir DIR]`.
#[derive(Args, Debug)]
pub struct ManArgs {
    /// Write sops-rs.1 and sops-rs-COMMAND.1 for every command into DIR.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// `completions SHELL`.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug, Default)]
pub struct EditArgs {
    #[command(flatten)]
    pub types: TypeArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub selection: SelectionArgs,
    #[command(flatten)]
    pub decrypt: OpenArgs,
    /// When the edited file does not parse, fail instead of offering to edit it again.
    #[arg(long)]
    pub no_retry: bool,
    /// sops's flag to edit the metadata with the values: refused (see `show_master_keys_refused`).
    #[arg(short = 's', long, hide = true)]
    pub show_master_keys: bool,
    /// The file to edit (created when it does not exist).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Args, Debug, Default)]
pub struct SetArgs {
    #[command(flatten)]
    pub types: TypeArgs,
    #[command(flatten)]
    pub decrypt: OpenArgs,
    /// Read the value (JSON) from the file named by the third argument.
    #[arg(long, conflicts_with = "value_stdin")]
    pub value_file: bool,
    /// Read the value (JSON) from standard input (keeps it out of the process list).
    #[arg(long)]
    pub value_stdin: bool,
    /// Do not write the file when the value is already there.
    #[arg(long)]
    pub idempotent: bool,
    /// Accepted for sops compatibility: as with sops, the file keeps its own threshold.
    #[arg(long, value_name = "N")]
    pub shamir_secret_sharing_threshold: Option<usize>,
    /// The encrypted file, changed in place.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Where: `'["key"]["nested"][0]'`.
    #[arg(value_name = "PATH")]
    pub path: String,
    /// The value as JSON (`'"text"'`, `5`, `true`, `{"k": "v"}`); a file name with --value-file.
    #[arg(value_name = "VALUE")]
    pub value: Option<String>,
}

#[derive(Args, Debug, Default)]
pub struct UnsetArgs {
    #[command(flatten)]
    pub types: TypeArgs,
    #[command(flatten)]
    pub decrypt: OpenArgs,
    /// Succeed without writing when the value is not there.
    #[arg(long)]
    pub idempotent: bool,
    /// Accepted for sops compatibility: as with sops, the file keeps its own threshold.
    #[arg(long, value_name = "N")]
    pub shamir_secret_sharing_threshold: Option<usize>,
    /// The encrypted file, changed in place.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Where: `'["key"]["nested"][0]'`.
    #[arg(value_name = "PATH")]
    pub path: String,
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant)] // parsed once per run
pub enum GroupsCommand {
    /// Append a key group made of the given keys.
    #[command(after_help = GROUPS_EXAMPLES)]
    Add(Deferred<GroupsAddArgs>),
    /// Delete the key group at INDEX (0-based).
    #[command(alias = "remove", after_help = GROUPS_EXAMPLES)]
    Delete(Deferred<GroupsDeleteArgs>),
}

#[derive(Args, Debug, Default)]
pub struct RotateArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub types: TypeArgs,
    #[command(flatten)]
    pub changes: KeyChangeArgs,
    /// KMS encryption context for added KMS keys, `key:value,key2:value2`.
    #[arg(long, value_name = "CONTEXT")]
    pub encryption_context: Option<String>,
    /// Switch the file to this value cipher (default: keep the file's).
    #[arg(long, value_name = "CIPHER")]
    pub cipher: Option<String>,
    #[command(flatten)]
    pub decrypt: OpenArgs,
    /// Print one JSON object per file (file, status, detail) instead of nothing; needs -i.
    #[arg(long)]
    pub json: bool,
    /// The file to rotate; several files need -i.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Args, Debug, Default)]
pub struct UpdatekeysArgs {
    /// Do not ask for confirmation.
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
    /// Input format (default: from the file name).
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Order in which key types are tried, e.g. `age,kms`.
    #[arg(long, value_name = "TYPES", env = "SOPS_DECRYPTION_ORDER")]
    pub decryption_order: Option<String>,
    /// Print a JSON report, one object per file (file, status, detail, added, removed).
    #[arg(long)]
    pub json: bool,
    /// The files to update.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Args, Debug, Default)]
pub struct GroupsAddArgs {
    /// The encrypted file.
    #[arg(short = 'f', long, value_name = "FILE", required = true)]
    pub file: PathBuf,
    /// Write the result back to the file (otherwise it is printed).
    #[arg(short = 'i', long = "in-place")]
    pub in_place: bool,
    #[command(flatten)]
    pub keys: GroupKeyArgs,
}

/// The keys of a new group. As in sops, each flag may be given more than
/// once (and, as everywhere here, may hold a comma-separated list), and none
/// reads an environment variable: `SOPS_AGE_RECIPIENTS` set for `encrypt`
/// must not slip its recipients into a group made with `--kms`.
#[derive(Args, Debug, Default)]
pub struct GroupKeyArgs {
    /// age recipients (repeatable; each may be a comma-separated list).
    #[arg(short = 'a', long, value_name = "RECIPIENTS", help_heading = "Keys of the new group")]
    pub age: Vec<String>,
    /// AWS KMS key ARNs (`arn` or `arn+role_arn`; repeatable).
    #[arg(short = 'k', long, value_name = "ARNS", help_heading = "Keys of the new group")]
    pub kms: Vec<String>,
    /// AWS profile for the --kms keys.
    #[arg(long, value_name = "PROFILE", help_heading = "Keys of the new group")]
    pub aws_profile: Option<String>,
    /// GCP KMS resource IDs (repeatable).
    #[arg(long, value_name = "IDS", help_heading = "Keys of the new group")]
    pub gcp_kms: Vec<String>,
    /// Azure Key Vault key URLs (repeatable).
    #[arg(long, value_name = "URLS", help_heading = "Keys of the new group")]
    pub azure_kv: Vec<String>,
    /// HuaweiCloud KMS key IDs, `region:key-uuid` (repeatable; recorded, but this build cannot use them).
    #[arg(long, value_name = "IDS", help_heading = "Keys of the new group")]
    pub hckms: Vec<String>,
    /// HashiCorp Vault transit URIs (repeatable).
    #[arg(long, value_name = "URIS", help_heading = "Keys of the new group")]
    pub hc_vault_transit: Vec<String>,
    /// PGP fingerprints (repeatable).
    #[arg(short = 'p', long, value_name = "FPS", help_heading = "Keys of the new group")]
    pub pgp: Vec<String>,
    /// KMS encryption context, `key:value,key2:value2`.
    #[arg(long, value_name = "CONTEXT", help_heading = "Keys of the new group")]
    pub encryption_context: Option<String>,
    /// Number of key groups needed to decrypt afterwards.
    #[arg(long, value_name = "N", help_heading = "Keys of the new group")]
    pub shamir_secret_sharing_threshold: Option<usize>,
}

impl GroupKeyArgs {
    /// The same keys as the other commands' key flags.
    pub fn as_key_args(&self) -> KeyArgs {
        let joined = |values: &[String]| (!values.is_empty()).then(|| values.join(","));
        KeyArgs {
            age: joined(&self.age),
            kms: joined(&self.kms),
            aws_profile: self.aws_profile.clone(),
            gcp_kms: joined(&self.gcp_kms),
            azure_kv: joined(&self.azure_kv),
            hckms: joined(&self.hckms),
            hc_vault_transit: joined(&self.hc_vault_transit),
            pgp: joined(&self.pgp),
            encryption_context: self.encryption_context.clone(),
            shamir_secret_sharing_threshold: self.shamir_secret_sharing_threshold,
            cipher: None,
        }
    }
}

#[derive(Args, Debug, Default)]
pub struct GroupsDeleteArgs {
    /// The encrypted file.
    #[arg(short = 'f', long, value_name = "FILE", required = true)]
    pub file: PathBuf,
    /// Write the result back to the file (otherwise it is printed).
    #[arg(short = 'i', long = "in-place")]
    pub in_place: bool,
    /// Number of key groups needed to decrypt afterwards.
    #[arg(long, value_name = "N")]
    pub shamir_secret_sharing_threshold: Option<usize>,
    /// The group to delete, counting from 0.
    #[arg(value_name = "INDEX")]
    pub index: usize,
}

/// `--add-*` and `--rm-*`: keys to add to the first group or remove from all.
#[derive(Args, Debug, Default, Clone)]
pub struct KeyChangeArgs {
    /// age recipients to add (comma-separated).
    #[arg(long, value_name = "RECIPIENTS", help_heading = "Key changes")]
    pub add_age: Option<String>,
    /// age recipients to remove.
    #[arg(long, value_name = "RECIPIENTS", help_heading = "Key changes")]
    pub rm_age: Option<String>,
    /// AWS KMS ARNs to add (`arn` or `arn+role_arn`).
    #[arg(long, value_name = "ARNS", help_heading = "Key changes")]
    pub add_kms: Option<String>,
    /// AWS KMS ARNs to remove.
    #[arg(long, value_name = "ARNS", help_heading = "Key changes")]
    pub rm_kms: Option<String>,
    /// GCP KMS resource IDs to add.
    #[arg(long, value_name = "IDS", help_heading = "Key changes")]
    pub add_gcp_kms: Option<String>,
    /// GCP KMS resource IDs to remove.
    #[arg(long, value_name = "IDS", help_heading = "Key changes")]
    pub rm_gcp_kms: Option<String>,
    /// Azure Key Vault key URLs to add.
    #[arg(long, value_name = "URLS", help_heading = "Key changes")]
    pub add_azure_kv: Option<String>,
    /// Azure Key Vault key URLs to remove.
    #[arg(long, value_name = "URLS", help_heading = "Key changes")]
    pub rm_azure_kv: Option<String>,
    /// HuaweiCloud KMS key IDs to add (`region:key-uuid`; recorded, but this build cannot use them).
    #[arg(long, value_name = "IDS", help_heading = "Key changes")]
    pub add_hckms: Option<String>,
    /// HuaweiCloud KMS key IDs to remove.
    #[arg(long, value_name = "IDS", help_heading = "Key changes")]
    pub rm_hckms: Option<String>,
    /// HashiCorp Vault transit URIs to add.
    #[arg(long, value_name = "URIS", help_heading = "Key changes")]
    pub add_hc_vault_transit: Option<String>,
    /// HashiCorp Vault transit URIs to remove.
    #[arg(long, value_name = "URIS", help_heading = "Key changes")]
    pub rm_hc_vault_transit: Option<String>,
    /// PGP fingerprints to add.
    #[arg(long, value_name = "FPS", help_heading = "Key changes")]
    pub add_pgp: Option<String>,
    /// PGP fingerprints to remove.
    #[arg(long, value_name = "FPS", help_heading = "Key changes")]
    pub rm_pgp: Option<String>,
}

impl KeyChangeArgs {
    /// The additions and the removals as key flags.
    pub fn split(&self) -> (KeyArgs, KeyArgs) {
        let add = KeyArgs {
            age: self.add_age.clone(),
            kms: self.add_kms.clone(),
            gcp_kms: self.add_gcp_kms.clone(),
            azure_kv: self.add_azure_kv.clone(),
            hckms: self.add_hckms.clone(),
            hc_vault_transit: self.add_hc_vault_transit.clone(),
            pgp: self.add_pgp.clone(),
            ..KeyArgs::default()
        };
        let remove = KeyArgs {
            age: self.rm_age.clone(),
            kms: self.rm_kms.clone(),
            gcp_kms: self.rm_gcp_kms.clone(),
            azure_kv: self.rm_azure_kv.clone(),
            hckms: self.rm_hckms.clone(),
            hc_vault_transit: self.rm_hc_vault_transit.clone(),
            pgp: self.rm_pgp.clone(),
            ..KeyArgs::default()
        };
        (add, remove)
    }

    pub fn is_empty(&self) -> bool {
        let (add, remove) = self.split();
        [add, remove].iter().all(|k| {
            k.age.is_none()
                && k.kms.is_none()
                && k.gcp_kms.is_none()
                && k.azure_kv.is_none()
                && k.hckms.is_none()
                && k.hc_vault_transit.is_none()
                && k.pgp.is_none()
        })
    }
}

#[derive(Args, Debug, Default)]
pub struct EncryptArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub types: TypeArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// The file to encrypt; stdin when absent (then --filename-override is required).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
}

#[derive(Args, Debug, Default)]
pub struct DecryptArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub types: TypeArgs,
    #[command(flatten)]
    pub decrypt: OpenArgs,
    /// Print only this part of the file, e.g. '["db"]["password"]' or '["list"][0]'.
    #[arg(long, value_name = "PATH", help_heading = "Decryption")]
    pub extract: Option<String>,
    /// The file to decrypt; stdin when absent.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// Where the result goes.
#[derive(Args, Debug, Default, Clone)]
pub struct OutputArgs {
    /// Write the result back to the file, atomically.
    #[arg(short = 'i', long = "in-place", help_heading = "Output")]
    pub in_place: bool,
    /// Write the result to PATH, atomically (new plaintext files are created 0600).
    #[arg(long, value_name = "PATH", help_heading = "Output")]
    pub output: Option<PathBuf>,
}

/// Formats and the name used for detection and rule matching.
#[derive(Args, Debug, Default, Clone)]
pub struct TypeArgs {
    /// Input format: yaml, json, dotenv, ini, toml, binary (default: from the file name).
    #[arg(long, value_name = "TYPE", help_heading = "Formats")]
    pub input_type: Option<String>,
    /// Output format (default: the input format).
    #[arg(long, value_name = "TYPE", help_heading = "Formats")]
    pub output_type: Option<String>,
    /// Use this file name for format detection and creation rules (useful with stdin).
    #[arg(long, value_name = "NAME", help_heading = "Formats")]
    pub filename_override: Option<PathBuf>,
}

/// Master keys given on the command line; they replace the creation rule's.
#[derive(Args, Debug, Default, Clone)]
pub struct KeyArgs {
    /// age recipients, comma-separated (X25519 `age1...` or SSH public keys).
    #[arg(
        short = 'a',
        long = "age",
        value_name = "RECIPIENTS",
        env = "SOPS_AGE_RECIPIENTS",
        help_heading = "Keys"
    )]
    pub age: Option<String>,
    /// AWS KMS key ARNs, comma-separated (`arn` or `arn+role_arn`).
    #[arg(short = 'k', long = "kms", value_name = "ARNS", env = "SOPS_KMS_ARN", help_heading = "Keys")]
    pub kms: Option<String>,
    /// AWS profile for the --kms keys.
    #[arg(long, value_name = "PROFILE", help_heading = "Keys")]
    pub aws_profile: Option<String>,
    /// GCP KMS resource IDs, comma-separated.
    #[arg(long, value_name = "IDS", env = "SOPS_GCP_KMS_IDS", help_heading = "Keys")]
    pub gcp_kms: Option<String>,
    /// Azure Key Vault key URLs, comma-separated.
    #[arg(long, value_name = "URLS", env = "SOPS_AZURE_KEYVAULT_URLS", help_heading = "Keys")]
    pub azure_kv: Option<String>,
    /// HuaweiCloud KMS key IDs (`region:key-uuid`), comma-separated; recorded, but this build cannot use them.
    #[arg(long, value_name = "IDS", env = "SOPS_HUAWEICLOUD_KMS_IDS", help_heading = "Keys")]
    pub hckms: Option<String>,
    /// HashiCorp Vault transit URIs, comma-separated.
    #[arg(long, value_name = "URIS", env = "SOPS_VAULT_URIS", help_heading = "Keys")]
    pub hc_vault_transit: Option<String>,
    /// PGP fingerprints, comma-separated.
    #[arg(short = 'p', long = "pgp", value_name = "FPS", env = "SOPS_PGP_FP", help_heading = "Keys")]
    pub pgp: Option<String>,
    /// KMS encryption context, `key:value,key2:value2`.
    #[arg(long, value_name = "CONTEXT", help_heading = "Keys")]
    pub encryption_context: Option<String>,
    /// Number of key groups needed to decrypt (with several key groups).
    #[arg(long, value_name = "N", help_heading = "Keys")]
    pub shamir_secret_sharing_threshold: Option<usize>,
    /// Value cipher for new files: xchacha20_poly1305 (default) or aes256_gcm (readable by sops).
    #[arg(long, value_name = "CIPHER", env = "SOPS_RS_CIPHER", help_heading = "Keys")]
    pub cipher: Option<String>,
}

/// Which values are encrypted (at most one).
#[derive(Args, Debug, Default, Clone)]
pub struct SelectionArgs {
    /// Leave values whose key ends with this suffix unencrypted (default `_unencrypted`).
    #[arg(long, value_name = "SUFFIX", help_heading = "Selection (at most one)")]
    pub unencrypted_suffix: Option<String>,
    /// Encrypt only values whose key ends with this suffix.
    #[arg(long, value_name = "SUFFIX", help_heading = "Selection (at most one)")]
    pub encrypted_suffix: Option<String>,
    /// Leave values whose key matches this regex unencrypted.
    #[arg(long, value_name = "REGEX", help_heading = "Selection (at most one)")]
    pub unencrypted_regex: Option<String>,
    /// Encrypt only values whose key matches this regex.
    #[arg(long, value_name = "REGEX", help_heading = "Selection (at most one)")]
    pub encrypted_regex: Option<String>,
}

/// How an encrypted file is opened: by every command that decrypts.
#[derive(Args, Debug, Default, Clone)]
pub struct OpenArgs {
    /// Decrypt even if the MAC does not match (the file may have been tampered with).
    #[arg(long, help_heading = "Decryption")]
    pub ignore_mac: bool,
    /// Order in which key types are tried, e.g. `age,kms`.
    #[arg(long, value_name = "TYPES", env = "SOPS_DECRYPTION_ORDER", help_heading = "Decryption")]
    pub decryption_order: Option<String>,
}

/// `exec-env FILE... COMMAND`.
#[derive(Args, Debug, Default)]
pub struct ExecEnvArgs {
    /// Do not pass this process's environment to the command: only the decrypted values.
    #[arg(long)]
    pub pristine: bool,
    /// Replace this process with the command (exec) even with an audit log, whose entry is then
    /// written first; without one it always is.
    #[arg(long)]
    pub same_process: bool,
    /// Start the command and return without waiting for it; its input and output go nowhere (deprecated in sops).
    #[arg(long)]
    pub background: bool,
    /// Run the command as this user (needs the privileges to switch to it).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Input format of the files (default: from each file's name).
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    #[command(flatten)]
    pub decrypt: OpenArgs,
    /// One or more encrypted files (later ones win), then the command, run as `/bin/sh -c` runs it.
    #[arg(value_name = "FILE... COMMAND", num_args = 2.., required = true)]
    pub files_and_command: Vec<String>,
}

/// `exec-file FILE COMMAND`.
#[derive(Args, Debug, Default)]
pub struct ExecFileArgs {
    /// Hand over a 0600 temporary file instead of a FIFO (for programs that seek or read twice).
    #[arg(long)]
    pub no_fifo: bool,
    /// Return once the command has read the FIFO, without waiting for it to finish; its input and
    /// output go nowhere (deprecated in sops).
    #[arg(long)]
    pub background: bool,
    /// Name of the file the command sees.
    #[arg(long, value_name = "NAME", default_value = "tmp-file")]
    pub filename: String,
    /// Run the command as this user (needs the privileges to switch to it).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    #[command(flatten)]
    pub types: TypeArgs,
    #[command(flatten)]
    pub decrypt: OpenArgs,
    /// The encrypted file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The command, run as `/bin/sh -c` runs it; `{}` is replaced by the decrypted file's path.
    #[arg(value_name = "COMMAND")]
    pub command: String,
}

/// `filestatus FILE`.
#[derive(Args, Debug, Default)]
pub struct FilestatusArgs {
    /// Input format (default: from the file name).
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// The file to look at.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// `check [PATH...]`.
#[derive(Args, Debug, Default)]
pub struct CheckArgs {
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also decrypt every file and check its MAC; a file no available identity opens is a failure.
    #[arg(long)]
    pub verify: bool,
    /// Files or directories to check (default: everything under the config file's directory).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a command line parses to, or the error clap renders for it.
    fn outcome(result: Result<Cli, clap::Error>) -> String {
        match result {
            Ok(cli) => format!("{cli:?}"),
            Err(error) => format!("{:?}: {}", error.kind(), error.render()),
        }
    }

    /// `CommandFirst` must read every command line that starts with a
    /// command exactly as `Cli` does: the same fields, the same help, the
    /// same errors.
    #[test]
    fn a_command_first_line_parses_as_the_full_definition_parses_it() {
        let lines = [
            "decrypt f.yaml",
            "decrypt --output-type json --extract [\"a\"] -i f.yaml",
            "decrypt --config c.yaml --keyservice tcp://x --enable-local-keyservice=true f.yaml",
            "encrypt --age age1x --encrypted-regex ^data$ --cipher aes256_gcm -i f.yaml",
            "rotate -i --add-age a --rm-hckms r:k f.yaml g.yaml",
            "updatekeys -y --json f.yaml",
            "groups add -f f.yaml --age a --age b",
            "groups remove --file f.yaml 1",
            "set --idempotent f.yaml [\"a\"] 1",
            "exec-env --pristine a.yaml b.env env",
            "exec-file --no-fifo --filename x.json f.json cat",
            "completion bash",
            "h decrypt",
            "decrypt --help",
            "groups add --help",
            "decrypt --bogus f.yaml",
            "decrypt -e f.yaml",
            "exec-env f.yaml",
            "completions tcsh",
            "decrypt -v",
        ];
        for line in lines {
            let words: Vec<std::ffi::OsString> =
                std::iter::once("sops-rs").chain(line.split(' ')).map(Into::into).collect();
            assert_eq!(
                outcome(Cli::from_words(words.clone())),
                outcome(Cli::try_parse_from(words)),
                "{line}"
            );
        }
    }
}
