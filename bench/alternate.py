#!/usr/bin/env python3
"""Time commands in turn, run after run, and print each one's median.

    bench/alternate.py N "CMD1" "CMD2" ...

On a shared machine whose speed drifts over minutes, timing two builds one
after the other compares two moments, not two builds; running them in turn
puts both through the same moments. Each command runs once untimed, then N
times, alternating; commands are split like a shell's words but run without
a shell (whose start-up would be timed too), with output discarded. Prints
the median, the first quartile and the fastest run of each, in
milliseconds. A command that fails stops the run.
"""

import shlex
import statistics
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 3 or not sys.argv[1].isdigit():
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    runs = int(sys.argv[1])
    commands = [shlex.split(command) for command in sys.argv[2:]]
    times = [[] for _ in commands]
    def run(command):
        result = subprocess.run(command, stdout=subprocess.DEVNULL)
        if result.returncode != 0:
            sys.exit(f"alternate.py: {shlex.join(command)} exited with {result.returncode}")

    for command in commands:
        run(command)
    for _ in range(runs):
        for command, spent in zip(commands, times):
            start = time.perf_counter()
            run(command)
            spent.append((time.perf_counter() - start) * 1000)
    for command, spent in zip(sys.argv[2:], times):
        spent.sort()
        print(f"{statistics.median(spent):9.2f} ms  p25 {spent[len(spent) // 4]:9.2f}  min {spent[0]:9.2f}  {command}")


if __name__ == "__main__":
    main()
