//! `edit` (and plain `sops-rs FILE`): change an encrypted file in an editor.
//!
//! The plaintext exists only while the editor runs, in a private 0700
//! directory on a memory file system when there is one (never next to the
//! file, never in the working tree), as a 0600 file named like the original
//! so editors pick the right syntax. It is removed on every way out:
//! success, error, a bad edit the user gives up on, and SIGINT, SIGTERM or
//! SIGHUP. The edited text is sealed with the file's own data key, so values
//! the user did not touch keep their ciphertext; an edit that changes
//! nothing leaves the file alone and exits 200.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::args::{EditArgs, EncryptArgs, OutputArgs};
use super::common::{self, Context, Destination};
use super::encrypt::{self, LegacyOptions};
use crate::env::Environment;
use crate::error::{Error, Result};
use crate::fsio;
use crate::keys::KeyServices;
use crate::keys::group::DecryptionOrder;
use crate::ops::{self, Purpose, update};
use crate::store::Format;

use super::signals::SignalCleanup;

pub fn run(ctx: &Context, services: &KeyServices, args: &EditArgs) -> Result<()> {
    if args.show_master_keys {
        return Err(show_master_keys_refused());
    }
    let path = &args.file;
    let format = args
        .types
        .input_type
        .as_deref()
        .and_then(Format::from_name)
        .unwrap_or_else(|| Format::from_path(path));
    let editor = editor_command(&ctx.env)?;
    let dir = fsio::private_dir(&ctx.env)
        .map_err(|source| Error::WriteOutput { path: "<temporary directory>".into(), source })?;
    let name = path.file_name().map_or_else(|| "file".into(), |n| n.to_owned());
    let temp = dir.path().join(&name);
    let interactive = std::io::stdin().is_terminal();
    let editing = Arc::new(AtomicBool::new(false));
    let _signals = SignalCleanup::install(dir.path().to_owned(), editing.clone(), interactive, None);
    let session = Session {
        editor: &editor,
        temp: &temp,
        editing: &editing,
        interactive,
        no_retry: args.no_retry,
        size_limit: ctx.size_limit,
    };
    if path.exists() {
        edit_existing(ctx, services, args, format, &session)
    } else {
        create_new(ctx, services, args, format, &session)
    }
}

/// sops's `-s` puts the `sops` metadata in the editor with the values and
/// takes back whatever the user left there, data key unchanged: a removed
/// key entry is dropped without rotating, an added one is written without a
/// wrapped key. Refused rather than half-done: the keys are plain text in
/// the encrypted file already, and changing them has commands of its own.
fn show_master_keys_refused() -> Error {
    Error::InvalidArgument(
        "--show-master-keys (-s) is not supported: the master keys are listed, unencrypted, in the file's \
         `sops` section; change them with `rotate --add-*/--rm-*`, `updatekeys` or `groups`"
            .into(),
    )
}

struct Session<'a> {
    editor: &'a [String],
    temp: &'a Path,
    editing: &'a AtomicBool,
    interactive: bool,
    no_retry: bool,
    size_limit: crate::fsio::SizeLimit,
}

impl Session<'_> {
    /// Run the editor on the temporary file and read what it left.
    fn edit(&self) -> Result<crate::secret::SecretVec> {
        self.editing.store(true, Ordering::SeqCst);
        let status =
            std::process::Command::new(&self.editor[0]).args(&self.editor[1..]).arg(self.temp).status();
        self.editing.store(false, Ordering::SeqCst);
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => {
                return Err(Error::Editor(format!(
                    "{} exited with {status}; the file was not changed",
                    self.editor[0]
                )));
            }
            Err(e) => return Err(Error::Editor(format!("could not run {}: {e}", self.editor[0]))),
        }
        crate::fsio::read_file(self.temp, self.size_limit)
            .map(crate::secret::SecretVec::new)
            .map_err(|source| Error::ReadInput { path: "<edited file>".into(), source })
    }

    /// After a bad edit: edit again (interactive, and allowed) or give up.
    fn retry_after(&self, error: &Error) -> Result<()> {
        if !self.interactive || self.no_retry {
            return Err(Error::InvalidArgument(format!(
                "the edited file is not valid: {error}; your changes were discarded"
            )));
        }
        eprintln!("The edited file is not valid: {error}");
        eprint!("Press Enter to edit it again, or Ctrl-C to discard your changes. ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|source| Error::ReadInput { path: "<stdin>".into(), source })?;
        if line.is_empty() {
            return Err(Error::InvalidArgument("no answer; your changes were discarded".into()));
        }
        Ok(())
    }
}

fn is_retryable(error: &Error) -> bool {
    matches!(
        error,
        Error::Parse { .. }
            | Error::Shape { .. }
            | Error::EmptyInput
            | Error::LimitExceeded { .. }
            | Error::InvalidArgument(_)
            | Error::EncryptTree(_)
            | Error::AlreadyEncrypted
    )
}

