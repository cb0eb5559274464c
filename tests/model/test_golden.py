"""The restructured code reproduces the recorded result tables of 24 runs bit for bit.

The hashes in ``tests/data/golden_hashes.json`` were recorded before the model
was split into sub-packages and phases (``scripts/golden_hashes.py --write``);
a change that alters any result table fails here and must say why it changes
results (and record new hashes) in its own commit. The runs use the x86-64 AVX2
code paths of numpy and OpenBLAS the hashes were recorded on, whatever this CPU
offers (see the script's docstring).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "golden_hashes", ROOT / "scripts" / "golden_hashes.py"
)
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)
EXPECTED = json.loads(golden.GOLDEN.read_text())


def test_the_golden_set_is_complete():
    assert sorted(EXPECTED) == sorted(f"{c}/{p}/{s}" for c, p, s in golden.cases())


def golden_run(*flags: str) -> dict[str, dict[str, str]]:
    """The set's hashes, computed in a process on the AVX2 paths they were recorded on.

    numpy is already imported in this process (with the paths of this CPU), so the
    runs happen in ``scripts/golden_hashes.py --print``, which sets its environment.
    """
    if not golden.has_avx2():
        pytest.skip("golden hashes are recorded on x86-64 AVX2 paths; this machine has none")
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "golden_hashes.py"), "--print", *flags],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def hashes() -> dict[str, dict[str, str]]:
    return golden_run()


@pytest.fixture(scope="module")
def compiled_hashes() -> dict[str, dict[str, str]]:
    pytest.importorskip("numba")  # the extra clustersim[fast]; CI installs it
    return golden_run("--kernels")


@pytest.mark.parametrize(("city", "plan", "seed"), golden.cases())
def test_result_tables_are_identical_to_the_recorded_ones(hashes, city, plan, seed):
    assert hashes[f"{city}/{plan}/{seed}"] == EXPECTED[f"{city}/{plan}/{seed}"]


def test_every_compiled_kernel_in_every_month_gives_the_recorded_tables(compiled_hashes):
    assert compiled_hashes == EXPECTED


def test_the_hash_sees_a_single_changed_value():
    import pandas as pd

    table = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    changed = table.copy()
    changed.loc[1, "a"] = 2.0000000000000004
    assert golden.table_hash(table) != golden.table_hash(changed)
    assert golden.table_hash(table) == golden.table_hash(table.copy())
