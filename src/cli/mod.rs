//! The command line: parse, dispatch, report.
//!
//! Every command returns the library's `Error`; this module prints it with
//! its hint and exits with sops's code for it, so scripts written against
//! sops see the same statuses. Argument errors exit 1, as they do in sops.

mod args;
mod check;
mod common;
mod decrypt;
mod deferred;
mod edit;
mod encrypt;
mod exec;
mod help_text;
mod progress;
mod rekey;
mod report;
mod setunset;
mod signals;

use std::process::ExitCode;

pub use args::Cli;
use args::{Command, DecryptArgs, EncryptArgs, GroupsCommand, RotateArgs};
use common::Context;

use std::path::PathBuf;

use crate::audit::AuditEntry;
use crate::error::{Error, Result};
use crate::keys::KeyServices;
use crate::store::StoreOptions;

/// The sops version whose format and command line we follow.
pub const SOPS_VERSION: &str = "3.11.0";

/// Run the program with the process's arguments and environment.
pub fn main() -> ExitCode {
    let cli = match Cli::from_process() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 1 } else { 0 });
        }
    };
    if cli.global.version {
        println!("sops {SOPS_VERSION} (sops-rs {})", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if let Err(error) = key_service_flags(&cli) {
        return failed(&error);
    }
    let ctx = match Context::from_process(cli.global.config.clone()) {
        Ok(ctx) => ctx,
        Err(error) => return failed(&error),
    };
    let services = KeyServices::new(ctx.env.clone());
    let audit = ctx.audit_log();
    let target = audit_target(&cli);
    // Fail closed: an operation that cannot be logged does not run.
    if let (Some(log), Some(_)) = (&audit, &target)
        && let Err(error) = log.check_writable()
    {
        return failed(&error);
    }
    let mut result = dispatch(cli, &ctx, &services);
    if let (Some(log), Some((operation, files))) = (&audit, target) {
        let entry = AuditEntry { operation, files, keys: services.used_keys(), error: result.as_ref().err() };
        if let Err(audit_error) = log.record(&ctx.env, &entry) {
            match &result {
                Ok(()) => result = Err(audit_error),
                Err(_) => report(&audit_error),
            }
        }
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => failed(&error),
    }
}

/// Report `error` and exit with sops's code for it.
fn failed(error: &Error) -> ExitCode {
    report(error);
    ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(1))
}

/// sops's key service flags. sops asks its local key service first and the
/// remote ones (`--keyservice`, `SOPS_KEYSERVICE`) after it, so a file whose
/// keys are at hand opens without them: sops-rs, which has no key service
/// client, goes on with its own keys and says that the addresses are not
/// used (not which: an address is the user's, not ours to echo). Turning
/// the local service off would leave only the remote ones, so that is
/// refused rather than ignored.
fn key_service_flags(cli: &Cli) -> Result<()> {
    if cli.global.enable_local_keyservice == Some(false) {
        return Err(Error::InvalidArgument(
            "--enable-local-keyservice=false (or SOPS_ENABLE_LOCAL_KEYSERVICE=false) leaves only remote key \
             services, and sops-rs has no key service client; it always uses keys itself"
                .into(),
        ));
    }
    if cli.global.keyservice.iter().any(|address| !address.trim().is_empty()) {
        eprintln!(
            "warning: --keyservice (SOPS_KEYSERVICE) is ignored: sops-rs has no key service client, and uses \
             keys directly"
        );
    }
    Ok(())
}

