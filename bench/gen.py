#!/usr/bin/env python3
"""Write the benchmark inputs into a directory.

    bench/gen.py OUTDIR [--quick] [NAME...]

Every file is a pure function of its name (a seeded PRNG, no clock), so two
runs on any machine compare the same bytes. --quick leaves out the 10 MB
inputs; NAMEs (e.g. flat-10k.yaml) write only those. Each file name says what it holds; bench/compare.sh picks them by
name.
"""

import json
import random
import sys
from pathlib import Path

WORDS = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi "
    "omicron pi rho sigma tau upsilon phi chi psi omega"
).split()


def token(rng, n=24):
    # Secrets-like values: letters and digits, so no format needs quoting.
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(rng.choice(alphabet) for _ in range(n))


def tiny_yaml():
    # Five top-level values, like an application's small secrets file; flat,
    # so that sops's exec-env (top-level scalars only) takes it too.
    return (
        "db_user: app\n"
        "db_password: hunter2-correct-horse\n"
        "api_key: 8f14e45fceea167a5a36dedd4bea2543\n"
        "debug: false\n"
        "port: 8080\n"
    )


def flat_yaml(n, seed):
    rng = random.Random(seed)
    return "".join(f"key_{i:06d}: {token(rng)}\n" for i in range(n))


def flat_json(n, seed):
    rng = random.Random(seed)
    doc = {f"key_{i:06d}": token(rng) for i in range(n)}
    return json.dumps(doc, indent=4) + "\n"


def dotenv(n, seed):
    rng = random.Random(seed)
    return "".join(f"KEY_{i:06d}={token(rng)}\n" for i in range(n))


def block_lines(rng):
    # A few lines of prose for `|` literals and TOML multi-line strings.
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 10))) for _ in range(rng.randint(2, 5))]


def nested_yaml(target_bytes, seed):
    """Services with maps, lists of maps and scalars, numbers, bools, block
    strings: the shapes of a real configuration repository."""
    rng = random.Random(seed)
    out = []
    size = 0
    i = 0
    while size < target_bytes:
        lines = [
            f"service_{i:06d}:",
            f"    name: svc-{i:06d}",
            f"    enabled: {'true' if rng.random() < 0.5 else 'false'}",
            f"    replicas: {rng.randint(1, 12)}",
            f"    ratio: {rng.randint(0, 999) / 1000}",
            "    tags:",
            *(f"        - {rng.choice(WORDS)}" for _ in range(rng.randint(1, 4))),
            "    ports:",
        ]
        for port in range(rng.randint(1, 3)):
            lines += [f"        - name: p{port}", f"          port: {rng.randint(1024, 65535)}"]
        lines.append("    config: |")
        lines += [f"        {line}" for line in block_lines(rng)]
        lines += [
            "    env:",
            f"        LOG_LEVEL: {rng.choice(['debug', 'info', 'warn'])}",
            f"        SECRET: {token(rng)}",
            f"        TIMEOUT_MS: {rng.randint(100, 30000)}",
        ]
        chunk = "\n".join(lines) + "\n"
        out.append(chunk)
        size += len(chunk)
        i += 1
    return "".join(out)


def nested_toml(target_bytes, seed):
    """The same shapes as nested_yaml in TOML: tables, arrays, arrays of
    tables, numbers, bools, multi-line strings."""
    rng = random.Random(seed)
    out = []
    size = 0
    i = 0
    while size < target_bytes:
        enabled = "true" if rng.random() < 0.5 else "false"
        tags = ", ".join(f'"{rng.choice(WORDS)}"' for _ in range(rng.randint(1, 4)))
        lines = [
            f"[service_{i:06d}]",
            f'name = "svc-{i:06d}"',
            f"enabled = {enabled}",
            f"replicas = {rng.randint(1, 12)}",
            f"ratio = {rng.randint(0, 999) / 1000}",
            f"tags = [{tags}]",
            'config = """',
            *block_lines(rng),
            '"""',
            "",
            f"[service_{i:06d}.env]",
            f'LOG_LEVEL = "{rng.choice(["debug", "info", "warn"])}"',
            f'SECRET = "{token(rng)}"',
            f"TIMEOUT_MS = {rng.randint(100, 30000)}",
            "",
        ]
        for port in range(rng.randint(1, 3)):
            lines += [f"[[service_{i:06d}.ports]]", f'name = "p{port}"', f"port = {rng.randint(1024, 65535)}", ""]
        chunk = "\n".join(lines) + "\n"
        out.append(chunk)
        size += len(chunk)
        i += 1
    return "".join(out)


MB = 1_000_000

# name -> (generator, only in the full run)
INPUTS = {
    "tiny.yaml": (tiny_yaml, False),
    "flat-1k.yaml": (lambda: flat_yaml(1_000, 1), False),
    "flat-10k.yaml": (lambda: flat_yaml(10_000, 2), False),
    "flat-100k.yaml": (lambda: flat_yaml(100_000, 3), False),
    "flat-10k.json": (lambda: flat_json(10_000, 4), False),
    "nested-1mb.yaml": (lambda: nested_yaml(1 * MB, 5), False),
    "nested-10mb.yaml": (lambda: nested_yaml(10 * MB, 6), True),
    "dotenv-1k.env": (lambda: dotenv(1_000, 7), False),
    "nested-10mb.toml": (lambda: nested_toml(10 * MB, 8), True),
    # For profiling under callgrind, where 10 MB takes too long.
    "nested-1mb.toml": (lambda: nested_toml(1 * MB, 9), False),
}


def main():
    args = sys.argv[1:]
    quick = "--quick" in args
    args = [a for a in args if a != "--quick"]
    if not args:
        sys.exit(__doc__.strip())
    outdir, names = Path(args[0]), args[1:]
    unknown = [n for n in names if n not in INPUTS]
    if unknown:
        sys.exit(f"gen.py: no input named {', '.join(unknown)}; known: {', '.join(INPUTS)}")
    outdir.mkdir(parents=True, exist_ok=True)
    for name, (generate, big) in INPUTS.items():
        if (quick and big) or (names and name not in names):
            continue
        (outdir / name).write_text(generate())
        print(name)


if __name__ == "__main__":
    main()
