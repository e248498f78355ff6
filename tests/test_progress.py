"""shallownet_fast._progress: the one progress display (tqdm's bar, or plain lines without tqdm)."""

import io
import sys

import pytest

from shallownet_fast._progress import Progress


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def no_tqdm(monkeypatch):
    """tqdm cannot be imported: the display falls back to plain lines."""
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)


def _cli_line(cost):
    return lambda done, total: f"training: {done}/{total} iterations ({done / total:.0%}), cost {cost:.6f}"


def test_plain_lines_on_stdout_and_the_message_after_them(no_tqdm, capsys):
    """The estimator's form: a line per epoch on stdout, the closing message on stdout too."""
    progress = Progress(2, desc="ShallowNetClassifier", unit="epoch")
    assert progress.bar is None
    progress.update(1, postfix={"loss": "0.5"}, line="Epoch 1/2: loss = 0.50000000")
    progress.update(1, postfix={"loss": "0.25"}, line="Epoch 2/2: loss = 0.25000000, validation score = 0.750000")
    progress.close("Stopped: max_iter=2 epochs reached.")
    out = capsys.readouterr()
    assert out.out == (
        "Epoch 1/2: loss = 0.50000000\n"
        "Epoch 2/2: loss = 0.25000000, validation score = 0.750000\n"
        "Stopped: max_iter=2 epochs reached.\n"
    )
    assert out.err == ""
    assert progress.done == 2


def test_plain_lines_follow_a_replaced_stdout(no_tqdm, monkeypatch):
    """stream=None writes to sys.stdout as it is when writing (not when the display was made)."""
    progress = Progress(1)
    later = io.StringIO()
    monkeypatch.setattr(sys, "stdout", later)
    progress.update(1, line="one")
    assert later.getvalue() == "one\n"


def test_command_line_form_on_a_pipe(no_tqdm):
    """The command line's form on a stream that is not a terminal: one line per update, counted steps."""
    stream = io.StringIO()
    progress = Progress(2500, desc="training", unit="it", stream=stream, rewrite=True)
    progress.update(1000, postfix={"cost": "0.500000"}, line=_cli_line(0.5))
    progress.update(1000, postfix={"cost": "0.250000"}, line=_cli_line(0.25))
    progress.update(500, postfix={"cost": "0.125000"}, line=_cli_line(0.125))
    progress.close()
    assert stream.getvalue() == (
        "training: 1000/2500 iterations (40%), cost 0.500000\n"
        "training: 2000/2500 iterations (80%), cost 0.250000\n"
        "training: 2500/2500 iterations (100%), cost 0.125000\n"
    )


def test_command_line_form_on_a_terminal_rewrites_one_line(no_tqdm):
    stream = _Terminal()
    progress = Progress(4, stream=stream, rewrite=True)
    progress.update(2, line=_cli_line(1.0))
    progress.update(2, line=_cli_line(0.5))
    progress.close()
    assert stream.getvalue() == (
        "\rtraining: 2/4 iterations (50%), cost 1.000000\rtraining: 4/4 iterations (100%), cost 0.500000\n"
    )


def test_without_rewrite_a_terminal_gets_lines(no_tqdm):
    stream = _Terminal()
    progress = Progress(2, stream=stream)
    progress.update(1, line="a")
    progress.update(1, line="b")
    progress.close("done")
    assert stream.getvalue() == "a\nb\ndone\n"


@pytest.mark.parametrize("total, enabled", [(3, False), (0, True), (-1, True)])
def test_disabled_or_empty_shows_nothing(no_tqdm, capsys, total, enabled):
    stream = _Terminal()
    for s in (None, stream):
        progress = Progress(total, enabled=enabled, stream=s, rewrite=True)
        assert not progress.enabled
        progress.update(1, postfix={"x": "1"}, line="a line")
        progress.close("a message")
        assert progress.done == 1
    out = capsys.readouterr()
    assert out.out == out.err == "" and stream.getvalue() == ""


def test_update_without_a_line_writes_nothing(no_tqdm, capsys):
    progress = Progress(2)
    progress.update(1)
    progress.close()
    assert capsys.readouterr().out == ""


def test_tqdm_bar_on_the_given_stream():
    pytest.importorskip("tqdm")
    stream = io.StringIO()
    progress = Progress(3, desc="training", unit="it", stream=stream)
    assert progress.bar is not None
    for cost in ("0.300000", "0.200000", "0.100000"):
        progress.update(1, postfix={"cost": cost}, line="never shown")
    progress.close("finished")
    text = stream.getvalue()
    assert "training" in text and "3/3" in text and "cost=0.100000" in text
    assert "never shown" not in text
    assert text.endswith("finished\n")


def test_tqdm_bar_on_stderr_by_default(capsys):
    pytest.importorskip("tqdm")
    progress = Progress(2, desc="ShallowNetClassifier", unit="epoch")
    progress.update(1, postfix={"loss": "0.500000", "val_score": "0.7500"})
    progress.update(1, postfix={"loss": "0.250000"})
    progress.close("Stopped: max_iter=2 epochs reached.")
    out = capsys.readouterr()
    assert out.out == ""
    assert "ShallowNetClassifier" in out.err and "2/2" in out.err and "loss=0.250000" in out.err
    assert out.err.endswith("Stopped: max_iter=2 epochs reached.\n")
