//! `exec-env` and `exec-file`: the child sees the values, its exit code
//! comes back, a FIFO (not a regular file) is used, and no plaintext stays
//! anywhere under the temporary directories.

mod common;

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Output;

use common::{Sandbox, assert_exit, recipient_of, stderr_text, stdout_text, vectors};

const SECRET: &str = "canary-exec-3b7d";

fn key1() -> PathBuf {
    vectors().join("keys/age1.txt")
}

fn setup(sandbox: &Sandbox, name: &str, text: &str) {
    std::fs::create_dir_all(sandbox.path().join("run")).unwrap();
    std::fs::write(sandbox.path().join(name), text).unwrap();
    let output = sandbox
        .sops_rs()
        .current_dir(sandbox.path())
        .args(["encrypt", "-i", "--age", &recipient_of(&key1()), name])
        .output()
        .unwrap();
    assert_exit(&output, 0, "encrypt");
}

fn run(sandbox: &Sandbox, args: &[&str]) -> Output {
    sandbox
        .sops_rs()
        .current_dir(sandbox.path())
        .env("SOPS_AGE_KEY_FILE", key1())
        .env("XDG_RUNTIME_DIR", sandbox.path().join("run"))
        .env("INHERITED", "yes")
        .args(args)
        .output()
        .unwrap()
}

