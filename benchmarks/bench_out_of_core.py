"""Out-of-core scoring: peak memory and throughput of `pynomaly score MODEL DATA --output OUT` on a large file.

Goal (issue "Data and models"): a generated Parquet / CSV input of at least 2 GB is scored streamed with peak RSS
<= 25 % of the input size; throughput (rows/s, MB/s) is reported next to scoring the same data loaded whole (load +
score + write, same output format, same run). Each run is a separate process; its peak RSS is the kernel's maxrss
for that process (os.wait4). The whole-data reference reads a prefix of the file when the full file would not fit
in the memory available (4x the input), and says so.

    python benchmarks/bench_out_of_core.py [--size-gb 2.0] [--formats parquet,csv] [--detector ecod]
        [--batch-rows 65536] [--workdir DIR]

The generated files (deleted at the end) hold 8 float columns of normal noise with 0.1 % shifted rows.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

N_FEATURES = 8
CHUNK = 1_000_000
COLUMNS = [f"f{i}" for i in range(N_FEATURES)]


def _chunk(rng: np.random.Generator, rows: int, decimals: int | None = None) -> np.ndarray:
    X = rng.normal(size=(rows, N_FEATURES))
    X = X if decimals is None else X.round(decimals)
    shifted = rng.random(rows) < 0.001
    X[shifted] += 6.0
    return X


def generate(path: Path, size_bytes: int) -> int:
    """Write chunks of random rows until the file reaches ``size_bytes``; returns the row count."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    rows = 0
    schema = pa.schema([(c, pa.float64()) for c in COLUMNS])
    if path.suffix == ".parquet":
        # full-precision doubles, no dictionary: about 8 bytes per value, like real sensor data
        with pq.ParquetWriter(path, schema, compression="snappy", use_dictionary=False) as writer:
            while path.stat().st_size < size_bytes if path.exists() else True:
                writer.write_table(pa.Table.from_arrays(list(_chunk(rng, CHUNK).T), schema=schema),
                                   row_group_size=CHUNK)
                rows += CHUNK
        return rows
    with path.open("wb") as sink, pacsv.CSVWriter(sink, schema) as writer:
        while sink.tell() < size_bytes:
            writer.write_table(pa.Table.from_arrays(list(_chunk(rng, CHUNK, 4).T), schema=schema))
            rows += CHUNK
    return rows


def run_measured(args: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in bytes, stdout) of one child process (its own maxrss, from os.wait4)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, text=True)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(args[:6])}... failed ({proc.returncode}): {err.read().strip()[-2000:]}")
        return wall, usage.ru_maxrss * 1024.0, out.read()


WHOLE = textwrap.dedent("""
    import sys, numpy as np
    from pathlib import Path
    import pynomaly_core as pn
    from pynomaly_core.cli.output import write_scores
    from pynomaly_core.data import concat_datasets
    from pynomaly_core.streaming import iter_batches
    model_dir, source, out, limit = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    model = pn.load(model_dir)
    if limit:  # a prefix of the file, loaded whole
        batches, rows = [], 0
        for batch in iter_batches(source, min(limit, 1 << 20)):
            batches.append(batch)
            rows += batch.n_rows
            if rows >= limit:
                break
        data = concat_datasets(batches)
    else:
        data = pn.load_data(source)
    scores = model.decision_function(data.features())
    write_scores(out, scores, (scores > model.threshold_).astype(np.int64))
    print(data.n_rows)
""")


