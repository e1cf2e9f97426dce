//! What is generated from the one clap definition stays in step with it:
//! the man pages checked in under `docs/man/`, the shell completions, and
//! the promise that every command's help has a purpose line and an example.

mod common;

use common::{Sandbox, assert_exit, root, stderr_text, stdout_text};

/// Every command a user can type, including nested ones: the man pages
/// are generated one per command from the clap definition.
fn commands(sandbox: &Sandbox) -> Vec<Vec<String>> {
    let dir = sandbox.path().join("man-list");
    std::fs::create_dir_all(&dir).unwrap();
    let output = sandbox.sops_rs().args(["man", "--dir"]).arg(&dir).output().unwrap();
    assert_exit(&output, 0, "man --dir");
    let mut names: Vec<Vec<String>> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            Some(vec![name.strip_prefix("sops-rs-")?.strip_suffix(".1")?.to_owned()])
        })
        .collect();
    names.sort();
    assert!(names.len() >= 14, "{names:?}");
    names.push(vec!["groups".into(), "add".into()]);
    names.push(vec!["groups".into(), "delete".into()]);
    names
}

#[test]
fn the_top_level_help_lists_every_command_in_its_groups() {
    let sandbox = Sandbox::new();
    let help = stdout_text(&sandbox.sops_rs().arg("--help").output().unwrap());
    for command in commands(&sandbox).into_iter().filter(|c| c.len() == 1) {
        let listed = help.lines().any(|line| {
            line.strip_prefix("  ").and_then(|l| l.split_whitespace().next()) == Some(&command[0])
        });
        assert!(listed, "{} is missing from `sops-rs --help`:\n{help}", command[0]);
    }
    for flag in ["--version", "--config", "--help", "-e/--encrypt", "-d/--decrypt", "Examples:"] {
        assert!(help.contains(flag), "{flag}");
    }
}

#[test]
fn every_command_has_a_purpose_and_an_example_in_its_help() {
    let sandbox = Sandbox::new();
    for command in commands(&sandbox) {
        let output = sandbox.sops_rs().args(&command).arg("--help").output().unwrap();
        assert_exit(&output, 0, &command.join(" "));
        let help = stdout_text(&output);
        let purpose = help.lines().next().unwrap_or_default();
        assert!(purpose.len() > 10 && !purpose.starts_with("Usage"), "{command:?}: {help}");
        if command != ["groups"] {
            assert!(help.contains("Example"), "{command:?} has no example:\n{help}");
        }
    }
}

#[test]
fn checked_in_man_pages_match_the_definition() {
    let sandbox = Sandbox::new();
    let dir = sandbox.path().join("man");
    std::fs::create_dir(&dir).unwrap();
    let output = sandbox.sops_rs().args(["man", "--dir"]).arg(&dir).output().unwrap();
    assert_exit(&output, 0, "man --dir");
    let mut generated: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    generated.sort();
    let checked_in = root().join("docs/man");
    let mut committed: Vec<String> = std::fs::read_dir(&checked_in)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    committed.sort();
    let hint = "regenerate with `cargo run -- man --dir docs/man`";
    assert_eq!(generated, committed, "{hint}");
    for name in generated {
        let now = std::fs::read_to_string(dir.join(&name)).unwrap();
        let then = std::fs::read_to_string(checked_in.join(&name)).unwrap();
        assert!(now == then, "docs/man/{name} is out of date; {hint}");
        assert!(now.starts_with(".ie \\n(.g .ds Aq") && now.contains(".SH NAME"), "{name} is not roff");
    }
    // The one-page form prints the main page.
    let page = stdout_text(&sandbox.sops_rs().arg("man").output().unwrap());
    assert_eq!(page, std::fs::read_to_string(checked_in.join("sops-rs.1")).unwrap());
}

#[test]
fn completions_are_valid_scripts_that_know_every_command() {
    let sandbox = Sandbox::new();
    let names: Vec<String> =
        commands(&sandbox).into_iter().filter(|c| c.len() == 1).map(|c| c.join("")).collect();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = sandbox.sops_rs().args(["completions", shell]).output().unwrap();
        assert_exit(&output, 0, shell);
        let script = stdout_text(&output);
        for name in &names {
            assert!(script.contains(name.as_str()), "{shell} completion lacks {name}");
        }
        assert!(script.contains("encrypted-regex"), "{shell}: flags are completed too");
    }
    // bash can check its script's syntax without running it; so can zsh
    // and fish when they are installed.
    for (shell, check) in [("bash", ["-n"]), ("zsh", ["-n"]), ("fish", ["--no-execute"])] {
        if sandbox.command(shell).arg("--version").output().is_err() {
            assert_ne!(shell, "bash", "bash is always there");
            continue;
        }
        let script = sandbox.path().join(format!("completion.{shell}"));
        std::fs::write(&script, sandbox.sops_rs().args(["completions", shell]).output().unwrap().stdout)
            .unwrap();
        let output = sandbox.command(shell).args(check).arg(&script).output().unwrap();
        assert_exit(&output, 0, &format!("{shell} syntax check"));
    }
    let output = sandbox.sops_rs().args(["completions", "tcsh"]).output().unwrap();
    assert_exit(&output, 1, "unknown shell");
    // sops's spelling, `completion bash`, gives the same script.
    let sops_spelling = sandbox.sops_rs().args(["completion", "bash"]).output().unwrap();
    assert_exit(&sops_spelling, 0, "completion (sops's name)");
    assert_eq!(
        sops_spelling.stdout,
        sandbox.sops_rs().args(["completions", "bash"]).output().unwrap().stdout
    );
}

/// sops's `h` is help (regression: `sops-rs h` opened an editor on a new
/// file named `h`).
#[test]
fn h_is_help_as_in_sops() {
    let sandbox = Sandbox::new();
    let help = |args: &[&str]| {
        let output = sandbox.sops_rs().current_dir(sandbox.path()).env("EDITOR", "false").args(args).output();
        output.unwrap()
    };
    for (short, long) in [(&["h"][..], &["help"][..]), (&["h", "decrypt"], &["help", "decrypt"])] {
        let output = help(short);
        assert_exit(&output, 0, &format!("{short:?}"));
        assert_eq!(output.stdout, help(long).stdout, "{short:?}");
    }
    let output = help(&["h", "nothing"]);
    assert_exit(&output, 1, "h with an unknown command");
    assert!(stderr_text(&output).contains("no command \"nothing\""), "{}", stderr_text(&output));
    assert!(!sandbox.path().join("h").exists());
}