/// What the audit log records for a command line: the operation and the
/// files it touches. Commands that only look (`filestatus`, `check`) are
/// not recorded.
fn audit_target(cli: &Cli) -> Option<(&'static str, Vec<PathBuf>)> {
    let file = |f: &Option<PathBuf>| f.iter().cloned().collect::<Vec<_>>();
    Some(match &cli.command {
        Some(Command::Encrypt(args)) => ("encrypt", file(&args.file)),
        Some(Command::Decrypt(args)) => ("decrypt", file(&args.file)),
        Some(Command::Rotate(args)) => ("rotate", args.files.clone()),
        Some(Command::Updatekeys(args)) => ("updatekeys", args.files.clone()),
        Some(Command::Groups(GroupsCommand::Add(args))) => ("groups-add", vec![args.file.clone()]),
        Some(Command::Groups(GroupsCommand::Delete(args))) => ("groups-delete", vec![args.file.clone()]),
        Some(Command::Edit(args)) => ("edit", vec![args.file.clone()]),
        Some(Command::Set(args)) => ("set", vec![args.file.clone()]),
        Some(Command::Unset(args)) => ("unset", vec![args.file.clone()]),
        Some(Command::ExecEnv(args)) => {
            let (_, files) = args.files_and_command.split_last()?;
            ("exec-env", files.iter().map(PathBuf::from).collect())
        }
        Some(Command::ExecFile(args)) => ("exec-file", vec![args.file.clone()]),
        Some(
            Command::Filestatus(_)
            | Command::Check(_)
            | Command::Completions(_)
            | Command::Man(_)
            | Command::ShortHelp { .. },
        ) => {
            return None;
        }
        None if cli.legacy_encrypt => ("encrypt", file(&cli.legacy_file)),
        None if cli.legacy_decrypt => ("decrypt", file(&cli.legacy_file)),
        None if cli.legacy_rotate => ("rotate", file(&cli.legacy_file)),
        None if cli.legacy_set.is_some() => ("set", file(&cli.legacy_file)),
        None => ("edit", file(&cli.legacy_file)),
    })
}

fn dispatch(cli: Cli, ctx: &Context, services: &KeyServices) -> Result<()> {
    match cli.command {
        Some(Command::Encrypt(args)) => {
            encrypt::run(ctx, services, &args, &encrypt::LegacyOptions::default())
        }
        Some(Command::Decrypt(args)) => decrypt::run(ctx, services, &args, None),
        Some(Command::Rotate(args)) => rekey::rotate(ctx, services, &args),
        Some(Command::Updatekeys(args)) => rekey::updatekeys(ctx, services, &args),
        Some(Command::Groups(GroupsCommand::Add(args))) => rekey::groups_add(ctx, services, &args),
        Some(Command::Groups(GroupsCommand::Delete(args))) => rekey::groups_delete(ctx, services, &args),
        Some(Command::Edit(args)) => edit::run(ctx, services, &args),
        Some(Command::Set(args)) => setunset::set(ctx, services, &args),
        Some(Command::Unset(args)) => setunset::unset(ctx, services, &args),
        Some(Command::ExecEnv(args)) => exec::exec_env(ctx, services, &args),
        Some(Command::ExecFile(args)) => exec::exec_file(ctx, services, &args),
        Some(Command::Filestatus(args)) => check::filestatus(ctx, &args),
        Some(Command::Check(args)) => check::check(ctx, services, &args),
        Some(Command::ShortHelp { command }) => {
            let words = ["sops-rs", "help"].into_iter().map(str::to_owned).chain(command.iter().cloned());
            match <Cli as clap::Parser>::try_parse_from(words) {
                Err(help) if help.use_stderr() => Err(Error::InvalidArgument(format!(
                    "no command {:?}; see `sops-rs --help`",
                    command.join(" ")
                ))),
                Err(help) => {
                    let _ = help.print();
                    Ok(())
                }
                Ok(_) => Ok(()),
            }
        }
        Some(Command::Completions(args)) => {
            // Into a buffer first: the generator panics on a closed pipe.
            let mut command = <args::Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut command, "sops-rs", &mut script);
            common::write(&common::Destination::Stdout, &script)
        }
        Some(Command::Man(args)) => match &args.dir {
            Some(dir) => man_pages(dir),
            None => {
                let mut page = Vec::new();
                render_man(<args::Cli as clap::CommandFactory>::command(), &mut page)?;
                common::write(&common::Destination::Stdout, &page)
            }
        },
        None if cli.legacy_set.is_some() => {
            let file = cli.legacy_file.ok_or_else(|| Error::InvalidArgument("--set needs a FILE".into()))?;
            let spec = cli.legacy_set.unwrap_or_default();
            setunset::legacy_set(ctx, services, &spec, &file, &cli.legacy_types, &cli.legacy_decrypt_args)
        }
        None if cli.legacy_rotate => {
            let args = RotateArgs {
                output: cli.legacy_output,
                types: cli.legacy_types,
                changes: cli.legacy_key_changes,
                encryption_context: cli.legacy_keys.encryption_context,
                // SOPS_RS_CIPHER must not switch an existing file's cipher.
                cipher: None,
                decrypt: cli.legacy_decrypt_args,
                json: false,
                files: cli.legacy_file.into_iter().collect(),
            };
            rekey::rotate(ctx, services, &args)
        }
        None if cli.legacy_encrypt && cli.legacy_decrypt => {
            Err(Error::ConflictingParameters("Cannot encrypt and decrypt at the same time".into()))
        }
        None if cli.legacy_encrypt => {
            let args = EncryptArgs {
                output: cli.legacy_output,
                types: cli.legacy_types,
                keys: cli.legacy_keys,
                selection: cli.legacy_selection,
                file: cli.legacy_file,
            };
            let legacy = encrypt::LegacyOptions {
                mac_only_encrypted: cli.mac_only_encrypted,
                unencrypted_comment_regex: cli.unencrypted_comment_regex,
                encrypted_comment_regex: cli.encrypted_comment_regex,
                indent: cli.indent,
            };
            encrypt::run(ctx, services, &args, &legacy)
        }
        None if cli.legacy_decrypt => {
            let args = DecryptArgs {
                output: cli.legacy_output,
                types: cli.legacy_types,
                decrypt: cli.legacy_decrypt_args,
                extract: cli.extract,
                file: cli.legacy_file,
            };
            decrypt::run(ctx, services, &args, cli.indent)
        }
        None => match cli.legacy_file {
            // `sops FILE` edits the file.
            Some(file) => {
                let args = args::EditArgs {
                    types: cli.legacy_types,
                    keys: cli.legacy_keys,
                    selection: cli.legacy_selection,
                    decrypt: cli.legacy_decrypt_args,
                    no_retry: false,
                    show_master_keys: cli.legacy_show_master_keys,
                    file,
                };
                edit::run(ctx, services, &args)
            }
            None => Err(Error::InvalidArgument("no command given; see `sops-rs --help`".into())),
        },
    }
}

