//! The commands in the documentation work as written.
//!
//! Documentation that is not run rots: a flag is renamed, an output
//! changes, and the first thing a new user copies fails. So the pages say
//! which shell blocks are runnable, and this test runs them:
//!
//! - every ```` ```sh ```` block of `docs/quickstart.md`, unless the line
//!   before it is a `<!-- not tested ... -->` comment (installing from
//!   source, which would build the project again);
//! - in any other page, the ```` ```sh ```` blocks preceded by
//!   `<!-- tested -->`.
//!
//! A page's tested blocks form one script, run top to bottom (a `cd` or an
//! `export` in one block holds for the next, as for a reader) by bash in a
//! sandbox: an empty temporary `HOME` as the working directory, an empty
//! environment but for `PATH` and git's identity, and `PATH` starting with
//! a directory where both `sops-rs` and `sops` are the binary under test.
//! Nothing reaches the network. Each command must exit 0, and the `#>`
//! lines after a command are its expected standard output, line by line.
//!
//! Each command runs in a `{ ...; }` group in the script's own shell, so
//! state carries over, with its stdout, stderr and status captured to files
//! that the test reads back: a failure names the page, the command and what
//! it printed. The script stops at the first failing command.
//!
//! Pages that need a tool the machine lacks (`age-keygen`, `git`) are
//! skipped with a note, or fail when `SOPS_RS_REQUIRE_INTEROP=1` (CI, which
//! installs them).
//!
//! Two more checks keep the docs complete: every exit code in
//! `src/error.rs` is in `docs/exit-codes.md`, and every page is linked from
//! `docs/README.md`.

mod common;

use std::path::{Path, PathBuf};

use common::root;

/// One command of a block and the output the page shows for it.
#[derive(Debug, PartialEq)]
struct Snippet {
    command: String,
    expected: Vec<String>,
}

/// The runnable commands of a page, in order.
fn tested_commands(page: &str, tested_by_default: bool) -> Vec<Snippet> {
    let mut snippets = Vec::new();
    let mut previous = "";
    let mut lines = page.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "```sh" {
            let marker = previous.trim();
            let tested = if marker.starts_with("<!-- not tested") {
                false
            } else {
                tested_by_default || marker == "<!-- tested -->"
            };
            let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            if tested {
                snippets.extend(split_commands(&block));
            }
            previous = "```";
        } else {
            if !line.trim().is_empty() {
                previous = line;
            }
        }
    }
    snippets
}

/// Split a block into commands: comment and blank lines between commands
/// are skipped, `\` continues a line, a here-document runs to its end
/// word, and `#>` lines are the output of the command before them.
fn split_commands(block: &[&str]) -> Vec<Snippet> {
    let mut snippets: Vec<Snippet> = Vec::new();
    let mut i = 0;
    while i < block.len() {
        let line = block[i];
        i += 1;
        if let Some(expected) = line.strip_prefix("#>") {
            let last = snippets.last_mut().expect("a #> line follows a command");
            last.expected.push(expected.strip_prefix(' ').unwrap_or(expected).to_owned());
            continue;
        }
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let mut command = vec![line];
        while command.last().is_some_and(|l| l.ends_with('\\')) && i < block.len() {
            command.push(block[i]);
            i += 1;
        }
        if let Some(end) = heredoc_end(line) {
            while i < block.len() {
                command.push(block[i]);
                i += 1;
                if command.last().is_some_and(|l| l.trim() == end) {
                    break;
                }
            }
        }
        snippets.push(Snippet { command: command.join("\n"), expected: Vec::new() });
    }
    snippets
}

/// The word that ends a here-document started on this line: `<<EOF`,
/// `<<'EOF'`, `<< "EOF"`, `<<-EOF`.
fn heredoc_end(line: &str) -> Option<String> {
    let (_, rest) = line.split_once("<<")?;
    let word: String = rest
        .trim_start_matches('-')
        .trim_start()
        .chars()
        .filter(|c| *c != '\'' && *c != '"')
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!word.is_empty()).then_some(word)
}

/// The bash script that runs the snippets, capturing each one's output
/// and status under `out`.
fn script(snippets: &[Snippet], out: &Path) -> String {
    let mut text = String::new();
    for (n, snippet) in snippets.iter().enumerate() {
        let base = out.join(n.to_string());
        let base = base.display();
        text.push_str(&format!(
            "{{ {}\n}} >'{base}.out' 2>'{base}.err' </dev/null\n__status=$?\necho $__status >'{base}.rc'\n[ $__status = 0 ] || exit 0\n",
            snippet.command
        ));
    }
    text
}

fn find_in_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(tool)).find(|p| p.is_file())
}

/// The tools a script calls that the machine may lack, and whether each is there.
fn missing_tools(script: &str) -> Vec<&'static str> {
    ["age-keygen", "git"]
        .into_iter()
        .filter(|tool| script.contains(&format!("{tool} ")) && find_in_path(tool).is_none())
        .collect()
}

