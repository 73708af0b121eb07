"""examples/tiny_gpt.py runs (in its fast mode) and its training loss goes down."""

import importlib.util
import pathlib

import chainrule as cr

EXAMPLE = pathlib.Path(__file__).resolve().parent.parent / "examples" / "tiny_gpt.py"


def test_tiny_gpt_fast_mode_loss_decreases(capsys):
    spec = importlib.util.spec_from_file_location("tiny_gpt_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    threads = cr.get_num_threads()
    try:
        losses = module.main(["--fast", "--threads", "1"])
    finally:
        cr.set_num_threads(threads)
    assert len(losses) == 40
    assert sum(losses[-5:]) / 5 < losses[0] - 0.5
    out = capsys.readouterr().out
    assert "sample:" in out and "Alice" in out
