"""Compares the chainrule rows of benchmark runs of two builds.

    python scripts/compare_bench.py NAME_A=DIR[,DIR...] NAME_B=DIR[,DIR...] [--engine ENGINE]

Each DIR holds a results.json written by ``python -m benchmarks --out DIR``. Runs of one build are
pooled per workload (the median of all their samples), so alternating the two builds' runs on a
noisy machine spreads the noise over both. Prints each workload's medians and the ratio B / A.
``--engine`` compares another engine's rows (chainrule-compiled); the default is chainrule.
"""

from __future__ import annotations

import json
import statistics
import sys


def pooled(dirs: list[str], engine: str = "chainrule") -> dict[str, tuple[float, str]]:
    samples: dict[str, list[float]] = {}
    units: dict[str, str] = {}
    for d in dirs:
        with open(f"{d}/results.json") as f:
            res = json.load(f)
        for name, w in res["workloads"].items():
            for row in w["rows"]:
                if row["engine"] != engine or row.get("variant") or row["status"] != "ok":
                    continue
                # per-step times, scaled to the unit the report uses
                scale = row["stats"]["median_unit"] / row["stats"]["median"]
                samples.setdefault(name, []).extend(s * scale for s in row["samples"])
                units[name] = w["unit"]
    return {k: (statistics.median(v), units[k]) for k, v in samples.items()}


def main(argv: list[str]) -> int:
    engine = "chainrule"
    if len(argv) == 4 and argv[2] == "--engine":
        engine, argv = argv[3], argv[:2]
    if len(argv) != 2 or any("=" not in a for a in argv):
        print(__doc__)
        return 2
    (na, da), (nb, db) = (a.split("=", 1) for a in argv)
    a, b = pooled(da.split(","), engine), pooled(db.split(","), engine)
    print(f"{'workload':<10} {na + ' median':>18} {nb + ' median':>18} {nb + ' / ' + na:>14}")
    for name in a:
        if name in b:
            (ma, unit), (mb, _) = a[name], b[name]
            print(f"{name:<10} {ma:>15.4g} {unit:<2} {mb:>15.4g} {unit:<2} {mb / ma:>13.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
