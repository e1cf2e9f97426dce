//! What every command does around the library call: read the input, pick
//! formats, load the config, turn flags into key groups and rules, and
//! write the output where it was asked to go.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::args::{KeyArgs, OutputArgs, SelectionArgs, TypeArgs};
use crate::config::{self, Config, CreationRule, split_list};
use crate::env::Environment;
use crate::error::{Error, Result};
use crate::fsio;
use crate::keys::MasterKey;
use crate::keys::age::AgeKey;
use crate::metadata::KeyGroup;
use crate::store::Format;
use crate::walk::SelectionRule;

/// The process's environment and working directory, read once.
pub struct Context {
    pub env: Environment,
    pub cwd: PathBuf,
    pub config_flag: Option<PathBuf>,
    /// The largest input read (`SOPS_RS_MAX_FILE_SIZE`, see [`fsio`]).
    pub size_limit: fsio::SizeLimit,
    /// The audit log, looked up once: `main` and `exec-env` both ask.
    audit_log: std::sync::OnceLock<Option<crate::audit::AuditLog>>,
}

impl Context {
    /// The context of this process; an invalid `SOPS_RS_MAX_FILE_SIZE` is an
    /// error (exit 1) before anything is read.
    pub fn from_process(config_flag: Option<PathBuf>) -> Result<Context> {
        let env = Environment::from_process();
        let size_limit = fsio::SizeLimit::from_env(&env).map_err(Error::InvalidArgument)?;
        Ok(Context {
            env,
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            config_flag,
            size_limit,
            audit_log: std::sync::OnceLock::new(),
        })
    }

    /// Read a file the command works on, within the size limit. A missing
    /// file is exit 100, any other failure (too large included) exit 2.
    pub fn read_file(&self, path: &Path) -> Result<Vec<u8>> {
        fsio::read_file(path, self.size_limit).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => Error::NoSuchFile(path.to_owned()),
            _ => Error::ReadInput { path: path.to_owned(), source },
        })
    }

    /// Read standard input within the size limit.
    pub fn read_stdin(&self) -> Result<crate::secret::SecretVec> {
        fsio::read_stream(std::io::stdin().lock(), self.size_limit)
            .map_err(|source| Error::ReadInput { path: PathBuf::from("<stdin>"), source })
    }

    /// The audit log, when one is configured (`SOPS_RS_AUDIT_LOG`, else the
    /// config's `audit.path`). An unreadable config leaves the variable.
    pub fn audit_log(&self) -> Option<&crate::audit::AuditLog> {
        self.audit_log
            .get_or_init(|| {
                let from_config = self.config().ok().flatten().and_then(|c| c.audit_path);
                crate::audit::AuditLog::configured(&self.env, from_config.as_deref())
            })
            .as_ref()
    }

    /// The config file: `--config`/`SOPS_CONFIG`, else discovered from the
    /// working directory. A config that exists but is invalid is an error
    /// even when it would not be needed, as in sops.
    pub fn config(&self) -> Result<Option<Config>> {
        let path = match &self.config_flag {
            Some(path) => Some(path.clone()),
            None => config::discover(&self.cwd, &self.env),
        };
        match path {
            Some(path) => {
                // A config file comes with the repository, so it is input
                // like any other: read within the limit.
                let bytes = fsio::read_file(&path, self.size_limit).map_err(|e| Error::Config {
                    path: path.clone(),
                    message: format!("cannot read it: {e}"),
                })?;
                Config::from_bytes(&path, &bytes).map(Some)
            }
            None => Ok(None),
        }
    }
}

/// The bytes to work on and the names that go with them.
pub struct Input {
    pub bytes: crate::secret::SecretVec,
    /// The file read, when not stdin.
    pub path: Option<PathBuf>,
    /// The name used for format detection and rule matching.
    pub name: PathBuf,
}

/// Read the file, or stdin when there is none; check the output flags.
pub fn read_input(
    ctx: &Context,
    file: Option<&Path>,
    types: &TypeArgs,
    output: &OutputArgs,
    stdin_needs_name: bool,
) -> Result<Input> {
    if output.in_place && output.output.is_some() {
        return Err(Error::ConflictingParameters("Cannot use both --in-place and --output".into()));
    }
    match file {
        Some(path) if path.as_os_str() != "-" => {
            let bytes = ctx.read_file(path)?;
            let name = types.filename_override.clone().unwrap_or_else(|| path.to_owned());
            Ok(Input { bytes: crate::secret::SecretVec::new(bytes), path: Some(path.to_owned()), name })
        }
        _ => {
            if output.in_place {
                return Err(Error::ConflictingParameters(
                    "Cannot use --in-place when reading from stdin".into(),
                ));
            }
            if stdin_needs_name && types.filename_override.is_none() {
                return Err(Error::ConflictingParameters(
                    "reading from stdin requires --filename-override, to choose the format and creation rule"
                        .into(),
                ));
            }
            let bytes = ctx.read_stdin()?;
            let name = types.filename_override.clone().unwrap_or_else(|| PathBuf::from("<stdin>"));
            Ok(Input { bytes, path: None, name })
        }
    }
}

/// Input and output formats: the flags, else the file name's extension.
/// Unknown type names fall back to detection, as in sops. Standard input
/// without a name is binary, as in sops.
pub fn formats(types: &TypeArgs, input: &Input) -> (Format, Format) {
    let detected = if input.path.is_none() && types.filename_override.is_none() {
        Format::Binary
    } else {
        Format::from_path(&input.name)
    };
    let input_format = types.input_type.as_deref().and_then(Format::from_name).unwrap_or(detected);
    let output_format = types.output_type.as_deref().and_then(Format::from_name).unwrap_or(input_format);
    (input_format, output_format)
}

