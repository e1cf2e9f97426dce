#!/usr/bin/env bash
# Fill fuzz/corpus/TARGET/ with seeds taken from the repository's fixtures
# (fixtures/ and tests/data/), next to the few hand-made seeds that are
# checked in (corpus/*/hand-*). Copies are named seed-<path>, so running it
# again refreshes them and leaves what the fuzzer found alone.
#
#   fuzz/seed.sh            # all targets
#   fuzz/seed.sh decrypt    # one target
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
corpus=$root/fuzz/corpus
# libFuzzer is run with -max_len=65536; longer seeds would only be cut.
max_bytes=65536

# Copy each file named on stdin into corpus/$1, with prefix $2 (a byte
# the target reads first) when given.
copy() {
  local target=$1 prefix=${2:-}
  mkdir -p "$corpus/$target"
  while IFS= read -r file; do
    [ "$(stat -c %s "$file")" -le "$max_bytes" ] || continue
    local name="seed-${prefix:+$prefix-}$(printf '%s' "$file" | tr '/' '_')"
    if [ -n "$prefix" ]; then
      { printf '%s' "$prefix"; cat "$file"; } > "$corpus/$target/$name"
    else
      cp "$file" "$corpus/$target/$name"
    fi
  done
}

files() { # files under fixtures/ and tests/data/ whose name matches $1
  find fixtures tests/data -type f -regextype posix-extended -regex "$1" | sort
}

# Encrypted files: the cases' enc.* and the spec's sops/ outputs.
encrypted() {
  files ".*/(enc\.[a-z]+|sops/[^/]+)$" | grep -E "$1"
}

want() { [ $# -eq 0 ] || [ "$1" = all ] || [ "$1" = "$2" ]; }
target=${1:-all}

want "$target" store_yaml && files '.*\.ya?ml$' | copy store_yaml
want "$target" store_json && files '.*\.json$' | copy store_json
want "$target" store_toml && files '.*\.toml$' | copy store_toml
want "$target" store_dotenv && files '.*\.env$' | copy store_dotenv
want "$target" store_ini && files '.*\.ini$' | copy store_ini
want "$target" store_binary && files '.*\.(bin|txt)$' | head -n 20 | copy store_binary

if want "$target" envelope; then
  # Every distinct envelope of the fixtures, one per seed.
  mkdir -p "$corpus/envelope"
  files '.*' | xargs grep -ohE 'ENC\[[^]]*\]' | sort -u | head -n 200 |
    while IFS= read -r envelope; do
      printf '%s' "$envelope" > "$corpus/envelope/seed-$(printf '%s' "$envelope" | sha1sum | cut -c1-16)"
    done
fi

if want "$target" metadata; then
  encrypted '\.(ya?ml|json)$' | copy metadata
  # dotenv files carry the flattened form the target also reads.
  encrypted '\.env$' | copy metadata
fi

want "$target" config && files '.*sops\.ya?ml$' | copy config

if want "$target" decrypt; then
  # The first byte names the format (see decrypt_formats in src/lib.rs);
  # upper case converts, which the same files exercise too.
  encrypted '\.ya?ml$' | copy decrypt y
  encrypted '\.ya?ml$' | copy decrypt Y
  encrypted '\.bin\.json$|/enc\.bin$' | copy decrypt b
  encrypted '\.json$' | grep -v '\.bin\.json$' | copy decrypt j
  encrypted '\.json$' | grep -v '\.bin\.json$' | copy decrypt J
  encrypted '\.env$' | copy decrypt e
  encrypted '\.ini$' | copy decrypt i
fi

for dir in "$corpus"/*/; do
  printf '%-14s %s seeds\n' "$(basename "$dir")" "$(find "$dir" -type f | wc -l)"
done
