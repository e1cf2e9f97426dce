//! The long texts of the help: the top-level layout and each command's
//! examples. They are data, kept apart from the definitions in `args` so
//! that a flag's definition and its one-line doc stay on one screen.

/// The top-level help lists commands by what people use them for, rather
/// than in one alphabetical list; a test checks that every command is here.
pub const TOP_HELP_TEMPLATE: &str = "\
{about-with-newline}
{usage-heading} {usage}

Everyday:
  encrypt     Encrypt a file's values (to stdout unless -i or --output)
  decrypt     Decrypt a file, or --extract one value
  edit        Edit an encrypted file in your editor (also: sops-rs FILE)
  set         Set one value without decrypting the file to disk
  unset       Remove one value

Running programs with secrets:
  exec-env    Run a command with the decrypted values in its environment
  exec-file   Run a command with the decrypted file behind a FIFO

Who can open a file:
  rotate      New data key, every value re-encrypted; add or remove master keys
  updatekeys  Make files' master keys match their creation rule
  groups      Add or delete key groups (Shamir)

Repository hygiene:
  check       Check that every file a creation rule covers is encrypted to its keys
  filestatus  Print whether a file is encrypted, as JSON

Setup:
  completions Print a shell completion script
  man         Print the man page

Options:
  -v, --version        Print the version (`sops 3.11.0 (sops-rs X.Y.Z)`)
      --config <PATH>  Config file instead of the discovered .sops-rs.yaml or .sops.yaml
                       [env: SOPS_CONFIG]
  -h, --help           Print help (`sops-rs COMMAND --help` for a command's flags)

Legacy forms, as in sops: -e/--encrypt, -d/--decrypt, -r/--rotate, --set and `sops-rs FILE`
(edit) take the flags of encrypt, decrypt, rotate, set and edit.
{after-help}";

pub const TOP_EXAMPLES: &str = "\
Examples:
  sops-rs encrypt --age age1... secrets.yaml > secrets.enc.yaml
  sops-rs encrypt -i secrets.yaml           # keys from .sops-rs.yaml or .sops.yaml
  sops-rs decrypt secrets.enc.yaml
  sops-rs decrypt --extract '[\"db\"][\"password\"]' secrets.enc.yaml
  sops-rs -d secrets.enc.yaml               # the sops 2.x/3.x legacy form also works

Identities for decryption come from SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, SOPS_AGE_KEY_CMD,
SOPS_AGE_SSH_PRIVATE_KEY_FILE and ~/.config/sops/age/keys.txt, as with sops.";

pub const ENCRYPT_EXAMPLES: &str = "\
Examples:
  sops-rs encrypt --age age1... config.yaml > config.enc.yaml
  sops-rs encrypt -i config.yaml                       # in place, keys from the creation rules
  sops-rs encrypt --encrypted-regex '^(data|stringData)$' secret.yaml
  cat .env | sops-rs encrypt --filename-override app.env > app.enc.env
  sops-rs encrypt --cipher aes256_gcm config.yaml      # for files that sops itself must read";

pub const ROTATE_EXAMPLES: &str = "\
Examples:
  sops-rs rotate -i secrets.enc.yaml                       # new data key, same recipients
  sops-rs rotate -i --add-age age1new... --rm-age age1old... secrets.enc.yaml
  sops-rs rotate -i --cipher aes256_gcm secrets.enc.yaml   # switch the file to AES-GCM
  sops-rs rotate -i --json secrets/*.yaml                  # several files, a JSON report";

pub const UPDATEKEYS_EXAMPLES: &str = "\
Examples:
  sops-rs updatekeys secrets.enc.yaml          # shows what changes, asks before writing
  sops-rs updatekeys -y secrets/*.yaml         # no questions (CI)
  sops-rs updatekeys -y --json secrets/*.yaml  # a JSON report for scripts";

pub const GROUPS_EXAMPLES: &str = "\
Examples:
  sops-rs groups add --file secrets.enc.yaml -i --age age1ops...
  sops-rs groups delete --file secrets.enc.yaml -i 1";

pub const EDIT_EXAMPLES: &str = "\
Examples:
  sops-rs edit secrets.enc.yaml           # or just: sops-rs secrets.enc.yaml
  SOPS_EDITOR='code --wait' sops-rs edit secrets.enc.yaml
The plaintext lives in a private 0700 directory on a memory file system while you edit,
and is removed afterwards (also on Ctrl-C). Unchanged values keep their ciphertext.
Exit 200 when nothing changed.";

pub const SET_EXAMPLES: &str = "\
Examples:
  sops-rs set secrets.enc.yaml '[\"db\"][\"password\"]' '\"s3cret\"'
  printf '\"s3cret\"' | sops-rs set --value-stdin secrets.enc.yaml '[\"db\"][\"password\"]'
  sops-rs unset secrets.enc.yaml '[\"db\"][\"old_key\"]'
Only the changed value's lines, lastmodified and mac change in the file.";

pub const EXEC_ENV_EXAMPLES: &str = "\
Examples:
  sops-rs exec-env secrets.enc.yaml './deploy.sh'
  sops-rs exec-env --pristine base.enc.env prod.enc.yaml 'env'   # later files win
Top-level values become variables as in sops; nested ones are named by their path joined
with `__` (`db: {user: x}` gives `db__user=x`). The command's exit code is returned.";

pub const EXEC_FILE_EXAMPLES: &str = "\
Examples:
  sops-rs exec-file secrets.enc.json 'app --config {}'
  sops-rs exec-file --no-fifo --output-type yaml secrets.enc.json 'cat {}'
The file is a FIFO in a private directory (or a 0600 file with --no-fifo), removed
afterwards; nothing is written to the working tree.";

pub const CHECK_EXAMPLES: &str = "\
Examples:
  sops-rs check                     # every file under the config's directory that a rule covers
  sops-rs check --json secrets/     # machine-readable report
  sops-rs check --verify            # also decrypt and check each MAC (needs identities)
  git diff --cached --name-only -z | xargs -0 sops-rs check    # as a pre-commit hook
Exit 0 when every file is fine, 1 when any is not (each is listed with the reason).";

pub const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  sops-rs completions bash > ~/.local/share/bash-completion/completions/sops-rs
  sops-rs completions zsh > \"${fpath[1]}/_sops-rs\"
  sops-rs completions fish > ~/.config/fish/completions/sops-rs.fish";

pub const FILESTATUS_EXAMPLES: &str = "\
Examples:
  sops-rs filestatus secrets.enc.yaml          # {\"encrypted\":true}
  sops-rs filestatus app.env | jq -e .encrypted >/dev/null || echo \"app.env is plain\"";

pub const MAN_EXAMPLES: &str = "\
Examples:
  sops-rs man | man -l -
  sops-rs man --dir /usr/local/share/man/man1";

pub const DECRYPT_EXAMPLES: &str = "\
Examples:
  sops-rs decrypt config.enc.yaml
  sops-rs decrypt --extract '[\"database\"][\"password\"]' config.enc.yaml
  sops-rs decrypt --output-type json config.enc.yaml
  sops-rs decrypt --output config.yaml config.enc.yaml   # written 0600, atomically
  SOPS_AGE_KEY_FILE=key.txt sops-rs decrypt --filename-override x.yaml < x.yaml";
