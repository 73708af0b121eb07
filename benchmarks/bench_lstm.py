"""LSTM forward + backward: chainrule against PyTorch (CPU) with the same weights and thread count.

    python -m benchmarks.bench_lstm                 # 2 layers, hidden 256, seq 64, batch 32
    python -m benchmarks.bench_lstm --threads 1 --repeats 30

Each engine runs in its own interpreter (two OpenMP runtimes in one process oversubscribe the
cores), in alternating rounds so that both see the same machine load; every worker loads the same
weights and input from one .npz, pins its thread count, warms up, then times forward + backward of
``out.sum() + h_n.sum() + c_n.sum()``. The workers also report the loss and a gradient norm, which
must agree: the same work is measured. Medians over all timed repeats of the wall time and of the
process's CPU time (all threads; steadier than wall time on a machine other work shares), and the
ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def _make_data(path: str, args: argparse.Namespace) -> None:
    rng = np.random.default_rng(0)
    bound = 1.0 / np.sqrt(args.hidden)
    arrays = {"input": rng.standard_normal((args.seq, args.batch, args.input)).astype(np.float32)}
    for layer in range(args.layers):
        width = args.input if layer == 0 else args.hidden
        shapes = {
            f"weight_ih_l{layer}": (4 * args.hidden, width),
            f"weight_hh_l{layer}": (4 * args.hidden, args.hidden),
            f"bias_ih_l{layer}": (4 * args.hidden,),
            f"bias_hh_l{layer}": (4 * args.hidden,),
        }
        for name, shape in shapes.items():
            arrays[name] = rng.uniform(-bound, bound, size=shape).astype(np.float32)
    np.savez(path, **arrays)


def _worker(engine: str, path: str, args: argparse.Namespace) -> dict:
    data = dict(np.load(path))
    x_np = data.pop("input")
    if engine == "torch":
        import torch as lib

        lib.set_num_threads(args.threads)
        model = lib.nn.LSTM(args.input, args.hidden, args.layers)
        model.load_state_dict({k: lib.from_numpy(v) for k, v in data.items()})
        x = lib.from_numpy(x_np)
    else:
        import chainrule as lib

        lib.set_num_threads(args.threads)
        model = lib.nn.LSTM(args.input, args.hidden, args.layers)
        model.load_state_dict({k: lib.tensor(v) for k, v in data.items()})
        x = lib.tensor(x_np)

    def step() -> float:
        for p in model.parameters():
            p.grad = None
        out, (h, c) = model(x)
        loss = out.sum() + h.sum() + c.sum()
        loss.backward()
        return float(loss.item())

    for _ in range(args.warmup):
        loss = step()
    times, cpu = [], []
    for _ in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        loss = step()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        time.sleep(args.pause)
    grad_norm = float(np.sqrt(sum(float((np.asarray(p.grad) ** 2).sum()) for p in model.parameters())))
    return {"engine": engine, "times": times, "cpu": cpu, "loss": loss, "grad_norm": grad_norm}


def _run_worker(engine: str, path: str, argv: list[str]) -> dict:
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(root, "python"), root, env.get("PYTHONPATH", "")])
    cmd = [sys.executable, "-m", "benchmarks.bench_lstm", "--worker", engine, "--data", path, *argv]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=root, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{engine} worker failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--input", type=int, default=256)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per engine")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between timed steps")
    parser.add_argument("--engines", default="chainrule,torch")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    passthrough = [
        f"--{k}={getattr(args, k)}"
        for k in ("layers", "hidden", "input", "seq", "batch", "threads", "repeats", "warmup", "pause")
    ]

    if args.worker:
        print(json.dumps(_worker(args.worker, args.data, args)))
        return {}

    engines = args.engines.split(",")
    results: dict[str, dict] = {e: {"times": [], "cpu": []} for e in engines}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "lstm.npz")
        _make_data(path, args)
        for _ in range(args.rounds):
            for engine in engines:
                try:
                    r = _run_worker(engine, path, passthrough)
                except RuntimeError as err:
                    print(f"skipping {engine}: {err}", file=sys.stderr)
                    results.pop(engine, None)
                    continue
                results[engine]["times"] += r["times"]
                results[engine]["cpu"] += r["cpu"]
                results[engine]["loss"] = r["loss"]
                results[engine]["grad_norm"] = r["grad_norm"]
            engines = [e for e in engines if e in results]

    config = (
        f"LSTM {args.layers} layers, input {args.input}, hidden {args.hidden}, seq {args.seq}, "
        f"batch {args.batch}, float32, {args.threads} thread(s), forward+backward"
    )
    print(config)
    print(
        f"{'engine':<10} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'CPU ms':>8} {'loss':>14} "
        f"{'grad norm':>12}"
    )
    for engine, r in results.items():
        t = [1e3 * v for v in r["times"]]
        r["median_ms"] = statistics.median(t)
        r["median_cpu_ms"] = statistics.median(1e3 * v for v in r["cpu"])
        print(
            f"{engine:<10} {r['median_ms']:>10.1f} {min(t):>8.1f} {max(t):>8.1f} {r['median_cpu_ms']:>8.1f} "
            f"{r['loss']:>14.6g} {r['grad_norm']:>12.6g}"
        )
    if "chainrule" in results and "torch" in results:
        ratio = results["chainrule"]["median_ms"] / results["torch"]["median_ms"]
        cpu_ratio = results["chainrule"]["median_cpu_ms"] / results["torch"]["median_cpu_ms"]
        results["ratio"] = {"chainrule_over_torch": ratio, "cpu_chainrule_over_torch": cpu_ratio}
        print(
            f"chainrule / torch time: {ratio:.2f}x (below 1 is faster); "
            f"CPU time (all threads): {cpu_ratio:.2f}x"
        )
        rel = abs(results["chainrule"]["loss"] - results["torch"]["loss"]) / max(
            1.0, abs(results["torch"]["loss"])
        )
        if rel > 1e-3:
            print(f"warning: the engines' losses differ (relative {rel:.2e})", file=sys.stderr)
    results["config"] = {"description": config, **{k: getattr(args, k) for k in vars(args)}}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
