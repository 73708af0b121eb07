"""One engine per process: reads JSON requests on stdin, answers one JSON line each.

Run as ``python -m benchmarks.worker ENGINE``. The protocol channel is a private duplicate of the
original stdout; fd 1 is pointed at stderr so that anything an engine prints cannot corrupt it.

Requests (one JSON object per line) and answers:
  {"cmd": "hello"}                                  -> {"ok", "version", "info"} | {"unavailable"}
  {"cmd": "setup", "workload", "data", "threads", "warmup_s", "warmup_min_steps", "quick"}
      -> {"ok", "checks", "info", "t_step"} | {"unavailable"} | {"error"}
  {"cmd": "sample", "inner", "threads", "variant"}  -> {"ok", "t"}   (seconds per step, mean of inner steps)
  {"cmd": "probe", "name", "reps", "threads"}       -> {"ok", ...probe result}
  {"cmd": "release"}                                -> {"ok"}   (drops the workload's tensors)
  {"cmd": "quit"}
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
import traceback


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def prepare(engine, workload: str, data: dict):
    """Sets up a workload and runs its checked first step -> (bench, checks).

    A name the engine lacks (ImportError / AttributeError: an op or module not built yet) becomes
    Unavailable("unavailable: <error>"), so that the report shows why instead of a number.
    """
    from benchmarks.engines import Unavailable

    try:
        bench = engine.setup(workload, data)
        return bench, bench.check()
    except Unavailable:
        raise
    except (ImportError, AttributeError) as e:
        raise Unavailable(f"unavailable: {_reason(e)}") from None


def main(engine_name: str) -> None:
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def reply(obj):
        proto.write(json.dumps(obj) + "\n")
        proto.flush()

    from benchmarks.engines import ENGINES, Unavailable
    from benchmarks.workloads import load_data

    engine = None
    import_error = None
    try:
        engine = ENGINES[engine_name]()
    except Exception as e:  # ImportError, or anything the import raises
        import_error = f"unavailable: cannot import ({_reason(e)})"

    bench = None
    threads = None
    variant = None

    def set_threads(n):
        nonlocal threads
        if n is not None and n != threads:
            engine.set_threads(n)
            threads = n
            return True
        return False

    def run_step():
        t0 = time.perf_counter()
        r = bench.variants[variant]() if variant is not None else bench.step()
        t = time.perf_counter() - t0
        return r if isinstance(r, float) else t

    for line in sys.stdin:
        req = json.loads(line)
        cmd = req["cmd"]
        if cmd == "quit":
            break
        if engine is None:
            reply({"unavailable": import_error})
            continue
        try:
            if cmd == "hello":
                reply(
                    {
                        "ok": True,
                        "version": engine.version(),
                        "info": engine.info(),
                        "python": sys.version.split()[0],
                    }
                )
            elif cmd == "setup":
                bench = None
                variant = None
                gc.collect()
                set_threads(req.get("threads"))
                data = load_data(req["data"]) if req.get("data") else {}
                engine.quick = bool(req.get("quick"))
                try:
                    bench, checks = prepare(engine, req["workload"], data)
                except Unavailable as e:
                    bench = None
                    reply({"unavailable": str(e)})
                    continue
                # warm-up: at least two steps and warmup_s seconds; the last timings give t_step
                times = []
                warm_s, min_steps = req.get("warmup_s", 0.2), req.get("warmup_min_steps", 2)
                t_end = time.perf_counter() + warm_s
                while len(times) < min_steps or time.perf_counter() < t_end:
                    times.append(run_step())
                    if len(times) >= min_steps and sum(times) > 4 * warm_s:
                        break  # a slow engine: do not spend long warming up
                reply(
                    {
                        "ok": True,
                        "checks": checks,
                        "info": bench.info,
                        "t_step": min(times[-3:]),
                        "variants": list(bench.variants),
                        "warmup_steps": len(times),
                    }
                )
            elif cmd == "sample":
                if bench is None:
                    reply({"error": "no workload set up"})
                    continue
                changed = set_threads(req.get("threads"))
                if req.get("variant") != variant:
                    variant = req.get("variant")
                    changed = True
                if changed:
                    run_step()  # untimed step after changing the thread count or the variant
                inner = int(req.get("inner", 1))
                total = 0.0
                for _ in range(inner):
                    total += run_step()
                reply({"ok": True, "t": total / inner})
            elif cmd == "release":
                bench = None
                gc.collect()
                reply({"ok": True})
            elif cmd == "probe":
                set_threads(req.get("threads"))
                res = engine.probe(req["name"], int(req.get("reps", 5)))
                res["ok"] = True
                reply(res)
            else:
                reply({"error": f"unknown command {cmd}"})
        except Unavailable as e:
            reply({"unavailable": str(e)})
        except Exception as e:
            tb = traceback.format_exc(limit=4)
            reply({"error": f"failed: {_reason(e)}", "traceback": tb})


if __name__ == "__main__":
    main(sys.argv[1])
