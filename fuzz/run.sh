#!/usr/bin/env bash
# Run one fuzz target on stable Rust with the settings the README's figures
# were taken with; extra arguments go to libFuzzer.
#
#   fuzz/run.sh store_yaml                  # 1,000,000 runs
#   fuzz/run.sh decrypt -max_total_time=600
set -euo pipefail
cd "$(dirname "$0")"
target=$1
shift
[ -d "corpus/$target" ] && [ -n "$(ls -A "corpus/$target" 2>/dev/null | grep -v '^hand-')" ] || ./seed.sh "$target" >/dev/null
mkdir -p "artifacts/$target"
RUSTC_BOOTSTRAP=1 exec cargo fuzz run "$target" -- \
  -runs=1000000 -rss_limit_mb=2048 -max_len=65536 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="artifacts/$target/" "$@"
