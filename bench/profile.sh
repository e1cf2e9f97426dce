#!/usr/bin/env bash
# Where sops-rs spends its instructions on one generated input: callgrind on
# the release binary ([profile.release] keeps line tables, so names resolve).
#
#   bench/profile.sh decrypt flat-10k.yaml       # OP: encrypt | decrypt | exec-env
#   TOP=40 bench/profile.sh encrypt nested-1mb.yaml
#   NO_BUILD=1 bench/profile.sh decrypt tiny.yaml  # profile target/release as it is
#
# Instruction counts repeat from run to run, unlike times on a shared
# machine, so they are the number to compare before and after a change.
# Prints the total, then the top functions by inclusive and by self cost;
# the raw output stays in target/callgrind/ for callgrind_annotate or
# kcachegrind. Inputs are bench/gen.py's; decrypt and exec-env first encrypt
# the input with sops-rs (AES-GCM, as bench/compare.sh does), untimed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ $# -ne 2 ]; then
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
op=$1
name=$2
case "$op" in encrypt | decrypt | exec-env) ;; *) echo "profile.sh: OP is encrypt, decrypt or exec-env" >&2; exit 2 ;; esac
command -v valgrind > /dev/null || { echo "profile.sh: valgrind is required (apt-get install valgrind)" >&2; exit 1; }
top=${TOP:-30}

[ -n "${NO_BUILD:-}" ] || cargo build --release --locked --quiet
sopsrs="${CARGO_TARGET_DIR:-$root/target}/release/sops-rs"
outdir="${CARGO_TARGET_DIR:-$root/target}/callgrind"
mkdir -p "$outdir"

key_file=$root/fixtures/sops-3.11/keys/age1.txt
recipient=$(sed -n 's/^# public key: //p' "$key_file")
unset SOPS_AGE_KEY SOPS_AGE_KEY_CMD SOPS_AGE_RECIPIENTS SOPS_RS_AUDIT_LOG SOPS_RS_CIPHER RUST_BACKTRACE
export SOPS_AGE_KEY_FILE=$key_file

work=$(mktemp -d "${TMPDIR:-/tmp}/sops-rs-profile.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
export HOME=$work/home
mkdir -p in enc "$HOME"
python3 "$root/bench/gen.py" in "$name" > /dev/null

case "$op" in
  encrypt) cmd=("$sopsrs" encrypt --cipher aes256_gcm --age "$recipient" "in/$name") ;;
  *)
    "$sopsrs" encrypt --cipher aes256_gcm --age "$recipient" "in/$name" > "enc/$name"
    if [ "$op" = decrypt ]; then cmd=("$sopsrs" decrypt "enc/$name"); else cmd=("$sopsrs" exec-env "enc/$name" true); fi
    ;;
esac

out=$outdir/$op-$name.out
valgrind --tool=callgrind --callgrind-out-file="$out" "${cmd[@]}" > /dev/null 2> "$work/valgrind.log" ||
  { cat "$work/valgrind.log" >&2; exit 1; }

total=$(sed -n 's/^summary: *//p; s/^totals: *//p' "$out" | head -n 1)
echo "sops-rs $op $name: $total instructions (callgrind; $out)"
# Long generic names are cut; the file keeps them whole.
# Paths are shortened to the crate or our source file. `head` closes the
# pipe early, which pipefail would count as a failure.
annotate() {
  set +o pipefail
  callgrind_annotate "$@" "$out" 2> /dev/null | grep -E '^ *[0-9,]+ \(' |
    sed -E "s# \\[$sopsrs\\]##; s#$root/##g; s#/rustc/[0-9a-f]+/library/#std/#g; s#[^ ]*/registry/src/[^/]+/##g" |
    head -n "$top" | cut -c1-220
}
echo
echo "Top $top by inclusive cost:"
annotate --inclusive=yes
echo
echo "Top $top by self cost:"
annotate --inclusive=no
