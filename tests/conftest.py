import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture
def torch():
    """PyTorch for reference tests; the test is skipped (visibly) where it is not installed."""
    return pytest.importorskip("torch")
