#!/usr/bin/env bash
# CI guard: the fuzz targets must keep compiling against the library.
# Type-checks the fuzz crate (no libFuzzer run, no sanitizer build), on
# stable Rust: libfuzzer-sys needs nightly features, which RUSTC_BOOTSTRAP
# unlocks. Uses its own target dir so it never invalidates the main build.
set -euo pipefail
cd "$(dirname "$0")"
start=$(date +%s)
RUSTC_BOOTSTRAP=1 cargo check --locked --quiet --bins --lib \
  --target-dir "${FUZZ_CHECK_TARGET_DIR:-target/check}"
echo "fuzz: targets build (check) in $(( $(date +%s) - start ))s"
