"""Markdown tables, targets, JSON and a bar chart from one run's results."""

from __future__ import annotations

import json
import math
import os

from benchmarks import workloads as W

# Each check whose name ends in _err is an error against a closed form or NumPy in float64.
CHECK_LIMITS = {"first_step_max_abs_err": 1e-5}
DEFAULT_ERR_LIMIT = 1e-3
AGREE_RTOL = 2e-3  # float32 engines against micrograd's float64: losses and gradient norms
COMPARED_CHECKS = {"moons", "mlp", "branchy"}
# engine info shown next to each version under "Machine and versions"
ENGINE_INFO_KEYS = (
    "eigen",
    "cpu_level",
    "arch",
    "simd",
    "compiler",
    "blas",
    "onednn",
    "parallel",
    "backend",
    "threads",
)


def _fmt(x, digits=4):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, (int, float)):
        if x == 0:
            return "0"
        if abs(x) >= 1e5 or abs(x) < 1e-3:
            return f"{x:.{digits - 1}e}"
        return f"{x:.{digits}g}"
    return str(x)


def _cell(s):
    return str(s).replace("|", "\\|").replace("\n", " ")


_STATUS_WORDS = ("unavailable", "failed")


def clean_reason(reason):
    """A reason with its status word once: 'unavailable: unavailable: x' -> 'unavailable: x'."""
    s = str(reason or "").strip()
    while True:
        low = s.lower()
        for w in _STATUS_WORDS:
            head = w + ":"
            if low.startswith(head) and s[len(head) :].strip().lower().startswith(_STATUS_WORDS):
                s = s[len(head) :].strip()
                break
        else:
            return s


def status_text(status, reason):
    """'unavailable (why)', or the reason alone where it already starts with a status word or 'n/a'."""
    r = clean_reason(reason)
    if not r:
        return status
    if r.lower().startswith(_STATUS_WORDS + ("n/a",)):
        return r
    return f"{status} ({r})"


def ok_rows(wl):
    return [r for r in wl["rows"] if r["status"] == "ok" and "stats" in r]


def find(results, workload, engine, variant=None):
    wl = results["workloads"].get(workload)
    if not wl:
        return None
    for r in wl["rows"]:
        if r["engine"] == engine and (r.get("variant") == variant or r["status"] != "ok"):
            return r
    return None


def median_s(results, workload, engine, variant=None):
    r = find(results, workload, engine, variant)
    if r and r["status"] == "ok" and "stats" in r:
        return r["stats"]["median"]
    return None


def _why(results, workload, engine):
    r = find(results, workload, engine)
    if r is None:
        return f"{engine} not run"
    return f"{engine}: {clean_reason(r.get('reason')) or 'no timing'}"


# ---- checks ----------------------------------------------------------------------------------
def check_status(name, wl):
    """Marks each ok row's checks: closed-form errors within limits; values agreeing across engines."""
    rows = [r for r in wl["rows"] if r["status"] == "ok"]
    ref = next((r for r in rows if r["engine"] == "torch"), rows[0] if rows else None)
    for r in rows:
        problems = []
        for k, v in (r.get("checks") or {}).items():
            if (
                k.endswith("_err")
                and isinstance(v, (int, float))
                and not (v <= CHECK_LIMITS.get(k, DEFAULT_ERR_LIMIT))
            ):
                problems.append(f"{k}={_fmt(v)} too large")
            if k == "grad_matches" and v is not True:
                problems.append("gradient was not set")
            if k.endswith("max_update") or k == "mean_abs_update":
                if not v:
                    problems.append("parameters did not change")
        if name in COMPARED_CHECKS and ref is not None and r is not ref:
            for k, v in (r.get("checks") or {}).items():
                rv = (ref.get("checks") or {}).get(k)
                if isinstance(v, (int, float)) and isinstance(rv, (int, float)):
                    if abs(v - rv) > AGREE_RTOL * max(abs(rv), 1e-6):
                        problems.append(f"{k} differs from {ref['engine']} ({_fmt(v)} vs {_fmt(rv)})")
        r["check_problems"] = problems
        r["check_ref"] = (
            ref["engine"] if (name in COMPARED_CHECKS and ref is not None and r is not ref) else None
        )


