"""Runs the test suite against an installed chainrule, not the source tree.

    python scripts/run_wheel_tests.py [REPO] [pytest args...]

Copies REPO's tests (and the examples, benchmarks, scripts and docs that a few tests read) into a
temporary folder and runs pytest there, so `import chainrule` finds the installed package. Fails if
chainrule would be imported from REPO/python. Used by scripts/build_wheels.sh and by cibuildwheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile


def main(argv: list[str]) -> int:
    repo = os.path.abspath(argv[0]) if argv else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    extra = argv[1:] or ["-m", "not slow"]
    with tempfile.TemporaryDirectory(prefix="chainrule-wheel-tests-") as tmp:
        for name in ("tests", "examples", "benchmarks", "scripts", "docs"):
            src = os.path.join(repo, name)
            if os.path.isdir(src):
                shutil.copytree(src, os.path.join(tmp, name), ignore=shutil.ignore_patterns("__pycache__"))
        # A few tests and scripts look for the source package folder; an empty one (no extension in
        # it) makes them use the installed package, as they do in a checkout without a build.
        os.makedirs(os.path.join(tmp, "python", "chainrule"))
        for name in ("pyproject.toml", "README.md"):
            if os.path.isfile(os.path.join(repo, name)):
                shutil.copy(os.path.join(repo, name), tmp)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        where = subprocess.run(
            [sys.executable, "-c", "import chainrule; print(chainrule.__file__)"],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        print(f"chainrule imported from {where}", flush=True)
        if os.path.abspath(where).startswith(os.path.join(repo, "python")):
            print("error: chainrule comes from the source tree, not an installed wheel", file=sys.stderr)
            return 2
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", *extra]
        return subprocess.run(cmd, cwd=tmp, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