/// `run`, for a command that must not hang: killed, and the test failed,
/// after `seconds` (a hang would otherwise stall the whole suite).
fn run_or_fail_after(sandbox: &Sandbox, args: &[&str], seconds: u64) -> Output {
    let mut child = sandbox
        .sops_rs()
        .current_dir(sandbox.path())
        .env("SOPS_AGE_KEY_FILE", key1())
        .env("XDG_RUNTIME_DIR", sandbox.path().join("run"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{args:?} still ran after {seconds} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

fn run_dir_is_empty(sandbox: &Sandbox) {
    let left: Vec<_> = std::fs::read_dir(sandbox.path().join("run")).unwrap().collect();
    assert!(left.is_empty(), "nothing left in the private runtime directory: {left:?}");
}

#[test]
fn exec_env_passes_values_and_the_exit_code() {
    let sandbox = Sandbox::new();
    setup(&sandbox, "s.yaml", &format!("TOKEN: {SECRET}\nPORT: 5432\ndb:\n  user: app\n  hosts: [a, b]\n"));
    let output = run(
        &sandbox,
        &["exec-env", "s.yaml", "echo \"$TOKEN $PORT $db__user $db__hosts__1 $INHERITED\"; exit 42"],
    );
    assert_exit(&output, 42, "exit code passed through");
    assert_eq!(stdout_text(&output), format!("{SECRET} 5432 app b yes\n"));
    assert!(!stderr_text(&output).contains(SECRET));
    let output = run(&sandbox, &["exec-env", "--pristine", "s.yaml", "echo \"[$INHERITED][$TOKEN]\""]);
    assert_exit(&output, 0, "pristine");
    assert_eq!(stdout_text(&output), format!("[][{SECRET}]\n"));
    let output = run(&sandbox, &["exec-env", "--same-process", "s.yaml", "echo $PORT; exit 3"]);
    assert_exit(&output, 3, "same process");
    assert_eq!(stdout_text(&output), "5432\n");
    // The command replaces sops-rs: its process id is the one started, and
    // a signal that kills it is seen by the caller as such.
    let child = sandbox
        .sops_rs()
        .current_dir(sandbox.path())
        .env("SOPS_AGE_KEY_FILE", key1())
        .args(["exec-env", "s.yaml", "echo $$; kill -TERM $$"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    assert_eq!(stdout_text(&output), format!("{pid}\n"), "the command runs as the process started");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(output.status.signal(), Some(15), "{:?}", output.status);
    // With the audit log on, sops-rs stays the command's parent to record
    // how it ended: 128 + the signal.
    let log = sandbox.path().join("audit.jsonl");
    let child = sandbox
        .sops_rs()
        .current_dir(sandbox.path())
        .env("SOPS_AGE_KEY_FILE", key1())
        .env("SOPS_RS_AUDIT_LOG", &log)
        .args(["exec-env", "s.yaml", "echo $$; kill -TERM $$"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    assert_exit(&output, 143, "signalled child, audited");
    assert_ne!(stdout_text(&output), format!("{pid}\n"), "a child of sops-rs");
    let entry: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&log).unwrap().trim()).unwrap();
    assert_eq!(entry["operation"], "exec-env");
    assert_eq!(entry["outcome"]["exit_code"], 143, "{entry}");
}

/// Commands of plain words run without a shell (`exec::without_shell`);
/// what they do must be what `/bin/sh -c` would have done.
#[test]
fn exec_env_runs_plain_commands_as_the_shell_would() {
    let sandbox = Sandbox::new();
    let bin = sandbox.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    setup(&sandbox, "s.yaml", &format!("TOKEN: {SECRET}\nPATH: {path}\n"));
    let output = run(&sandbox, &["exec-env", "s.yaml", "printenv TOKEN"]);
    assert_exit(&output, 0, "printenv");
    assert_eq!(stdout_text(&output), format!("{SECRET}\n"));
    assert_exit(&run(&sandbox, &["exec-env", "s.yaml", "false"]), 1, "false");
    let output = run(&sandbox, &["exec-env", "--same-process", "s.yaml", "printenv TOKEN"]);
    assert_exit(&output, 0, "same process");
    assert_eq!(stdout_text(&output), format!("{SECRET}\n"));

    // The program is looked up in the PATH the file sets, as a shell would.
    let tool = bin.join("from-the-files-path");
    std::fs::write(&tool, "#!/bin/sh\necho \"found $1\"\n").unwrap();
    make_executable(&tool);
    let output = run(&sandbox, &["exec-env", "s.yaml", "from-the-files-path x"]);
    assert_exit(&output, 0, "PATH from the file");
    assert_eq!(stdout_text(&output), "found x\n");

    // A script without `#!` runs as a shell script, as it would from a shell.
    std::fs::write(sandbox.path().join("no-shebang"), "echo \"script $TOKEN\"\n").unwrap();
    make_executable(&sandbox.path().join("no-shebang"));
    let output = run(&sandbox, &["exec-env", "s.yaml", "./no-shebang"]);
    assert_exit(&output, 0, "script without #!");
    assert_eq!(stdout_text(&output), format!("script {SECRET}\n"));

    // No such program: 127, not executable: 126, as from a shell; the
    // message names the program and never a value.
    for same_process in [false, true] {
        let mut args = vec!["exec-env"];
        args.extend(same_process.then_some("--same-process"));
        let output = run(&sandbox, &[&args[..], &["s.yaml", "no-such-program-9f2 arg"]].concat());
        assert_exit(&output, 127, "not found");
        assert!(
            stderr_text(&output).contains("could not run no-such-program-9f2"),
            "{}",
            stderr_text(&output)
        );
        assert!(stderr_text(&output).contains("hint: check the program's name, and PATH"));
        assert!(!stderr_text(&output).contains(SECRET));
    }
    std::fs::write(sandbox.path().join("not-executable"), "echo no\n").unwrap();
    let output = run(&sandbox, &["exec-env", "s.yaml", "./not-executable"]);
    assert_exit(&output, 126, "not executable");
    assert!(stderr_text(&output).contains("could not run ./not-executable"));
}

fn make_executable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn exec_env_merges_files_later_wins_with_a_warning() {
    let sandbox = Sandbox::new();
    setup(&sandbox, "a.yaml", "A: from-a\nB: only-a\n");
    setup(&sandbox, "b.json", "{\"A\": \"from-b\"}\n");
    let output = run(&sandbox, &["exec-env", "a.yaml", "b.json", "echo $A $B"]);
    assert_exit(&output, 0, "two files");
    assert_eq!(stdout_text(&output), "from-b only-a\n");
    let stderr = stderr_text(&output);
    assert!(stderr.contains("A is set by more than one file"), "{stderr}");
    assert!(!stderr.contains("from-"), "no values in warnings");
}

#[test]
fn exec_env_reads_dotenv_files_in_the_documented_dialect() {
    // `export`, quotes that are not part of the value, inline comments, and
    // a multi-line double-quoted value (docs/formats.md, dotenv dialect).
    let sandbox = Sandbox::new();
    let text = "export A=\"two words\" # note\nB='lit $HOME'\nC=plain # cut\nD=\"line1\nline2\"\nE=x\\ny\n";
    setup(&sandbox, "s.env", text);
    let output = run(
        &sandbox,
        &["exec-env", "--pristine", "s.env", "printf '%s|' \"$A\" \"$B\" \"$C\" \"$D\" \"$E\""],
    );
    assert_exit(&output, 0, "dotenv dialect");
    assert_eq!(stdout_text(&output), "two words|lit $HOME|plain|line1\nline2|x\ny|");
}

#[test]
fn exec_env_refuses_what_cannot_be_a_variable_and_tampered_files() {
    let sandbox = Sandbox::new();
    setup(&sandbox, "s.yaml", "\"BAD=NAME\": x\n");
    let output = run(&sandbox, &["exec-env", "s.yaml", "true"]);
    assert!(!output.status.success());
    let output = run(&sandbox, &["exec-env", "missing.yaml", "true"]);
    assert_exit(&output, 100, "missing file");
}

#[test]
fn exec_file_uses_a_fifo_and_leaves_nothing() {
    let sandbox = Sandbox::new();
    setup(&sandbox, "s.yaml", &format!("token: {SECRET}\n"));
    let output =
        run(&sandbox, &["exec-file", "s.yaml", "test -p {} && echo fifo; stat -c %a {}; cat {}; exit 5"]);
    assert_exit(&output, 5, "exec-file exit code");
    assert_eq!(stdout_text(&output), format!("fifo\n600\ntoken: {SECRET}\n"));
    run_dir_is_empty(&sandbox);
    // A command that never reads does not hang, however soon it ends
    // (regression: when it ended before the writer reached its open, the
    // writer waited for ever; a test run caught it once).
    for _ in 0..40 {
        let output = run_or_fail_after(&sandbox, &["exec-file", "s.yaml", "true"], 30);
        assert_exit(&output, 0, "no reader");
    }
    run_dir_is_empty(&sandbox);
}

#[test]
fn exec_file_no_fifo_filename_and_output_type() {
    let sandbox = Sandbox::new();
    setup(&sandbox, "s.yaml", &format!("token: {SECRET}\n"));
    let output = run(
        &sandbox,
        &[
            "exec-file",
            "--no-fifo",
            "--filename",
            "conf.json",
            "--output-type",
            "json",
            "s.yaml",
            "test -f {} && stat -c %a {} && basename {} && cat {}",
        ],
    );
    assert_exit(&output, 0, "no fifo");
    assert_eq!(stdout_text(&output), format!("600\nconf.json\n{{\n\t\"token\": \"{SECRET}\"\n}}\n"));
    run_dir_is_empty(&sandbox);
    let output = run(&sandbox, &["exec-file", "--filename", "../escape", "s.yaml", "true"]);
    assert_exit(&output, 1, "bad filename");
}

/// Wait (at most 10 s) for a line a command writes into a file.
fn wait_for(path: &std::path::Path) -> String {
    for _ in 0..1000 {
        if let Ok(text) = std::fs::read_to_string(path)
            && text.ends_with('\n')
        {
            return text;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("{} was not written", path.display());
}

/// sops's deprecated `--background`: return at once (exec-env) or once the
/// command has read the FIFO (exec-file), the command's output discarded.
#[test]
fn background_returns_without_waiting_and_leaves_nothing() {
    let sandbox = Sandbox::new();
    setup(&sandbox, "s.yaml", &format!("TOKEN: {SECRET}\n"));
    let marker = sandbox.path().join("env-done");
    let started = std::time::Instant::now();
    let output = run(
        &sandbox,
        &["exec-env", "--background", "s.yaml", &format!("sleep 1; echo \"$TOKEN\" > {}", marker.display())],
    );
    assert_exit(&output, 0, "background exec-env");
    assert!(started.elapsed() < std::time::Duration::from_millis(900), "did not wait for the command");
    assert!(!marker.exists(), "returned before the command finished");
    assert!(stderr_text(&output).contains("deprecated"), "{}", stderr_text(&output));
    assert_eq!(stdout_text(&output), "");
    assert_eq!(wait_for(&marker), format!("{SECRET}\n"));

    // Its output goes nowhere, as in sops (it may outlive the terminal).
    let output = run(&sandbox, &["exec-env", "--background", "s.yaml", "echo \"$TOKEN\""]);
    assert_exit(&output, 0, "background output");
    assert!(!stdout_text(&output).contains(SECRET) && !stderr_text(&output).contains(SECRET));

    let copy = sandbox.path().join("file-done");
    let output = run(
        &sandbox,
        &[
            "exec-file",
            "--background",
            "s.yaml",
            &format!("sleep 0.2; cat {{}} > {}; sleep 1", copy.display()),
        ],
    );
    assert_exit(&output, 0, "background exec-file");
    assert_eq!(wait_for(&copy), format!("TOKEN: {SECRET}\n"), "read the whole FIFO");
    run_dir_is_empty(&sandbox);
    // A command that never reads does not hold it up.
    let output = run_or_fail_after(&sandbox, &["exec-file", "--background", "s.yaml", "true"], 30);
    assert_exit(&output, 0, "background, no reader");
    run_dir_is_empty(&sandbox);
}

#[test]
fn background_refuses_what_it_cannot_do() {
    let sandbox = Sandbox::new();
    setup(&sandbox, "s.yaml", &format!("TOKEN: {SECRET}\n"));
    let marker = sandbox.path().join("ran");
    let command = format!("touch {}", marker.display());
    let output = run(&sandbox, &["exec-env", "--background", "--same-process", "s.yaml", &command]);
    assert_exit(&output, 8, "background with same-process");
    assert!(stderr_text(&output).contains("--same-process cannot be used with --background"));
    let output = run(&sandbox, &["exec-file", "--background", "--no-fifo", "s.yaml", &command]);
    assert_exit(&output, 8, "background with no-fifo");
    assert!(stderr_text(&output).contains("--background cannot be used with --no-fifo"));
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(!marker.exists(), "the command did not run");
    assert!(!stderr_text(&output).contains(SECRET));
    run_dir_is_empty(&sandbox);
}

fn send(signal: &str, pid: u32) {
    let status = std::process::Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status();
    assert!(status.unwrap().success());
}

/// Ends a test's process group however the test ends. `-s KILL --`, not
/// `-KILL -PGID`: procps's kill reads the latter's `-PGID` as options and
/// signals a different group (`-KILL -999999` signals group 9).
struct KillGroupOnDrop(u32);

impl Drop for KillGroupOnDrop {
    fn drop(&mut self) {
        let group = format!("-{}", self.0);
        let _ = std::process::Command::new("kill")
            .args(["-s", "KILL", "--", &group])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// A signal to sops-rs reaches the command (a supervisor that stops
/// `exec-env` stops the program under it); one that comes while the file is
/// still being decrypted ends sops-rs, and the command never starts.
/// Several signals in a row each reach it.
#[test]
fn exec_env_passes_signals_on_and_stops_before_the_command_starts() {
    let sandbox = Sandbox::new();
    setup(&sandbox, "s.yaml", &format!("TOKEN: {SECRET}\n"));
    let dir = sandbox.path();
    // Replaced by the command, sops-rs passes nothing on: the signals are
    // the command's own. With the audit log on, sops-rs is its parent and
    // forwards them.
    for audited in [false, true] {
        let trapped_file = dir.join(format!("trapped-{audited}"));
        let ready = dir.join(format!("ready-{audited}"));
        let script = format!(
            "trap 'echo hup >> {0}' HUP; trap 'echo term >> {0}; exit 7' TERM; echo up > {1}; \
             while :; do sleep 0.02; done",
            trapped_file.display(),
            ready.display()
        );
        let mut command = sandbox.sops_rs();
        command.current_dir(dir).env("SOPS_AGE_KEY_FILE", key1()).args(["exec-env", "s.yaml", &script]);
        if audited {
            command.env("SOPS_RS_AUDIT_LOG", dir.join("audit.jsonl"));
        }
        // Its own process group, so that a failing run does not leave the
        // looping command behind.
        let child = command.stdout(std::process::Stdio::null()).process_group(0).spawn().unwrap();
        let _group = KillGroupOnDrop(child.id());
        wait_for(&ready);
        let trapped = |lines: usize| {
            for _ in 0..1000 {
                let text = std::fs::read_to_string(&trapped_file).unwrap_or_default();
                if text.lines().count() >= lines {
                    return text;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            panic!("the command saw fewer than {lines} signals (audited: {audited})");
        };
        send("HUP", child.id());
        trapped(1);
        send("HUP", child.id());
        trapped(2);
        send("TERM", child.id());
        let output = child.wait_with_output().unwrap();
        assert_exit(&output, 7, &format!("the command's own exit after its TERM trap (audited: {audited})"));
        assert_eq!(trapped(3), "hup\nhup\nterm\n");
    }

    // The identity comes from a command that takes its time: the signal
    // arrives while the data key is being unwrapped.
    let key_cmd = dir.join("slow-key.sh");
    std::fs::write(
        &key_cmd,
        format!(
            "#!/bin/sh\necho started > {}/unwrapping\nsleep 5\ncat {}\n",
            dir.display(),
            key1().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&key_cmd, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let marker = dir.join("command-ran");
    let started = std::time::Instant::now();
    let child = sandbox
        .sops_rs()
        .current_dir(dir)
        .env("SOPS_AGE_KEY_CMD", &key_cmd)
        .args(["exec-env", "s.yaml", &format!("touch {}", marker.display())])
        .spawn()
        .unwrap();
    wait_for(&dir.join("unwrapping"));
    send("TERM", child.id());
    let output = child.wait_with_output().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(output.status.signal(), Some(15), "ended by TERM, as without a handler: {:?}", output.status);
    assert!(started.elapsed() < std::time::Duration::from_secs(4), "did not wait for the key command");
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(!marker.exists(), "the command never started");
}

/// More than a pipe holds (64 KiB): the writer blocks until the command
/// reads, every byte arrives, and a command that stops reading half-way
/// and exits does not leave sops-rs waiting on the FIFO.
#[test]
fn exec_file_hands_over_more_than_a_pipe_holds() {
    let sandbox = Sandbox::new();
    let long = "x".repeat(300_000);
    setup(&sandbox, "s.yaml", &format!("token: {SECRET}\nlong: {long}\n"));
    let decrypted = run(&sandbox, &["decrypt", "s.yaml"]);
    assert_exit(&decrypted, 0, "decrypt");
    let output = run(&sandbox, &["exec-file", "s.yaml", "wc -c < {}"]);
    assert_exit(&output, 0, "read it all");
    assert_eq!(stdout_text(&output).trim(), decrypted.stdout.len().to_string());
    let output = run(&sandbox, &["exec-file", "s.yaml", "head -c 7 {}; exit 3"]);
    assert_exit(&output, 3, "read a little and left");
    assert_eq!(stdout_text(&output), "token: ");
    run_dir_is_empty(&sandbox);
    let output = run(&sandbox, &["exec-file", "--background", "s.yaml", "head -c 7 {} > /dev/null"]);
    assert_exit(&output, 0, "background, read a little");
    run_dir_is_empty(&sandbox);
}