def bench_format(fmt: str, workdir: Path, size_gb: float, detector: str, batch_rows: int) -> dict:
    import pynomaly_core as pn

    data = workdir / f"input.{fmt}"
    start = time.perf_counter()
    rows = generate(data, int(size_gb * 1e9))
    size = data.stat().st_size
    print(f"[{fmt}] generated {rows:,} rows x {N_FEATURES}, {size / 1e9:.2f} GB in "
          f"{time.perf_counter() - start:.0f}s", flush=True)
    model_dir = workdir / f"model-{fmt}"
    sample = _chunk(np.random.default_rng(1), 100_000)
    pn.create_detector(detector).fit(pn.Dataset(X=sample, feature_names=COLUMNS).features()).save(model_dir)

    cli = [sys.executable, "-m", "pynomaly_core.cli.app", "score", str(model_dir), str(data), "--batch-rows",
           str(batch_rows), "--top", "3", "-o", str(workdir / "streamed.csv")]
    wall_s, rss_s, out = run_measured(cli)
    assert f"{rows} rows" in out, out
    print(f"[{fmt}] streamed: {wall_s:.1f}s, peak RSS {rss_s / 2**20:.0f} MiB", flush=True)

    # Memory per row of the whole-data run (data, its copies, the detector's temporaries), from 1M- and 100k-row
    # prefixes: the reference reads as many rows as fit in a fifth of the memory available now (other work runs
    # on this machine too), else the whole file.
    rss = {}
    for n in (100_000, 1_000_000):
        _w, rss[n], _ = run_measured([sys.executable, "-c", WHOLE, str(model_dir), str(data),
                                      str(workdir / "whole.csv"), str(n)])
    per_row = max((rss[1_000_000] - rss[100_000]) / 900_000, N_FEATURES * 8)
    fit = int(0.2 * _mem_available() / per_row)
    limit = 0 if fit >= rows else fit
    print(f"[{fmt}] whole-data run needs ~{per_row:.0f} bytes per row; {'all rows' if not limit else f'{limit:,} rows'}"
          f" fit in a fifth of the available memory", flush=True)
    whole_cmd = [sys.executable, "-c", WHOLE, str(model_dir), str(data), str(workdir / "whole.csv"), str(limit)]
    wall_w, rss_w, out_w = run_measured(whole_cmd)
    rows_w = int(out_w.strip().splitlines()[-1])
    size_w = size * rows_w / rows
    print(f"[{fmt}] whole: {rows_w:,} rows in {wall_w:.1f}s, peak RSS {rss_w / 2**20:.0f} MiB", flush=True)
    if not limit:
        same = (workdir / "streamed.csv").read_bytes() == (workdir / "whole.csv").read_bytes()
        print(f"[{fmt}] streamed output identical to the whole-data output: {same}", flush=True)
    for name in ("streamed.csv", "whole.csv"):
        (workdir / name).unlink(missing_ok=True)
    data.unlink()
    return {"format": fmt, "rows": rows, "size": size, "stream_s": wall_s, "stream_rss": rss_s,
            "whole_rows": rows_w, "whole_size": size_w, "whole_s": wall_w, "whole_rss": rss_w,
            "prefix": bool(limit)}


def _mem_available() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return float(line.split()[1]) * 1024
    return float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=2.0)
    parser.add_argument("--formats", default="parquet,csv")
    parser.add_argument("--detector", default="ecod")
    parser.add_argument("--batch-rows", type=int, default=65_536)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="pynomaly-ooc-", dir=args.workdir) as tmp:
        for fmt in args.formats.split(","):
            results.append(bench_format(fmt.strip(), Path(tmp), args.size_gb, args.detector, args.batch_rows))
    print()
    print(f"detector {args.detector}, {args.batch_rows} rows per batch, output CSV; goal: peak RSS <= 25 % of input")
    header = ["format", "input", "rows", "mode", "seconds", "rows/s", "MB/s", "peak RSS", "RSS/input"]
    table = []
    for r in results:
        table.append([r["format"], f"{r['size'] / 1e9:.2f} GB", f"{r['rows']:,}", "streamed", f"{r['stream_s']:.1f}",
                      f"{r['rows'] / r['stream_s']:,.0f}", f"{r['size'] / 1e6 / r['stream_s']:.1f}",
                      f"{r['stream_rss'] / 2**20:.0f} MiB", f"{r['stream_rss'] / r['size']:.1%}"])
        mode = "whole (prefix)" if r["prefix"] else "whole"
        table.append([r["format"], f"{r['whole_size'] / 1e9:.2f} GB", f"{r['whole_rows']:,}", mode,
                      f"{r['whole_s']:.1f}", f"{r['whole_rows'] / r['whole_s']:,.0f}",
                      f"{r['whole_size'] / 1e6 / r['whole_s']:.1f}", f"{r['whole_rss'] / 2**20:.0f} MiB",
                      f"{r['whole_rss'] / r['whole_size']:.1%}"])
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(header)]
    for row in [header, ["-" * w for w in widths], *table]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    for r in results:
        ratio = (r["rows"] / r["stream_s"]) / (r["whole_rows"] / r["whole_s"])
        verdict = "meets" if r["stream_rss"] <= 0.25 * r["size"] else "MISSES"
        print(f"{r['format']}: streamed peak RSS {r['stream_rss'] / r['size']:.1%} of input ({verdict} the 25 % goal); "
              f"streamed throughput {ratio:.2f}x the whole-data run")


if __name__ == "__main__":
    main()