def _checks_cell(r):
    c = r.get("checks") or {}
    body = ", ".join(f"{k}={_fmt(v, 3)}" for k, v in c.items())
    if r.get("check_problems"):
        return f"CHECK FAILED: {'; '.join(r['check_problems'])} ({body})"
    tail = f"; agrees with {r['check_ref']}" if r.get("check_ref") else ""
    return f"ok ({body}{tail})"


# ---- targets ---------------------------------------------------------------------------------
def _target(name, goal, measured, met, missing=None):
    if missing:
        return {
            "target": name,
            "goal": goal,
            "measured": "not measured",
            "status": "not measured",
            "why": missing,
        }
    return {"target": name, "goal": goal, "measured": measured, "status": "met" if met else "missed"}


def adam_floor_s(results):
    bw = (results.get("probes") or {}).get("membw") or {}
    if not bw.get("ok"):
        return None
    return W.ADAM_BYTES_PER_PARAM * W.ADAM_PARAMS / (bw["bytes"] / bw["median_s"])


def targets(results):
    out = []
    wl = results["workloads"]

    def need(*pairs):
        missing = list(
            dict.fromkeys(_why(results, w, e) for w, e, v in pairs if median_s(results, w, e, v) is None)
        )
        return "; ".join(missing) if missing else None

    if "moons" in wl:
        m = need(("moons", "chainrule", None), ("moons", "micrograd", None), ("moons", "torch", None))
        if m:
            out.append(
                _target(
                    "micrograd demo", "≥ 5000x faster than micrograd and faster than PyTorch", None, False, m
                )
            )
        else:
            cr = median_s(results, "moons", "chainrule")
            mg, th = median_s(results, "moons", "micrograd") / cr, median_s(results, "moons", "torch") / cr
            out.append(
                _target(
                    "micrograd demo",
                    "≥ 5000x faster than micrograd and faster than PyTorch",
                    f"micrograd/chainrule = {mg:.0f}x, torch/chainrule = {th:.2f}x",
                    mg >= 5000 and th > 1,
                )
            )

    def ratio_target(name, goal, workload, engine, limit, variant=None, beat=()):
        """engine/torch time ratio <= limit, and faster than each engine (name, variant) in beat."""
        m = need((workload, engine, variant), (workload, "torch", None))
        if m:
            out.append(_target(name, goal, None, False, m))
            return
        t = median_s(results, workload, engine, variant)
        r = t / median_s(results, workload, "torch")
        text = f"{engine}/torch = {r:.4f}x"
        met = r <= limit
        unmeasured = []
        for e, v in beat:
            other = median_s(results, workload, e, v)
            if other is None:  # a peer that cannot run this workload: the rest is still reported
                unmeasured.append(need((workload, e, v)))
                continue
            text += f", {e}{f' ({v})' if v else ''}/{engine} = {other / t:.2f}x"
            met = met and t < other
        if unmeasured:
            text += "; not measured: " + "; ".join(unmeasured)
            if met:  # what was measured is met, but the comparison with the peer is missing
                why = "; ".join(unmeasured)
                row = {"target": name, "goal": goal, "measured": text, "status": "not measured", "why": why}
                out.append(row)
                return
        out.append(_target(name, goal, text, met))

    if "chain" in wl:
        ratio_target(
            "per-op overhead, eager",
            "≤ 0.04x PyTorch's time per op and faster than DyNet",
            "chain",
            "chainrule",
            0.04,
            beat=[("dynet", None)],
        )
        goal = "≤ 0.005x PyTorch's time per op"
        ratio_target("per-op overhead, compiled", goal, "chain", "chainrule-compiled", 0.005)
    if "moons" in wl:
        dynet = [("dynet", None)]
        ratio_target("moons step, eager", "faster than DyNet", "moons", "chainrule", float("inf"), beat=dynet)
        ratio_target(
            "moons step, compiled",
            "≤ 0.015x PyTorch and faster than nn-engine-core's compiled replay",
            "moons",
            "chainrule-compiled",
            0.015,
            beat=[("nnengine", "compiled")],
        )
    if "mlp" in wl:
        ratio_target("MLP training step, eager", "≤ 0.7x PyTorch's time", "mlp", "chainrule", 0.7)
        ratio_target("MLP training step, compiled", "≤ 0.5x PyTorch's time", "mlp", "chainrule-compiled", 0.5)
    if "matmul" in wl:
        m = need(("matmul", "chainrule", None), ("matmul", "torch", None))
        r = None if m else median_s(results, "matmul", "torch") / median_s(results, "matmul", "chainrule")
        out.append(
            _target(
                "matmul 1024 fwd+bwd",
                "≥ 1.0x PyTorch's GFLOP/s",
                None if m else f"chainrule GFLOP/s / torch GFLOP/s = {r:.3f}x",
                bool(r is not None and r >= 1.0),
                m,
            )
        )
    if "adam" in wl:
        m = need(("adam", "chainrule", None), ("adam", "torch", None))
        floor = adam_floor_s(results)
        if not m and floor is None:
            m = "memory bandwidth probe failed"
        goal = "faster than PyTorch (default Adam) and ≤ 1.2x the memory-bandwidth floor"
        if m:
            out.append(_target("Adam step (10M params)", goal, None, False, m))
        else:
            cr = median_s(results, "adam", "chainrule")
            th = median_s(results, "adam", "torch")
            fused = median_s(results, "adam", "torch", "fused=True")
            extra = f", torch (fused=True)/chainrule = {fused / cr:.2f}x" if fused else ""
            out.append(
                _target(
                    "Adam step (10M params)",
                    goal,
                    f"torch/chainrule = {th / cr:.2f}x{extra}, chainrule/floor = {cr / floor:.2f}x "
                    f"(floor {floor * 1e3:.2f} ms)",
                    cr < th and cr <= 1.2 * floor,
                )
            )
    if "branchy" in wl:
        v1, v2 = W.WORKLOADS["branchy"].variants[:2]
        m = need(("branchy", "chainrule", v1), ("branchy", "chainrule", v2))
        r = (
            None
            if m
            else median_s(results, "branchy", "chainrule", v1) / median_s(results, "branchy", "chainrule", v2)
        )
        out.append(
            _target(
                "branchy backward scaling",
                f"≥ 1.8x faster on {v2} threads than on {v1}",
                None if m else f"chainrule {v1}-thread/{v2}-thread = {r:.2f}x",
                bool(r is not None and r >= 1.8),
                m,
            )
        )
    return out


