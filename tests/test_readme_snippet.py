"""The README's Python API block runs as a script (issue 12): saved as a file with no
`__main__` guard and run in a subprocess from a folder laid out like the repository."""

from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd
import pytest

from helpers import REPO


def readme_snippet() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python API", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S)[1]


def test_snippet_is_the_one_tested():
    code = readme_snippet()
    assert "bheard.batch(" in code and "bheard.frontier(" in code and "__main__" not in code
    compile(code, "README.md", "exec")


@pytest.mark.slow
def test_readme_python_snippet_runs_as_a_script(tmp_path):
    """The whole block: solve, explain, save, simulate, frontier, compare and a parallel batch
    of the shipped scenarios, exit 0; every scenario of the batch ran (none 'failed')."""
    (tmp_path / "scenarios").symlink_to(REPO / "scenarios", target_is_directory=True)
    script = tmp_path / "example.py"
    script.write_text(readme_snippet())
    r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                       text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    s = pd.read_csv(tmp_path / "out" / "batch" / "batch_summary.csv")
    assert len(s) >= 6 and (s["run"] == "solved").all(), s[["scenario", "run", "error"]]
    assert (tmp_path / "out" / "compare" / "compare.html").exists()
    assert (tmp_path / "out" / "frontier" / "frontier_precincts.csv").exists()
