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
