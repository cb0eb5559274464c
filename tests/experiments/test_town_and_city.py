"""experiments/town_and_city.py: a town next to a city against the city, in four tables."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "town_and_city", ROOT / "experiments" / "town_and_city.py"
)
tc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tc)


def test_founders_and_start_ups_are_counted_by_place():
    history = tc.firm_history("region", 0, 3, [])
    founders = tc.founder_table([history])
    assert list(founders["place"]) == history["places"]
    assert founders["founders"].sum() > 0
    assert founders["stay"].dropna().between(0, 1).all()
    fates = tc.start_up_table([history])
    assert fates["start_ups"].sum() == len(history["start_ups"]) > 0
    assert fates["survive_3y"].between(0, 1).all() and (fates["peak"] >= 1).all()


def test_the_utility_terms_add_up_and_the_size_term_is_zero_by_default():
    model = tc.build("region", 0, [])
    terms = tc.utility_terms(model)
    parts = ["income", "amenity", "openness", "rent", "ties", "size"]
    assert (terms[parts].sum(axis=1) - terms["sum"]).abs().max() < 1e-9
    assert (terms["size"] == 0).all() and (terms["rent"] < 0).all()
    assert (tc.unit_terms(model)[["local_price", "external_price"]] > 0).all().all()


def test_writes_four_tables_and_refuses_a_town_alone_or_a_lever(tmp_path, capsys):
    out = tmp_path / "tc"
    args = ["--city", "region", "--seeds", "1", "--years", "1", "--n-jobs", "1"]
    assert tc.main([*args, "--out", str(out)]) == 0
    assert (out / "town_and_city.md").read_text().count("### ") == 4
    empty = tmp_path / "none"
    assert tc.main(["--city", "small_town", "--out", str(empty)]) == 2
    assert tc.main(["--set", "plan=talent_first", "--out", str(empty)]) == 2
    assert tc.main(["--city", "nowhere", "--out", str(empty)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and "a town alone" in err[0] and "without policy" in err[1]
    assert not empty.exists()
