"""scripts/api_coverage.py: runs, writes a page whose tables agree with its own totals, and --check works.

The committed docs/api-coverage.md is not required to be current here (names are added all the
time); the script's --check is what says whether it is.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from chainrule._missing import PYTORCH_API, pytorch_names

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "api_coverage.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("api_coverage", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_script(*args):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def parse(markdown: str):
    """(summary {group: (present, total, pct)}, tables {group: {name: status}}) from the page."""
    summary, tables, group = {}, {}, None
    for line in markdown.splitlines():
        if line.startswith("## "):
            group = line[3:].strip()
            tables[group] = {}
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else None
        if not cells or set(cells[0]) <= set("-:"):
            continue
        if group is None and len(cells) >= 4 and cells[1].isdigit():
            name = re.sub(r"[\[\]`*]|\(#.*\)", "", cells[0])
            summary[name] = (int(cells[1]), int(cells[2]), cells[3])
        elif group is not None and cells[1] in ("present", "missing"):
            tables[group][cells[0].strip("`")] = cells[1]
    return summary, tables


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("cov") / "api-coverage.md"
    proc = run_script("--output", str(out))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, out


def test_every_group_and_name_appears_once_in_the_page(generated):
    _, out = generated
    summary, tables = parse(out.read_text())
    assert list(tables) == list(PYTORCH_API)
    assert set(summary) == set(PYTORCH_API) | {"overall"}
    for group in PYTORCH_API:
        assert list(tables[group]) == [f"{group}.{n}" for n in pytorch_names(group)]


def test_page_tables_add_up_to_the_totals_it_and_the_script_report(generated):
    stdout, out = generated
    summary, tables = parse(out.read_text())
    printed = {}
    for line in stdout.splitlines():
        m = re.match(r"(\S+)\s+(\d+) /\s+(\d+)\s+(\S+)$", line)
        if m:
            printed[m[1]] = (int(m[2]), int(m[3]), m[4])
    assert printed == summary
    for group, rows in tables.items():
        present = sum(s == "present" for s in rows.values())
        assert summary[group][:2] == (present, len(rows))
        assert summary[group][2] == f"{100.0 * present / len(rows):.1f}%"
    assert summary["overall"][0] == sum(summary[g][0] for g in tables)
    assert summary["overall"][1] == sum(summary[g][1] for g in tables)


def test_status_is_what_getattr_on_chainrule_finds(generated):
    import chainrule as cr

    _, out = generated
    _, tables = parse(out.read_text())
    assert tables["torch"]["torch.tensor"] == "present"
    assert tables["torch.Tensor"]["torch.Tensor.backward"] == "present"
    assert tables["torch.nn"]["torch.nn.Linear"] == "present"
    assert tables["torch.autograd"]["torch.autograd.functional.jacobian"] == "present"
    for full, status in tables["torch.nn.functional"].items():
        assert status == ("present" if hasattr(cr.nn.functional, full.rsplit(".", 1)[1]) else "missing")


def test_check_passes_on_a_fresh_page_and_fails_on_a_changed_one(generated, tmp_path):
    _, out = generated
    copy = tmp_path / "page.md"
    copy.write_text(out.read_text())
    assert run_script("--check", "--output", str(copy)).returncode == 0
    copy.write_text(out.read_text().replace("| present |", "| missing |", 1))
    proc = run_script("--check", "--output", str(copy))
    assert proc.returncode != 0 and "out of date" in proc.stderr
    assert run_script("--check", "--output", str(tmp_path / "absent.md")).returncode != 0


def test_coverage_function_and_render_agree():
    mod = _load_script()
    cov = mod.coverage()
    summary, tables = parse(mod.render(cov))
    tot = mod.totals(cov)
    assert {g: v[:2] for g, v in summary.items()} == tot
    assert sum(len(pytorch_names(g)) for g in PYTORCH_API) == tot["overall"][1]


def test_list_has_no_duplicates_and_a_training_loop_sized_scope():
    total = 0
    for group in PYTORCH_API:
        names = pytorch_names(group)
        assert len(names) == len(set(names)), group
        total += len(names)
    assert 450 <= total <= 700


def test_every_listed_name_exists_in_pytorch(torch):
    import importlib

    missing = []
    for group in PYTORCH_API:
        base = torch.Tensor if group == "torch.Tensor" else importlib.import_module(group)
        for name in pytorch_names(group):
            obj = base
            try:
                for part in name.split("."):
                    obj = getattr(obj, part)
            except AttributeError:
                missing.append(f"{group}.{name}")
    assert missing == []
