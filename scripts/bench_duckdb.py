#!/usr/bin/env python3
"""DuckDB side of `mhis bench indicators`.

Loads the benchmark's fact rows (CSV) into an in-memory DuckDB table and
runs each query the given number of times, printing per-query p50 and p95
in milliseconds as JSON on standard output.

Usage: bench_duckdb.py FACTS.csv QUERIES.json REPEATS
"""
import json
import math
import sys
import time

import duckdb


def percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def main():
    facts, queries_path, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
    con = duckdb.connect()
    started = time.perf_counter()
    con.execute(
        "CREATE TABLE facts AS SELECT * FROM read_csv_auto(?, header = true, "
        "types = {'date': 'DATE', 'due_date': 'DATE', 'outcome': 'VARCHAR', 'tb_class': 'VARCHAR'})",
        [facts],
    )
    rows = con.execute("SELECT count(*) FROM facts").fetchone()[0]
    print(
        f"duckdb {duckdb.__version__}: loaded {rows} rows in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    with open(queries_path) as f:
        queries = json.load(f)
    out = []
    for q in queries:
        times = []
        result = []
        for _ in range(repeats):
            t = time.perf_counter()
            result = con.execute(q["sql"]).fetchall()
            times.append((time.perf_counter() - t) * 1000.0)
        times.sort()
        out.append(
            {
                "name": q["name"],
                "p50_ms": percentile(times, 50),
                "p95_ms": percentile(times, 95),
                "rows": len(result),
            }
        )
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
