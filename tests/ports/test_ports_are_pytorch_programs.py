"""The ports are PyTorch programs: only their imports name chainrule, and with those imports turned
back into PyTorch's every port (the xfailed ones included) passes under PyTorch."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PORTS = sorted(HERE.glob("test_port_*.py"))

# chainrule import -> the PyTorch import it stands for
IMPORTS = {
    "import chainrule as torch": "import torch",
    "import chainrule.nn as nn": "import torch.nn as nn",
    "from chainrule import nn": "from torch import nn",
    "import chainrule.nn.functional as F": "import torch.nn.functional as F",
}
FROM_UTILS = re.compile(r"^from chainrule\.utils\.data import (.+)$")


def to_pytorch(source: str) -> str:
    lines = []
    for line in source.splitlines():
        if line in IMPORTS:
            line = IMPORTS[line]
        elif m := FROM_UTILS.match(line):
            line = f"from torch.utils.data import {m[1]}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def test_there_are_ports():
    assert len(PORTS) >= 6


@pytest.mark.parametrize("port", PORTS, ids=lambda p: p.stem)
def test_only_the_imports_name_chainrule(port):
    tree = ast.parse(port.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            assert node.id != "chainrule", f"{port.name}:{node.lineno} uses the name chainrule"
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            text = ast.get_source_segment(port.read_text(), node)
            if "chainrule" in text:
                assert text in IMPORTS or FROM_UTILS.match(text), text
    assert "import torch" in to_pytorch(port.read_text())


@pytest.mark.slow
def test_ports_pass_under_pytorch(torch, tmp_path):
    for port in PORTS:
        (tmp_path / port.name).write_text(to_pytorch(port.read_text()))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--runxfail", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    passed = re.search(r"(\d+) passed", proc.stdout)
    assert passed and int(passed[1]) >= 30 and "failed" not in proc.stdout
