"""The model store's overhead over a plain save/load, and its throughput with concurrent writers.

Reference (same run): ``model.save(dir)`` / ``pn.load(dir)`` of the same fitted model. Figures: median latency of
``store.register`` / ``store.load`` on SQLite and on PostgreSQL (when reachable) and the ratio to the reference;
then N processes registering versions of one name at once (versions/s, all distinct and consecutive).

    python benchmarks/bench_modelstore.py [--repeats N] [--processes N] [--each N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import median_time, print_table

from pynomaly_core.builtin.hbos import HBOS
from pynomaly_core.modelstore import ModelStore, fingerprint
from pynomaly_core.persistence import load

POSTGRES_URL = os.environ.get("PYNOMALY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def backends(root: Path) -> list[tuple[str, str, str | None]]:
    found = [("sqlite", f"sqlite:///{root / 'store.db'}", None)]
    try:
        import sqlalchemy as sa

        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        found.append(("postgresql", POSTGRES_URL, f"bench_{uuid.uuid4().hex[:10]}"))
    except Exception as exc:
        print(f"(PostgreSQL skipped: {type(exc).__name__})")
    return found


def drop(url: str, schema: str | None) -> None:
    if schema is None:
        return
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def worker(url: str, home: str, schema: str | None, each: int, barrier, results) -> None:
    import numpy as np

    store = ModelStore(url=url, home=home, schema=schema)
    model = HBOS().fit(np.random.default_rng(os.getpid()).normal(size=(1000, 10)))
    barrier.wait()
    results.put([store.register("bench", model).version for _ in range(each)])


def main() -> None:
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--each", type=int, default=10)
    args = parser.parse_args()
    X = np.random.default_rng(0).normal(size=(10_000, 10))
    model = HBOS().fit(X)
    fp = fingerprint(X)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        counter = iter(range(10**9))
        save_s = median_time(lambda: model.save(root / f"plain-{next(counter)}"), args.repeats)
        load_s = median_time(lambda: load(root / "plain-0"), args.repeats)
        rows.append(("plain save/load (reference)", f"{save_s * 1e3:.2f}", f"{load_s * 1e3:.2f}", 1.0, 1.0))
        for kind, url, schema in backends(root):
            try:
                store = ModelStore(url=url, home=root / kind, schema=schema)
                store.register("warm", model, data_fingerprint=fp)
                reg_s = median_time(lambda s=store: s.register("m", model, data_fingerprint=fp), args.repeats)
                get_s = median_time(lambda s=store: s.load("m"), args.repeats)
                rows.append((f"registry on {kind}", f"{reg_s * 1e3:.2f}", f"{get_s * 1e3:.2f}", reg_s / save_s,
                             get_s / load_s))
                store.close()
                ctx = multiprocessing.get_context("fork")
                barrier, results = ctx.Barrier(args.processes + 1), ctx.Queue()
                procs = [ctx.Process(target=worker, args=(url, str(root / kind), schema, args.each, barrier, results))
                         for _ in range(args.processes)]
                for proc in procs:
                    proc.start()
                barrier.wait()
                start = time.perf_counter()
                versions = sorted(v for _ in procs for v in results.get(timeout=600))
                elapsed = time.perf_counter() - start
                for proc in procs:
                    proc.join()
                total = args.processes * args.each
                ok = versions == list(range(1, total + 1))
                print(f"{kind}: {args.processes} processes x {args.each} registrations of one name: "
                      f"{total / elapsed:.1f} versions/s, distinct and consecutive: {ok}")
            finally:
                drop(url, schema)
    print_table(["what", "register/save ms", "load ms", "register ratio", "load ratio"], rows)


if __name__ == "__main__":
    main()
