"""docs/policies.md kept in sync with the code: lever tables, plans, the worked example.

Run ``python tests/policy/test_policies_doc.py`` to regenerate the lever tables in
docs/policies.md.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest
import yaml
from test_host import outside_the_interface
from test_registry import defaults_differ

from clustersim.policy import levers as lever_package
from clustersim.policy.registry import LEVERS, lever_table, register_package, settings_for

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "policies.md"
START, END = "<!-- lever:{}:start -->", "<!-- lever:{}:end -->"
EXAMPLE = re.compile(
    r"<!-- example:(\w+):start -->\s*```\w*\n(.*?)```\s*<!-- example:\1:end -->", re.S
)
REGENERATE = "regenerate them with: python tests/policy/test_policies_doc.py"


def doc_text() -> str:
    if not DOC.is_file():
        pytest.fail(f"{DOC} is missing")
    return DOC.read_text(encoding="utf-8")


def _table_in_doc(text: str, name: str) -> str:
    start, end = START.format(name), END.format(name)
    if text.count(start) != 1 or text.count(end) != 1:
        raise ValueError(f"docs/policies.md must contain {start} and {end} exactly once each")
    return text.split(start)[1].split(end)[0]


@pytest.mark.parametrize("name", sorted(LEVERS))
def test_lever_tables_in_docs_match_the_settings(name):
    text = doc_text()
    assert f"### `{name}`" in text, f"docs/policies.md has no section for {name}"
    try:
        table = _table_in_doc(text, name)
    except ValueError as error:
        pytest.fail(str(error))
    assert table.strip() == lever_table(name).strip(), (
        f"the {name} table in docs/policies.md differs from lever_table({name!r}); {REGENERATE}"
    )


def test_partner_town_plans_are_documented():
    text = doc_text()
    for plan in (ROOT / "configs" / "plan").glob("*.yaml"):
        if plan.stem != "none":
            assert f"`plan={plan.stem}`" in text, f"plan {plan.stem} is not in docs/policies.md"


def test_the_docs_name_modules_that_exist():
    text = doc_text()
    for path in re.findall(r"`((?:src|tests|configs)/[\w/.]+\.(?:py|yaml))`", text):
        if "fab_lab" not in path:
            assert (ROOT / path).is_file(), f"docs/policies.md names {path}, which does not exist"
    for dotted in re.findall(r"`(clustersim(?:\.\w+)+)", text):
        assert _resolve(dotted) is not None, f"docs/policies.md names {dotted}, which is not there"


def _resolve(dotted: str):
    """The module or object a dotted name in the docs names (None if there is none)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr, None)
        return obj
    return None


def test_the_worked_example_in_the_docs_runs(tmp_path, monkeypatch):
    """The "Writing a new lever" example: its module alone registers it; its YAML; its test."""
    blocks = dict(EXAMPLE.findall(doc_text()))
    assert set(blocks) == {"lever", "yaml", "test"}
    assert outside_the_interface(blocks["lever"]) == []
    # install the module as clustersim/policy/levers/fab_lab.py would be
    (tmp_path / "fab_lab.py").write_text(blocks["lever"], encoding="utf-8")
    monkeypatch.setattr(lever_package, "__path__", [*lever_package.__path__, str(tmp_path)])
    module_name = f"{lever_package.__name__}.fab_lab"
    try:
        assert "fab_lab" in register_package(lever_package.__name__, lever_package.__path__)
        lab = LEVERS["fab_lab"]
        assert (lab.label, lab.summary) == (
            "Fab lab",
            "Shared machines make the firms next to them more productive.",
        )
        config = yaml.safe_load(blocks["yaml"])
        assert list(config) == ["fab_lab"]
        assert defaults_differ("fab_lab", config["fab_lab"]) == []
        settings_for("fab_lab", config["fab_lab"])
        namespace: dict = {}
        exec(compile(blocks["test"], "docs/policies.md:test", "exec"), namespace)
        tests = [f for n, f in namespace.items() if n.startswith("test_") and callable(f)]
        assert tests
        for test in tests:
            test()
    finally:
        LEVERS.pop("fab_lab", None)
        sys.modules.pop(module_name, None)


def regenerate() -> None:
    """Rewrite every lever table between its markers in docs/policies.md."""
    text = DOC.read_text(encoding="utf-8")
    for name in LEVERS:
        old = _table_in_doc(text, name)
        start = START.format(name)
        text = text.replace(start + old, f"{start}\n{lever_table(name)}\n")
    DOC.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    regenerate()
    print(f"updated the lever tables in {DOC}")