/// `--indent` (legacy form) sets both YAML and JSON indentation.
fn apply_indent(options: &mut StoreOptions, indent: Option<i64>) -> Result<()> {
    if let Some(indent) = indent {
        if indent < 0 {
            return Err(Error::InvalidArgument("--indent must not be negative".into()));
        }
        if indent > crate::store::MAX_JSON_INDENT as i64 {
            // It also sets the JSON indentation, which is bounded.
            return Err(Error::InvalidArgument(format!(
                "--indent must be at most {}",
                crate::store::MAX_JSON_INDENT
            )));
        }
        options.yaml_indent = if indent == 0 { 4 } else { indent as usize };
        options.json_indent = Some(indent as usize);
    }
    Ok(())
}

/// Print an error and its hint on stderr.
fn report(error: &Error) {
    if matches!(error, Error::ChildExit(_) | Error::CheckFailed(_)) {
        return; // the child already said what it had to say
    }
    eprintln!("Error: {error}");
    if let Some(hint) = error.hint() {
        eprintln!("hint: {hint}");
    }
}

/// The man pages, from the same clap definition as `--help` (so they cannot
/// disagree): `sops-rs.1`, and `sops-rs-COMMAND.1` for every command.
pub fn man_pages(dir: &std::path::Path) -> Result<()> {
    let command = <args::Cli as clap::CommandFactory>::command();
    let mut pages = vec![("sops-rs.1".to_owned(), command.clone())];
    // `h`, sops's short name for help, is hidden and has no page of its own.
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help" && !s.is_hide_set()) {
        let name = format!("sops-rs-{}", sub.get_name());
        pages.push((format!("{name}.1"), sub.clone().name(name)));
    }
    for (file, page) in pages {
        let mut text = Vec::new();
        render_man(page, &mut text)?;
        let path = dir.join(file);
        crate::fsio::write_atomic(&path, &text, crate::fsio::SHARED_MODE)
            .map_err(|source| Error::WriteOutput { path, source })?;
    }
    Ok(())
}

fn render_man(command: clap::Command, out: &mut dyn std::io::Write) -> Result<()> {
    clap_mangen::Man::new(command)
        .render(out)
        .map_err(|source| Error::WriteOutput { path: PathBuf::from("-"), source })
}