/// Key groups from the key flags; `None` when no key flag was given.
pub fn key_groups_from_flags(keys: &KeyArgs) -> Result<Option<Vec<KeyGroup>>> {
    let mut group: KeyGroup = Vec::new();
    let invalid = |m: String| Error::InvalidArgument(m);
    if let Some(list) = &keys.age {
        for recipient in split_list(list) {
            group.push(MasterKey::Age(AgeKey::new(&recipient).map_err(|f| invalid(f.message))?));
        }
    }
    if let Some(list) = &keys.pgp {
        for fp in split_list(list) {
            group.push(MasterKey::Pgp(crate::keys::PgpKey {
                fingerprint: fp.replace(' ', ""),
                ..Default::default()
            }));
        }
    }
    if let Some(list) = &keys.kms {
        let context = match &keys.encryption_context {
            Some(text) => parse_encryption_context(text)?,
            None => Vec::new(),
        };
        let profile = keys.aws_profile.clone().unwrap_or_default();
        for arn in split_list(list) {
            group.push(config::kms_key(&arn, &profile, context.clone()).map_err(invalid)?);
        }
    }
    if let Some(list) = &keys.gcp_kms {
        for id in split_list(list) {
            group.push(MasterKey::GcpKms(crate::keys::GcpKmsKey { resource_id: id, ..Default::default() }));
        }
    }
    if let Some(list) = &keys.azure_kv {
        for url in split_list(list) {
            group.push(config::azure_key_from_url(&url).map_err(invalid)?);
        }
    }
    if let Some(list) = &keys.hckms {
        for id in split_list(list) {
            group.push(config::hckms_key(&id).map_err(invalid)?);
        }
    }
    if let Some(list) = &keys.hc_vault_transit {
        for uri in split_list(list) {
            group.push(config::vault_key_from_uri(&uri).map_err(invalid)?);
        }
    }
    Ok((!group.is_empty()).then(|| vec![group]))
}

/// `k1:v1,k2:v2` (exit 6 when malformed).
pub fn parse_encryption_context(text: &str) -> Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    for item in text.split(',').filter(|s| !s.trim().is_empty()) {
        let (k, v) = item
            .split_once(':')
            .ok_or_else(|| Error::BadEncryptionContext(format!("{item:?} is not key:value")))?;
        pairs.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    Ok(pairs)
}

/// The selection rule from flags and the creation rule: a flag overrides
/// the same option of the rule; two different options are an error (exit 8).
pub fn selection_rule(
    flags: &SelectionArgs,
    comment_flags: (&Option<String>, &Option<String>),
    rule: Option<&CreationRule>,
) -> Result<Option<SelectionRule>> {
    let mut chosen: Vec<(&str, String)> = Vec::new();
    let from_flags = [
        ("unencrypted_suffix", &flags.unencrypted_suffix),
        ("encrypted_suffix", &flags.encrypted_suffix),
        ("unencrypted_regex", &flags.unencrypted_regex),
        ("encrypted_regex", &flags.encrypted_regex),
        ("unencrypted_comment_regex", comment_flags.0),
        ("encrypted_comment_regex", comment_flags.1),
    ];
    for (field, value) in from_flags {
        if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
            chosen.push((field, value.clone()));
        }
    }
    if let Some(rule_selection) = rule.and_then(|r| r.rule.as_ref())
        && !chosen.iter().any(|(f, _)| *f == rule_selection.field_name())
    {
        chosen.push((rule_selection.field_name(), rule_selection.value().to_owned()));
    }
    if chosen.len() > 1 {
        let names: Vec<&str> = chosen.iter().map(|(f, _)| *f).collect();
        return Err(Error::ConflictingParameters(format!(
            "Cannot use more than one of unencrypted_suffix, encrypted_suffix, unencrypted_regex, encrypted_regex, \
             unencrypted_comment_regex and encrypted_comment_regex (got {})",
            names.join(", ")
        )));
    }
    chosen
        .pop()
        .map(|(field, value)| SelectionRule::from_field(field, &value).map_err(Error::InvalidArgument))
        .transpose()
}

/// Where a result goes.
pub enum Destination {
    Stdout,
    File { path: PathBuf, new_mode: u32 },
}

/// `-i` writes back to the input, `--output` to its path, otherwise stdout.
pub fn destination(output: &OutputArgs, input: &Input, plaintext: bool) -> Destination {
    let new_mode = if plaintext { fsio::PRIVATE_MODE } else { fsio::SHARED_MODE };
    if output.in_place
        && let Some(path) = &input.path
    {
        return Destination::File { path: path.clone(), new_mode };
    }
    match &output.output {
        Some(path) => Destination::File { path: path.clone(), new_mode },
        None => Destination::Stdout,
    }
}

/// Write the result; a broken pipe on stdout is not an error worth a
/// message (the reader went away on purpose).
pub fn write(destination: &Destination, data: &[u8]) -> Result<()> {
    write_parts(destination, &[data])
}

/// [`write`] the concatenation of `parts`, without joining them.
pub fn write_parts(destination: &Destination, parts: &[&[u8]]) -> Result<()> {
    match destination {
        Destination::Stdout => {
            let mut stdout = std::io::stdout().lock();
            match fsio::write_parts(&mut stdout, parts).and_then(|()| stdout.flush()) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(source) => Err(Error::WriteOutput { path: PathBuf::from("<stdout>"), source }),
            }
        }
        Destination::File { path, new_mode } => fsio::write_atomic_parts(path, parts, *new_mode)
            .map_err(|source| Error::WriteOutput { path: path.clone(), source }),
    }
}
