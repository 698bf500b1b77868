"""Cold start of `pynomaly plugins list` against `python -c "import numpy"` (goal: ratio ≤ 3).

Runs both commands alternately, N times each, and prints the medians and their ratio, plus the listed plugins.

    python benchmarks/bench_cold_start.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def timed(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    listing = [str(BIN / "pynomaly"), "plugins", "list"]
    numpy = [sys.executable, "-c", "import numpy"]
    timed(listing), timed(numpy)  # warm the file cache
    ours, reference = [], []
    for _ in range(args.runs):
        ours.append(timed(listing)[0])
        reference.append(timed(numpy)[0])
    plugins = json.loads(timed([*listing, "--json"])[1])
    print(f"plugins listed: {', '.join(p['name'] + ' (' + p['status'] + ')' for p in plugins)}")
    a, b = statistics.median(ours), statistics.median(reference)
    print(f"pynomaly plugins list : {a * 1000:7.1f} ms (median of {args.runs})")
    print(f"python -c 'import numpy': {b * 1000:7.1f} ms")
    print(f"ratio: {a / b:.2f} (goal <= 3)")


if __name__ == "__main__":
    main()
