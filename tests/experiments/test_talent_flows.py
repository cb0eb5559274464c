"""experiments/talent_flows.py: the flows of a place's talents add up, year by year."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from clustersim.model import compaction

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "talent_flows", ROOT / "experiments" / "talent_flows.py"
)
flows = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(flows)


@pytest.mark.parametrize("city", ["small_town", "region"])
def test_talents_at_the_end_of_a_year_are_the_start_plus_what_came_minus_what_left(city):
    rows = pd.DataFrame(flows.run_one(city, 0, 4, 0, []))
    came = rows[list(flows.IN_CHANNELS)].sum(axis=1)
    left = rows[list(flows.OUT_CHANNELS)].sum(axis=1)
    pd.testing.assert_series_equal(
        rows["talents_end"], rows["talents_start"] + came - left, check_names=False
    )
    assert (rows["talents_start"].iloc[1:].to_numpy() == rows["talents_end"].iloc[:-1]).all()
    assert came.sum() > 0 and left.sum() > 0
    if city == "region":  # talents move between the town and the city
        assert rows["in:moved_from_city"].sum() > 0 and rows["out:moved_to_city"].sum() > 0


def test_flows_follow_talents_by_id_through_the_tables_compactions(monkeypatch):
    """Rows are renumbered when the tables are compacted; the flows are the same."""
    monkeypatch.setattr(compaction, "MIN_DEAD_ROWS", 10**12)
    never = pd.DataFrame(flows.run_one("region", 1, 3, 0, []))
    monkeypatch.setattr(compaction, "MIN_DEAD_ROWS", 0)
    monkeypatch.setattr(compaction, "DEAD_SHARE", 0.05)  # nearly every month
    often = pd.DataFrame(flows.run_one("region", 1, 3, 0, []))
    pd.testing.assert_frame_equal(often, never)
    assert never[list(flows.OUT_CHANNELS)].to_numpy().sum() > 0


def test_a_bad_city_or_override_is_one_line_and_exit_2(tmp_path, capsys):
    assert flows.main(["--city", "nowhere", "--out", str(tmp_path)]) == 2
    assert flows.main(["--set", "talent.size_weight=-1", "--out", str(tmp_path)]) == 2
    assert flows.main(["--years", "0", "--out", str(tmp_path)]) == 2
    assert flows.main(["--set", "plan=talent_first", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 4 and "city must be one of" in err[0] and "size_weight" in err[1]
    assert "without policy" in err[3]
    assert not any(tmp_path.iterdir())  # nothing written