/// Run a page's tested commands in a fresh sandbox; returns how many ran.
fn run_page(name: &str, tested_by_default: bool) -> usize {
    let page = std::fs::read_to_string(root().join("docs").join(name)).unwrap();
    let snippets = tested_commands(&page, tested_by_default);
    let sandbox = tempfile::tempdir().unwrap();
    let (home, bin, out) =
        (sandbox.path().join("home"), sandbox.path().join("bin"), sandbox.path().join("out"));
    for dir in [&home, &bin, &out] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let text = script(&snippets, &out);
    let missing = missing_tools(&text);
    if !missing.is_empty() {
        let required = std::env::var("SOPS_RS_REQUIRE_INTEROP").is_ok_and(|v| v == "1");
        assert!(!required, "docs/{name} needs {missing:?}, which are not installed");
        eprintln!("note: {missing:?} not installed; skipping the commands of docs/{name}");
        return 0;
    }
    for alias in ["sops-rs", "sops"] {
        std::os::unix::fs::symlink(common::bin(), bin.join(alias)).unwrap();
    }
    let mut path = vec![bin.clone()];
    path.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    let status = std::process::Command::new("bash")
        .arg("-c")
        .arg(&text)
        .current_dir(&home)
        .env_clear()
        .env("PATH", std::env::join_paths(path).unwrap())
        .env("HOME", &home)
        .env("LANG", "C.UTF-8")
        .env("GIT_AUTHOR_NAME", "Docs Test")
        .env("GIT_AUTHOR_EMAIL", "docs@example.invalid")
        .env("GIT_COMMITTER_NAME", "Docs Test")
        .env("GIT_COMMITTER_EMAIL", "docs@example.invalid")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .status()
        .unwrap();
    assert!(status.success(), "docs/{name}: the script itself failed to run");
    for (n, snippet) in snippets.iter().enumerate() {
        let read = |ext: &str| std::fs::read_to_string(out.join(format!("{n}.{ext}")));
        let Ok(rc) = read("rc") else { panic!("docs/{name}: `{}` did not run", snippet.command) };
        let (stdout, stderr) = (read("out").unwrap_or_default(), read("err").unwrap_or_default());
        assert_eq!(
            rc.trim(),
            "0",
            "docs/{name}: `{}` failed\nstdout:\n{stdout}\nstderr:\n{stderr}",
            snippet.command
        );
        if !snippet.expected.is_empty() {
            let got: Vec<&str> = stdout.trim_end_matches('\n').lines().collect();
            assert_eq!(
                got, snippet.expected,
                "docs/{name}: output of `{}`\nstderr:\n{stderr}",
                snippet.command
            );
        }
    }
    snippets.len()
}

#[test]
fn quickstart_runs_end_to_end() {
    let ran = run_page("quickstart.md", true);
    assert!(ran == 0 || ran >= 10, "the quickstart's blocks were found ({ran} commands)");
}

#[test]
fn marked_blocks_in_other_pages_run() {
    let mut pages: Vec<String> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".md") && n != "quickstart.md")
        .collect();
    pages.sort();
    let mut marked = 0;
    for page in &pages {
        let text = std::fs::read_to_string(root().join("docs").join(page)).unwrap();
        if text.contains("<!-- tested -->") {
            marked += 1;
            run_page(page, false);
        }
    }
    assert!(marked >= 1, "migrating.md marks its cipher example as tested");
}

#[test]
fn commands_are_split_as_a_reader_would() {
    let block = [
        "# a comment",
        "echo one \\",
        "  two",
        "#> one two",
        "cat > f <<'EOF'",
        "# not a comment: file content",
        "EOF",
        "",
        "cat f",
        "#> # not a comment: file content",
    ];
    let snippets = split_commands(&block);
    assert_eq!(snippets.len(), 3, "{snippets:?}");
    assert_eq!(snippets[0].command, "echo one \\\n  two");
    assert_eq!(snippets[0].expected, ["one two"]);
    assert_eq!(snippets[1].command, "cat > f <<'EOF'\n# not a comment: file content\nEOF");
    assert_eq!(snippets[2].expected, ["# not a comment: file content"]);
    let page =
        "<!-- not tested -->\n```sh\nskipped\n```\n\n```sh\nrun\n```\n<!-- tested -->\n```sh\nalso\n```\n";
    let commands: Vec<String> = tested_commands(page, false).into_iter().map(|s| s.command).collect();
    assert_eq!(commands, ["also"]);
    let commands: Vec<String> = tested_commands(page, true).into_iter().map(|s| s.command).collect();
    assert_eq!(commands, ["run", "also"]);
}

#[test]
fn every_exit_code_is_documented() {
    let source = std::fs::read_to_string(root().join("src/error.rs")).unwrap();
    let page = std::fs::read_to_string(root().join("docs/exit-codes.md")).unwrap();
    let codes: Vec<&str> = source
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub const ")?.split_once(": i32 = "))
        .map(|(_, code)| code.trim_end_matches(';'))
        .collect();
    assert!(codes.len() >= 20, "the exit module was found: {codes:?}");
    for code in codes {
        assert!(
            page.contains(&format!("\n| {code} |")),
            "exit code {code} is missing from docs/exit-codes.md"
        );
    }
}

#[test]
fn every_page_is_linked_from_the_index() {
    let index = std::fs::read_to_string(root().join("docs/README.md")).unwrap();
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".md") && name != "README.md" {
            assert!(index.contains(&format!("]({name})")), "docs/README.md does not link {name}");
        }
    }
}