# ---- markdown --------------------------------------------------------------------------------
def ratio_table_md(results, ref="torch", width=110):
    """One table: each engine's median per workload with its ratio to `ref`'s median (time / time)."""
    names = [n for n in results["workloads"] if n != "import"]
    if not names:
        return []
    head = ["engine"] + [f"{n} ({results['workloads'][n]['unit']})" for n in names]
    labels = []
    for n in names:
        for r in results["workloads"][n]["rows"]:
            key = (r["engine"], r.get("variant") if n != "branchy" else None)
            if key not in labels:
                labels.append(key)
    lines = [
        f"Median per step and, in brackets, the ratio to {ref}'s median from the same run "
        f"(X / {ref} = 2x: X takes twice {ref}'s time; below 1x: faster).",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for eng, variant in labels:
        label = ENGINE_LABELS.get(eng, eng)
        cells = [label if variant is None else f"{label} ({variant})"]
        for n in names:
            wl = results["workloads"][n]
            if n == "branchy":
                v0 = W.WORKLOADS["branchy"].variants[0]
                row = find(results, n, eng, v0)
                refm = median_s(results, n, ref, v0)
            else:
                row = next(
                    (r for r in wl["rows"] if r["engine"] == eng and r.get("variant") == variant),
                    None,
                )
                refm = median_s(results, n, ref)
            if row is None:
                cells.append("—")  # a configuration of an engine that could not run this workload
            elif row["status"] == "ok" and "stats" in row:
                ratio = f" ({row['stats']['median'] / refm:.3g}x)" if refm else ""
                flag = " CHECK FAILED" if row.get("check_problems") else ""
                cells.append(f"{_fmt(row['stats']['median_unit'])}{ratio}{flag}")
            else:
                text = status_text(row["status"], row.get("reason"))
                cells.append(_cell(text if len(text) <= width else text[: width - 1] + "…"))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


# engines whose row reads better than their command-line name
ENGINE_LABELS = {"chainrule-compiled": "chainrule (compiled)"}


def row_label(name, r):
    """Engine name, with the configuration for non-default rows (branchy's thread count is a column)."""
    engine = ENGINE_LABELS.get(r["engine"], r["engine"])
    if r.get("variant") is None or name == "branchy":
        return engine
    return f"{engine} ({r['variant']})"


def _ratio_cell(results, name, r):
    if r["engine"] == "chainrule" and (r.get("variant") is None or name == "branchy"):
        return "1x (reference)"
    cr = median_s(results, name, "chainrule", r.get("variant") if name == "branchy" else None)
    if cr is None:
        return "— (no chainrule timing)"
    return f"{row_label(name, r)} / chainrule = {r['stats']['median'] / cr:.3g}x"


def workload_md(results, name, wl):
    spec = W.WORKLOADS[name]
    lines = [f"### {name}: {wl['title']}", "", wl["description"], ""]
    extra_head = []
    if name == "matmul":
        extra_head = ["GFLOP/s (median)"]
    elif name == "adam":
        extra_head = ["effective GB/s", "time / bandwidth floor"]
    head = (
        ["engine"]
        + (["threads"] if name == "branchy" else [])
        + [f"median {spec.unit}", "min", "max", "samples x steps"]
        + extra_head
        + ["vs chainrule (time)", "checks"]
    )
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    floor = adam_floor_s(results) if name == "adam" else None
    for r in wl["rows"]:
        if r["status"] != "ok" or "stats" not in r:
            cells = (
                [r["engine"]]
                + (["—"] if name == "branchy" else [])
                + [_cell(status_text(r["status"], r.get("reason")))]
                + ["—"] * (len(head) - 2 - (name == "branchy"))
            )
            lines.append("| " + " | ".join(cells) + " |")
            continue
        s = r["stats"]
        cells = (
            [row_label(name, r)]
            + ([str(r["variant"])] if name == "branchy" else [])
            + [_fmt(s["median_unit"]), _fmt(s["min_unit"]), _fmt(s["max_unit"]), f"{s['n']} x {r['inner']}"]
        )
        if name == "matmul":
            cells.append(f"{W.MATMUL_FLOP / s['median'] / 1e9:.1f}")
        elif name == "adam":
            cells.append(f"{W.ADAM_BYTES_PER_PARAM * W.ADAM_PARAMS / s['median'] / 1e9:.2f}")
            cells.append(f"{s['median'] / floor:.2f}x" if floor else "—")
        cells += [_ratio_cell(results, name, r), _cell(_checks_cell(r))]
        lines.append("| " + " | ".join(cells) + " |")
    notes = {}
    for r in wl["rows"]:
        for k, v in (r.get("info") or {}).items():
            notes.setdefault(f"{r['engine']}, {k}: {v}", None)
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    if name == "branchy":
        v1, v2 = spec.variants[:2]
        lines += ["", f"Speed-up from {v1} to {v2} threads (backward time at {v1} / at {v2}):", ""]
        for eng in dict.fromkeys(r["engine"] for r in wl["rows"]):
            a, b = median_s(results, name, eng, v1), median_s(results, name, eng, v2)
            lines.append(f"- {eng}: " + (f"{a / b:.2f}x" if a and b else "—"))
    if name == "matmul":
        p = results.get("probes") or {}
        lines += [
            "",
            "Machine sgemm peak at the same thread count (C = A@B, "
            f"{p.get('numpy_sgemm', {}).get('n', '?')}x{p.get('numpy_sgemm', {}).get('n', '?')} float32, "
            "2n^3 flop):",
            "",
        ]
        for k, label in (
            ("numpy_sgemm", f"numpy.matmul ({p.get('numpy_blas', '?')})"),
            ("torch_mm", "torch.mm"),
        ):
            v = p.get(k) or {}
            lines.append(
                f"- {label}: "
                + (
                    f"{v['gflops_median']:.1f} GFLOP/s median, {v['gflops_best']:.1f} best"
                    if v.get("ok")
                    else _cell(v.get("error") or v.get("unavailable") or "not run")
                )
            )
    if name == "adam":
        bw = (results.get("probes") or {}).get("membw") or {}
        if bw.get("ok"):
            lines += [
                "",
                f"Memory bandwidth: {bw['gbps_median']:.2f} GB/s median ({bw['gbps_best']:.2f} best), "
                f"{bw['note']}. Floor for one Adam step = {W.ADAM_BYTES_PER_PARAM} B x "
                f"{W.ADAM_PARAMS:,} params / bandwidth = {floor * 1e3:.2f} ms.",
            ]
    return lines


def import_md(wl):
    lines = [
        f"### import: {wl['title']}",
        "",
        wl["description"],
        "",
        f"Bare interpreter: {wl['bare_python']['wall_s_median'] * 1e3:.1f} ms wall, "
        f"{wl['bare_python']['rss_mib']:.1f} MiB RSS (min-max of its wall time: "
        f"{min(wl['bare_python']['samples']) * 1e3:.1f}-{max(wl['bare_python']['samples']) * 1e3:.1f} ms; "
        "import times within that spread of 0 are noise).",
        "",
        "| engine | module | import ms (median) | min | max | RSS after import MiB (delta) | installed MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in wl["rows"]:
        if r["status"] != "ok":
            lines.append(
                f"| {r['engine']} | {_cell(status_text(r['status'], r.get('reason')))} | — | — | — | — | — |"
            )
            continue
        s = r["stats"]
        lines.append(
            f"| {r['engine']} | {r['module']} | {s['median_unit']:.1f} | {s['min_unit']:.1f} | "
            f"{s['max_unit']:.1f} | {r['rss_mib']:.1f} ({r['rss_delta_mib']:+.1f}) | "
            f"{_fmt(r['installed_mib'], 3)} |"
        )
    return lines


def markdown(results):
    meta = results["meta"]
    m = meta["machine"]
    lines = [
        "# chainrule benchmarks",
        "",
        f"Command: `{meta['command'].strip()}` (run from the repository root; it writes results.md, "
        "results.json and results.png to --out, default benchmarks/out/; benchmarks/RESULTS.md is a "
        "copy of one full run's results.md)  ",
        f"Started: {meta['started']}; took {meta.get('duration_s', 0):.0f} s"
        + (" (--quick: few, short samples; treat as a smoke test)" if meta["quick"] else ""),
        "",
        "## Machine and versions",
        "",
        f"- CPU: {m['cpu']}, {m['logical_cpus']} logical CPUs ({m['usable_cpus']} usable), "
        f"SIMD: {', '.join(m['simd']) or '?'}; RAM {m['mem_total_gib']} GiB; {m['os']}; Python {m['python']}",
        f"- load average at start: {m.get('loadavg_at_start')}; git commit {m.get('git_commit') or '?'}",
        f"- threads: {meta['threads']} for every engine "
        f"(branchy: {', '.join(map(str, W.WORKLOADS['branchy'].variants))}); "
        f"environment {meta['thread_env']}; set per workload with chainrule.set_num_threads, "
        "torch.set_num_threads, threadpoolctl for NumPy's BLAS",
    ]
    for eng, h in meta["engines"].items():
        if h.get("ok"):
            info = h.get("info") or {}
            detail = "; ".join(f"{k}: {v}" for k, v in info.items() if k in ENGINE_INFO_KEYS)
            lines.append(f"- {eng} {h.get('version')}" + (f" ({detail})" if detail else ""))
        else:
            lines.append(f"- {eng}: {status_text('unavailable', h.get('unavailable') or h.get('error'))}")
    if (results.get("probes") or {}).get("numpy_blas"):
        lines.append(f"- NumPy BLAS: {results['probes']['numpy_blas']}")
    lines += [
        "",
        "## Method",
        "",
        "Each engine runs in its own worker process (no two OpenMP runtimes in one process); workers get "
        "the same inputs and initial weights, created once with NumPy and loaded from one file. Each "
        "workload is set up in every worker, its first step is checked (losses, gradients against closed "
        "forms or float64 NumPy, parameter updates), then warmed up. Samples are then taken round-robin: "
        "each repetition asks every engine for one sample in a rotating order, so drift of the machine "
        "hits all engines alike. While one engine takes its samples, every other worker process is "
        "stopped (SIGSTOP, where the OS has it), so that no peer's idle background threads take a core "
        "from the engine being timed. A sample is the mean over enough consecutive steps to last "
        f"~{meta['target_sample_s'] * 1e3:.0f} ms; up to {meta['repeats']} samples per engine, fewer (at "
        f"least 3) for engines whose samples would exceed ~{meta['budget_per_row_s']:.0f} s in total. "
        "Tables give the median sample with min and max; ratios are of medians from the same run. "
        '"X / chainrule = 3x" means X takes 3 times chainrule\'s time.',
        "",
        "## Targets",
        "",
        "| target | goal | measured | status |",
        "|---|---|---|---|",
    ]
    for t in results.get("targets", []):
        meas = t["measured"] if t["measured"] != "not measured" else f"not measured: {t['why']}"
        lines.append(f"| {t['target']} | {t['goal']} | {_cell(meas)} | {t['status']} |")
    if any(e not in ("chainrule", "torch", "autograd", "micrograd") for e in meta["engines"]):
        lines += ["", "## Medians and ratios vs PyTorch", ""] + ratio_table_md(results)
    lines += ["", "## Results", ""]
    for name, wl in results["workloads"].items():
        lines += (import_md(wl) if name == "import" else workload_md(results, name, wl)) + [""]
    return "\n".join(lines) + "\n"


# ---- plot ------------------------------------------------------------------------------------
def plot(results, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception:
        return None
    names = list(results["workloads"])
    if not names:
        return None
    cols = 2
    rows_n = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows_n, cols, figsize=(12, 2.8 * rows_n), squeeze=False)
    colors = {
        "chainrule": "#d62728",
        "torch": "#1f77b4",
        "autograd": "#2ca02c",
        "micrograd": "#9467bd",
        "jax": "#ff7f0e",
        "dynet": "#8c564b",
        "magnetron": "#e377c2",
        "nnengine": "#17becf",
        "chainrule-compiled": "#ff9896",
    }
    for ax, name in zip(axes.flat, names):
        wl = results["workloads"][name]
        labels, vals, lo, hi, cs = [], [], [], [], []
        for r in wl["rows"]:
            labels.append(
                r["engine"]
                + (
                    f" ({r['variant']}t)"
                    if name == "branchy" and r.get("variant")
                    else f" ({r['variant']})"
                    if r.get("variant")
                    else ""
                )
            )
            cs.append(colors.get(r["engine"], "gray"))
            if r["status"] == "ok" and "stats" in r:
                s = r["stats"]
                vals.append(s["median_unit"])
                lo.append(s["median_unit"] - s["min_unit"])
                hi.append(s["max_unit"] - s["median_unit"])
            else:
                vals.append(0)
                lo.append(0)
                hi.append(0)
        y = list(range(len(labels)))
        ax.barh(y, vals, xerr=[lo, hi], color=cs, capsize=2)
        ax.set_yticks(y)
        ax.set_yticklabels(labels, fontsize=8)
        ax.invert_yaxis()
        pos = [v for v in vals if v > 0]
        if pos and max(pos) / min(pos) > 30:
            ax.set_xscale("log")
        for yi, v in zip(y, vals):
            if v == 0:
                ax.text(min(pos) if pos else 0, yi, " n/a", va="center", fontsize=7, color="gray")
        ax.set_title(f"{name}: {wl['unit']} (lower is better)", fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.suptitle(
        f"chainrule benchmarks — {results['meta']['machine']['cpu']}, {results['meta']['threads']} threads",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_all(results, out_dir):
    for name, wl in results["workloads"].items():
        if name != "import":
            check_status(name, wl)
    results["targets"] = targets(results)
    paths = []
    jp = os.path.join(out_dir, "results.json")
    with open(jp, "w") as f:
        json.dump(results, f, indent=1, default=str)
    paths.append(jp)
    mp = os.path.join(out_dir, "results.md")
    with open(mp, "w") as f:
        f.write(markdown(results))
    paths.append(mp)
    pp = plot(results, os.path.join(out_dir, "results.png"))
    if pp:
        paths.append(pp)
    return paths