fn edit_existing(
    ctx: &Context,
    services: &KeyServices,
    args: &EditArgs,
    format: Format,
    session: &Session<'_>,
) -> Result<()> {
    let path = &args.file;
    let input = ctx.read_file(path)?;
    let options = ctx.config()?.map(|c| c.stores).unwrap_or_default();
    let order =
        args.decrypt.decryption_order.as_deref().map(DecryptionOrder::parse).transpose()?.unwrap_or_default();
    let mut opened = ops::open(&input, format, args.decrypt.ignore_mac, &order, services, Purpose::Update)?;
    let plaintext = update::plaintext_of(&opened, format, &options)?;
    fsio::write_private(session.temp, &plaintext)
        .map_err(|source| Error::WriteOutput { path: "<temporary file>".into(), source })?;
    loop {
        let edited = session.edit()?;
        if *edited == *plaintext {
            return Err(Error::FileNotModified);
        }
        match update::apply_edit(&mut opened, &edited, format, &options) {
            Ok(output) => {
                if output == input {
                    return Err(Error::FileNotModified);
                }
                return common::write(
                    &Destination::File { path: path.clone(), new_mode: fsio::SHARED_MODE },
                    &output,
                );
            }
            Err(error) if is_retryable(&error) => session.retry_after(&error)?,
            Err(error) => return Err(error),
        }
    }
}

fn create_new(
    ctx: &Context,
    services: &KeyServices,
    args: &EditArgs,
    format: Format,
    session: &Session<'_>,
) -> Result<()> {
    let example = example(format);
    fsio::write_private(session.temp, example.as_bytes())
        .map_err(|source| Error::WriteOutput { path: "<temporary file>".into(), source })?;
    loop {
        let edited = session.edit()?;
        if *edited == *example.as_bytes() {
            return Err(Error::FileNotModified);
        }
        // Encrypt the edited text as `encrypt --output FILE` would, with the
        // keys and rules that apply to the file's name.
        let encrypt_args = EncryptArgs {
            output: OutputArgs { in_place: false, output: Some(args.file.clone()) },
            types: args.types.clone(),
            keys: args.keys.clone(),
            selection: args.selection.clone(),
            file: Some(session.temp.to_owned()),
        };
        let mut types = encrypt_args.types.clone();
        types.filename_override.get_or_insert_with(|| args.file.clone());
        let encrypt_args = EncryptArgs { types, ..encrypt_args };
        match encrypt::run(ctx, services, &encrypt_args, &LegacyOptions::default()) {
            Ok(()) => return Ok(()),
            Err(error) if is_retryable(&error) => session.retry_after(&error)?,
            Err(error) => return Err(error),
        }
    }
}

/// What a new file starts as: a few example values in the file's format.
fn example(format: Format) -> &'static str {
    match format {
        Format::Yaml => {
            "# A new encrypted file. Replace these examples with your values; keys stay readable,\n\
             # values (and comments) are encrypted when you save and quit.\n\
             database:\n    user: app\n    password: change-me\napi_token: replace-me\n"
        }
        Format::Json => {
            "{\n\t\"database\": {\n\t\t\"user\": \"app\",\n\t\t\"password\": \"change-me\"\n\t},\n\t\"api_token\": \"replace-me\"\n}\n"
        }
        Format::Dotenv => {
            "# A new encrypted file: one KEY=value per line.\nDATABASE_PASSWORD=change-me\nAPI_TOKEN=replace-me\n"
        }
        Format::Ini => "; A new encrypted file.\n[database]\nuser = app\npassword = change-me\n",
        Format::Toml => {
            "# A new encrypted file.\napi_token = \"replace-me\"\n\n[database]\nuser = \"app\"\npassword = \"change-me\"\n"
        }
        Format::Binary => "A new encrypted file: this whole text is encrypted as one value.\n",
    }
}

/// `SOPS_EDITOR`, then `EDITOR` (split as a shell would, so arguments and
/// quoted paths with spaces work), then the first of vim, nano, vi on PATH.
fn editor_command(env: &Environment) -> Result<Vec<String>> {
    for var in ["SOPS_EDITOR", "EDITOR"] {
        if let Some(value) = env.non_empty(var) {
            let words = crate::shell_words::split(value)
                .map_err(|why| Error::Editor(format!("{var} cannot be split into a command: {why}")))?;
            if !words.is_empty() {
                return Ok(words);
            }
        }
    }
    let path = env.var("PATH").unwrap_or("/usr/bin:/bin");
    for candidate in ["vim", "nano", "vi"] {
        if std::env::split_paths(path).any(|dir| dir.join(candidate).is_file()) {
            return Ok(vec![candidate.to_owned()]);
        }
    }
    Err(Error::NoEditor)
}
