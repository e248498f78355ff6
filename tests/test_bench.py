"""shallownet_fast.bench: the short fast-against-reference report of ``shallownet-fast bench``."""

import argparse
import io

import pytest

from shallownet_fast import bench


def _args(*argv):
    return bench.add_arguments(argparse.ArgumentParser()).parse_args(list(argv))


def test_the_report_prints_one_row_per_workload_with_both_times():
    out = io.StringIO()
    text = bench.run(["W1", "p1"], repeats=1, quick=True, stream=out)
    assert out.getvalue() == text
    rows = [line for line in text.splitlines() if line.startswith("| W1 ") or line.startswith("| P1 ")]
    assert len(rows) == 2
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[2].endswith("s") and cells[3].endswith("s"), row  # reference and fast times
        assert cells[4].endswith("x") and float(cells[4][:-1]) > 0, row
        assert cells[5] == "yes", row  # fast agrees with the reference
    assert "float64" in rows[0] and "usable cores" in text and "NumPy" in text


def test_measure_times_both_implementations():
    row = bench.measure(bench.WORKLOADS["P1"], repeats=2, quick=True, target=0.001)
    assert row["reference"] > 0 and row["fast"] > 0 and row["ratio"] > 0
    assert row["agreement"] == 0.0


@pytest.mark.parametrize(("workloads", "repeats"), [(["NOPE"], 1), ([], 1), (["W1"], 0)])
def test_bad_choices_raise_value_error(workloads, repeats):
    with pytest.raises(ValueError, match="NOPE|unknown workloads|repeat"):
        bench.run(workloads, repeats=repeats, stream=io.StringIO())


def test_main_writes_the_table_to_a_new_file(tmp_path, capsys):
    path = tmp_path / "bench.md"
    assert bench.main(_args("--quick", "--workloads", "P1", "--repeat", "1", "--out", str(path))) == 0
    written = path.read_text()
    assert "| P1 |" in written and written in capsys.readouterr().out + "\n"


def test_main_never_overwrites_a_file(tmp_path):
    path = tmp_path / "kept.md"
    path.write_text("mine")
    with pytest.raises(ValueError, match="exists"):
        bench.main(_args("--quick", "--workloads", "P1", "--out", str(path)))
    assert path.read_text() == "mine"


def test_time_formatting():
    assert bench._fmt_time(2.5) == "2.5 s"
    assert bench._fmt_time(0.0031) == "3.1 ms"
    assert bench._fmt_time(4.2e-6) == "4.2 us"
    assert bench._fmt_time(5e-9) == "5 ns"
