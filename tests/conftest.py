import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))


# Set by scripts/test_sanitized.sh: AddressSanitizer keeps freed memory in quarantine, so tests that
# measure the process's resident memory say nothing there.
skip_if_sanitized = pytest.mark.skipif(
    bool(os.environ.get("CHAINRULE_SANITIZED")),
    reason="resident memory is not meaningful under AddressSanitizer (freed memory is quarantined)",
)


@pytest.fixture
def torch():
    """PyTorch for reference tests; the test is skipped (visibly) where it is not installed."""
    return pytest.importorskip("torch")


def pytest_sessionfinish(session, exitstatus):
    """Under scripts/test_sanitized.sh with LEAKS=1: LeakSanitizer's check, run here while the
    interpreter is still whole.

    At exit CPython frees some containers but not every object they held, so a check at exit would
    report what test modules still reference. Here everything a live Python object references is
    reachable, and what is reported was lost for good. The reports go to the script's log folder,
    which fails the run when it is not empty."""
    if os.environ.get("CHAINRULE_LSAN") != "1":
        return
    import ctypes
    import gc

    gc.collect()
    check = ctypes.CDLL(None).__lsan_do_recoverable_leak_check
    if check() != 0:
        session.exitstatus = 1
