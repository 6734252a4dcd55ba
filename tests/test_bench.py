# `make bench` prints figures only on stdout: the node's console lines (here the
# baselines store's "no baselines.json", as on a fresh clone) go to stderr.
import pytest

from host_tools import bench

NODE_SAYS = """
from app.baselines import BaselineStore
BaselineStore("/nonexistent/baselines.json")
print("t.figure 1.5 units")
"""


def test_the_node_console_goes_to_stderr_and_figures_to_stdout(tmp_path, monkeypatch, capsys):
    (tmp_path / "bench_console.py").write_text(NODE_SAYS)
    monkeypatch.setattr(bench, "BENCH_DIR", tmp_path)
    bench.main()
    out, err = capsys.readouterr()
    assert out == "t.figure 1.5 units\n"
    assert "baselines: no /nonexistent/baselines.json" in err


def test_a_line_that_is_not_a_figure_fails_the_bench(tmp_path, monkeypatch, capsys):
    (tmp_path / "bench_chatty.py").write_text('print("hello from the bench")\n')
    monkeypatch.setattr(bench, "BENCH_DIR", tmp_path)
    with pytest.raises(SystemExit, match="bench_chatty.py"):
        bench.main()
    assert "not of the form" in capsys.readouterr().err
