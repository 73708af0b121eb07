"""Runs the benchmarks: one worker process per engine, samples interleaved round-robin.

python -m benchmarks [--workloads moons,chain,...] [--engines chainrule,torch,...]
                     [--threads N] [--repeats N] [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.machinery import EXTENSION_SUFFIXES

from benchmarks import engines as E
from benchmarks import report
from benchmarks import workloads as W
from benchmarks.machine import machine_info

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BRANCHY_MAX_THREADS = max(v for v in W.WORKLOADS["branchy"].variants)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--workloads",
        default=",".join(W.WORKLOADS),
        help="comma-separated subset of: " + ", ".join(W.WORKLOADS),
    )
    p.add_argument(
        "--engines",
        default=",".join(E.COMPARED),
        help="comma-separated subset of: "
        + ", ".join(E.SELECTABLE)
        + " (default: "
        + ", ".join(E.COMPARED)
        + "; the others are peer engines from benchmarks/peers.py)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="threads for every engine outside the branchy workload (default: all CPUs)",
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed samples per engine and workload (default 15, --quick 5); slow engines "
        "get fewer, never under 3, to stay within the time budget",
    )
    p.add_argument("--quick", action="store_true", help="fewer, shorter samples (under a minute)")
    p.add_argument(
        "--out",
        default=os.path.join(REPO, "benchmarks", "out"),
        help="directory for results.json, results.md and results.png",
    )
    a = p.parse_args(argv)
    a.workloads = [w.strip() for w in a.workloads.split(",") if w.strip()]
    a.engines = [e.strip() for e in a.engines.split(",") if e.strip()]
    for w in a.workloads:
        if w not in W.WORKLOADS:
            p.error(f"unknown workload {w!r}; choose from {', '.join(W.WORKLOADS)}")
    for e in a.engines:
        if e not in E.SELECTABLE:
            p.error(f"unknown engine {e!r}; choose from {', '.join(E.SELECTABLE)}")
    if a.threads < 1:
        p.error("--threads must be at least 1")
    if a.repeats is None:
        a.repeats = 5 if a.quick else 15
    a.repeats = max(3, a.repeats)
    # seconds: one timed sample lasts about target_sample; each engine row gets about budget
    a.target_sample = 0.01 if a.quick else 0.05
    a.budget = 1.0 if a.quick else 8.0
    a.warmup = 0.1 if a.quick else 0.5
    a.probe_reps = 3 if a.quick else 10
    a.import_reps = 3 if a.quick else 10
    a.min_reps = 2 if a.quick else 3
    a.warmup_min_steps = 1 if a.quick else 2
    # pause before a sample when the previous one ran in another process, so that its OpenMP /
    # BLAS threads have stopped spinning (libgomp spins ~1 ms; OpenBLAS keeps its threads busy for up
    # to ~0.2 s after a call, which otherwise steals a core from the next engine's sample)
    a.settle = 0.02 if a.quick else 0.25
    return a


def worker_env(threads: int) -> dict:
    env = dict(os.environ)
    paths = [REPO]
    src = os.path.join(REPO, "python", "chainrule")
    built = os.path.isdir(src) and any(
        f.startswith("_core") and f.endswith(tuple(EXTENSION_SUFFIXES)) for f in os.listdir(src)
    )
    if built:
        # a development tree with its extension built in place (scripts/dev_build.sh); otherwise
        # the installed package is used
        paths.append(os.path.join(REPO, "python"))
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    # upper bound for every runtime; each engine is then set to the exact count per workload
    n = str(max(threads, BRANCHY_MAX_THREADS))
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[k] = n
    return env


class Worker:
    """A subprocess running benchmarks.worker for one engine; JSON lines both ways."""

    def __init__(self, name, env, log_dir):
        self.name, self.env, self.log_dir = name, env, log_dir
        self.proc = None
        self.hello = None

    def start(self):
        log = open(os.path.join(self.log_dir, f"worker-{self.name}.log"), "a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", self.name],
            cwd=REPO,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            bufsize=1,
        )
        log.close()
        self.hello = self.ask({"cmd": "hello"}, timeout=120)
        return self.hello

    def ask(self, req, timeout=300):
        if self.proc is None or self.proc.poll() is not None:
            if req["cmd"] == "hello":
                pass
            else:
                self.start()
        try:
            self.proc.stdin.write(json.dumps(req) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return self._died()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.proc.kill()
            self.proc.wait()
            return {"error": f"failed: no answer to {req['cmd']!r} within {timeout} s (worker killed)"}
        line = self.proc.stdout.readline()
        if not line:
            return self._died()
        return json.loads(line)

    def _died(self):
        rc = self.proc.wait()
        return {"error": f"failed: the {self.name} worker exited with code {rc} (see worker-{self.name}.log)"}

    def pause(self):
        """Stops the worker process (SIGSTOP) while another engine is timed; no-op without it."""
        self._signal("SIGSTOP")

    def resume(self):
        self._signal("SIGCONT")

    def _signal(self, name):
        sig = getattr(signal, name, None)
        if sig is not None and self.proc is not None and self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, sig)
            except OSError:
                pass

    def close(self):
        self.resume()
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=30)
            except Exception:
                self.proc.kill()
                self.proc.wait()


def stats(samples):
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples), "n": len(samples)}


def run_workload(name, args, workers, data_paths, log):
    wl = W.WORKLOADS[name]
    rows = []
    for eng in args.engines:
        w = workers[eng]
        first_threads = wl.variants[0] if name == "branchy" else args.threads
        t0 = time.perf_counter()
        res = w.ask(
            {
                "cmd": "setup",
                "workload": name,
                "data": data_paths.get(name),
                "threads": first_threads,
                "warmup_s": args.warmup,
                "warmup_min_steps": args.warmup_min_steps,
                "quick": args.quick,
            }
        )
        setup_s = time.perf_counter() - t0
        if not res.get("ok"):
            status = "unavailable" if "unavailable" in res else "failed"
            reason = res.get("unavailable") or res.get("error")
            rows.append(
                {
                    "engine": eng,
                    "variant": None,
                    "status": status,
                    "reason": reason,
                    "traceback": res.get("traceback"),
                }
            )
            log(f"  {eng:10s} {report.status_text(status, reason)}")
            continue
        variants = wl.variants if name == "branchy" else [None] + list(res.get("variants") or [])
        for v in variants:
            rows.append(
                {
                    "engine": eng,
                    "variant": v,
                    "status": "ok",
                    "checks": res["checks"],
                    "info": res.get("info") or {},
                    "t_step_warmup": res["t_step"],
                    "setup_s": setup_s,
                    "samples": [],
                }
            )
    timed = [r for r in rows if r["status"] == "ok"]
    for r in timed:
        t = max(r["t_step_warmup"], 1e-9)
        r["inner"] = max(1, math.ceil(args.target_sample / t))
        r["reps"] = max(args.min_reps, min(args.repeats, int(args.budget / (r["inner"] * t))))
    # round-robin: every repetition asks each engine (in a rotating order) for one sample; while
    # one engine samples, the other workers are stopped (an idle peer's background threads, such as
    # an XLA worker's, would otherwise take CPU from the engine being timed)
    try:
        last_engine = None
        for rep in range(max([r["reps"] for r in timed], default=0)):
            order = timed[rep % len(timed) :] + timed[: rep % len(timed)]
            for r in order:
                if r["status"] != "ok" or rep >= r["reps"]:
                    continue
                if r["engine"] != last_engine:
                    for eng, w in workers.items():
                        if eng == r["engine"]:
                            w.resume()
                        else:
                            w.pause()
                    time.sleep(args.settle)
                    last_engine = r["engine"]
                branchy = name == "branchy"  # its variants are thread counts; others' are configurations
                res = workers[r["engine"]].ask(
                    {
                        "cmd": "sample",
                        "inner": r["inner"],
                        "threads": r["variant"] if branchy else args.threads,
                        "variant": None if branchy else r["variant"],
                    },
                    timeout=max(60.0, 50 * r["inner"] * r["t_step_warmup"]),
                )
                if res.get("ok"):
                    r["samples"].append(res["t"])
                else:
                    r["status"] = "failed"
                    r["reason"] = res.get("error") or res.get("unavailable")
                    r["traceback"] = res.get("traceback")
    finally:
        for w in workers.values():
            w.resume()
    for eng in args.engines:
        workers[eng].ask({"cmd": "release"})
    for r in timed:
        if r["status"] == "ok" and r["samples"]:
            s = stats(r["samples"])
            s.update({f"{k}_unit": v / wl.per_step_count * wl.scale for k, v in s.items() if k != "n"})
            r["stats"] = s
            v = (
                ""
                if r["variant"] is None
                else f" @{r['variant']}t"
                if name == "branchy"
                else f" {r['variant']}"
            )
            log(f"  {r['engine'] + v:16s} {s['median_unit']:10.4g} {wl.unit}  ({r['inner']}x{s['n']} steps)")
        elif r["status"] == "ok":
            r["status"], r["reason"] = "failed", "no samples"
    return {"title": wl.title, "unit": wl.unit, "description": wl.description, "rows": rows}


def run_probes(args, workers, env, log_dir, log):
    probes = {}
    numpy_w = Worker("numpy", env, log_dir)
    try:
        numpy_w.start()
        for name in ("numpy_sgemm", "membw"):
            probes[name] = numpy_w.ask(
                {"cmd": "probe", "name": name, "reps": args.probe_reps, "threads": args.threads}
            )
        probes["numpy_blas"] = (numpy_w.hello or {}).get("info", {}).get("blas", "unknown")
    finally:
        numpy_w.close()
    if "torch" in workers:
        probes["torch_mm"] = workers["torch"].ask(
            {"cmd": "probe", "name": "torch_mm", "reps": args.probe_reps, "threads": args.threads}
        )
    for k, v in probes.items():
        if isinstance(v, dict) and v.get("ok"):
            v["median_s"] = statistics.median(v["times"])
            v["min_s"] = min(v["times"])
            if "flop" in v:
                v["gflops_median"] = v["flop"] / v["median_s"] / 1e9
                v["gflops_best"] = v["flop"] / v["min_s"] / 1e9
                log(f"  {k}: {v['gflops_median']:.1f} GFLOP/s (best {v['gflops_best']:.1f}), n={v['n']}")
            if "bytes" in v:
                v["gbps_median"] = v["bytes"] / v["median_s"] / 1e9
                v["gbps_best"] = v["bytes"] / v["min_s"] / 1e9
                log(f"  {k}: {v['gbps_median']:.2f} GB/s (best {v['gbps_best']:.2f})")
        elif isinstance(v, dict):
            log(f"  {k}: {v.get('error') or v.get('unavailable')}")
    return probes


def _subprocess_import(module, env):
    code = (
        "import sys\n"
        + (f"import {module}\n" if module else "")
        + "sys.stdout.write(open('/proc/self/status').read())"
    )
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=REPO)
    t = time.perf_counter() - t0
    if p.returncode != 0:
        last = (p.stderr.strip().splitlines() or ["?"])[-1]
        return None, None, last
    rss = next((int(ln.split()[1]) for ln in p.stdout.splitlines() if ln.startswith("VmRSS:")), None)
    return t, rss, None


def _installed_size(module, env):
    code = (
        "import importlib.util, json, os\n"
        f"s = importlib.util.find_spec({module.split('.')[0]!r})\n"
        "d = list(s.submodule_search_locations or [])\n"
        "root = d[0] if d else s.origin\n"
        "tot = 0\n"
        "if os.path.isdir(root):\n"
        "    for dp, dn, fn in os.walk(root):\n"
        "        tot += sum(os.path.getsize(os.path.join(dp, f)) for f in fn "
        "if not os.path.islink(os.path.join(dp, f)))\n"
        "else:\n"
        "    tot = os.path.getsize(root)\n"
        "print(json.dumps({'bytes': tot, 'path': root}))"
    )
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=REPO)
    return json.loads(p.stdout) if p.returncode == 0 else None


def run_import(args, env, log):
    env = dict(env)
    env["PYTHONDONTWRITEBYTECODE"] = "0"
    mods = {e: E.IMPORT_MODULES[e] for e in args.engines}
    times = {k: [] for k in list(mods) + ["(bare python)"]}
    rss = {k: [] for k in times}
    errors = {}
    keys = list(times)
    if not args.quick:
        for m in mods.values():  # one untimed import each: byte-compile, warm the page cache
            _subprocess_import(m, env)
    for rep in range(args.import_reps):
        for k in keys[rep % len(keys) :] + keys[: rep % len(keys)]:
            if k in errors:
                continue
            t, r, err = _subprocess_import(mods.get(k), env)
            if err:
                errors[k] = err
                continue
            times[k].append(t)
            rss[k].append(r)
    bare_t = statistics.median(times["(bare python)"])
    bare_rss = statistics.median(rss["(bare python)"])
    rows = []
    for k, m in mods.items():
        if k in errors:
            rows.append(
                {
                    "engine": k,
                    "variant": None,
                    "status": "unavailable",
                    "reason": f"unavailable: import {m} failed ({errors[k]})",
                }
            )
            log(f"  {k:10s} {report.status_text('unavailable', errors[k])}")
            continue
        net = [t - bare_t for t in times[k]]
        s = stats(net)
        s.update({f"{x}_unit": s[x] * 1e3 for x in ("median", "min", "max")})
        size = _installed_size(m, env)
        row = {
            "engine": k,
            "variant": None,
            "status": "ok",
            "module": m,
            "samples": net,
            "stats": s,
            "raw_wall_s": times[k],
            "rss_mib": statistics.median(rss[k]) / 1024,
            "rss_delta_mib": (statistics.median(rss[k]) - bare_rss) / 1024,
            "installed_mib": size["bytes"] / 2**20 if size else None,
            "installed_path": size["path"] if size else None,
        }
        rows.append(row)
        log(
            f"  {k:10s} import {s['median_unit']:7.1f} ms, RSS {row['rss_delta_mib']:+.1f} MiB, "
            f"installed {row['installed_mib'] or float('nan'):.1f} MiB"
        )
    wl = W.WORKLOADS["import"]
    return {
        "title": wl.title,
        "unit": wl.unit,
        "description": wl.description,
        "rows": rows,
        "bare_python": {
            "wall_s_median": bare_t,
            "rss_mib": bare_rss / 1024,
            "samples": times["(bare python)"],
        },
    }


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    t_start = time.perf_counter()

    def log(msg):
        print(msg, flush=True)

    env = worker_env(args.threads)
    results = {
        "meta": {
            "command": "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:]),
            "started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(started)),
            "quick": args.quick,
            "threads": args.threads,
            "repeats": args.repeats,
            "target_sample_s": args.target_sample,
            "budget_per_row_s": args.budget,
            "thread_env": {k: env[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
            "machine": machine_info(),
            "engines": {},
        },
        "probes": {},
        "workloads": {},
    }
    log(
        f"machine: {results['meta']['machine']['cpu']}, {results['meta']['machine']['usable_cpus']} CPUs; "
        f"threads {args.threads}"
    )
    timed_names = [n for n in args.workloads if n != "import"]
    with tempfile.TemporaryDirectory(prefix="chainrule-bench-") as tmp:
        t0 = time.perf_counter()
        data_paths = W.write_data(timed_names, tmp)
        log(f"inputs written in {time.perf_counter() - t0:.1f} s")
        workers = {}
        try:
            for eng in args.engines if timed_names else []:
                w = Worker(eng, env, args.out)
                hello = w.start()
                workers[eng] = w
                results["meta"]["engines"][eng] = hello
                log(
                    f"{eng}: "
                    + (
                        f"version {hello.get('version')}"
                        if hello.get("ok")
                        else report.clean_reason(hello.get("unavailable") or hello.get("error"))
                    )
                )
            if "matmul" in timed_names or "adam" in timed_names:
                log("probes (machine peaks):")
                results["probes"] = run_probes(args, workers, env, args.out, log)
            for name in timed_names:
                log(f"{name}: {W.WORKLOADS[name].title}")
                t0 = time.perf_counter()
                results["workloads"][name] = run_workload(name, args, workers, data_paths, log)
                results["workloads"][name]["wall_s"] = time.perf_counter() - t0
                log(f"  ({time.perf_counter() - t0:.1f} s)")
        finally:
            for w in workers.values():
                w.close()
    if "import" in args.workloads:
        log("import: " + W.WORKLOADS["import"].title)
        results["workloads"]["import"] = run_import(args, env, log)
    results["meta"]["duration_s"] = time.perf_counter() - t_start
    paths = report.write_all(results, args.out)
    log(f"done in {results['meta']['duration_s']:.1f} s: " + ", ".join(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
