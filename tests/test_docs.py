"""Keep docs/model.md in sync with the code: parameter table, parameter paths, sectors.

Run ``python tests/test_docs.py`` to regenerate the parameter table in docs/model.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clustersim.model.config import iter_parameters, parameter_table
from clustersim.model.sectors import SECTORS

DOC = Path(__file__).resolve().parents[1] / "docs" / "model.md"
START = "<!-- parameters:start -->"
END = "<!-- parameters:end -->"
REGENERATE = "regenerate it with: python tests/test_docs.py"


def _doc_text() -> str:
    if not DOC.is_file():
        pytest.fail(f"{DOC} is missing")
    return DOC.read_text(encoding="utf-8")


def _split(text: str) -> tuple[str, str, str]:
    """(before the start marker incl., table between the markers, end marker and after)."""
    if text.count(START) != 1 or text.count(END) != 1:
        raise ValueError(f"docs/model.md must contain {START} and {END} exactly once each")
    head, rest = text.split(START)
    table, tail = rest.split(END)
    if "\n## Parameters\n" not in head:
        raise ValueError("the parameter markers must follow a '## Parameters' heading")
    return head + START, table, END + tail


def test_parameter_table_matches_config() -> None:
    try:
        _, table, _ = _split(_doc_text())
    except ValueError as error:
        pytest.fail(str(error))
    expected = parameter_table()
    assert table.strip() == expected.strip(), (
        "the parameter table in docs/model.md differs from "
        f"clustersim.model.config.parameter_table(); {REGENERATE}"
    )


def test_every_parameter_path_is_documented() -> None:
    text = _doc_text()
    missing = [path for path, _, _ in iter_parameters() if f"`{path}`" not in text]
    assert not missing, f"parameters missing from docs/model.md: {missing}; {REGENERATE}"


def test_sector_table_matches_sectors() -> None:
    text = _doc_text()
    for s in SECTORS:
        row = (
            rf"\|\s*`{re.escape(s.key)}`\s*\|\s*{re.escape(s.label)}\s*\|\s*{s.weight:.2f}\s*"
            rf"\|\s*{s.local_share:.1f}\s*\|\s*{'yes' if s.digital else 'no'}\s*\|"
        )
        assert re.search(row, text), (
            f"sector {s.key!r} (weight {s.weight}, local share {s.local_share}, "
            f"digital {s.digital}) is missing or different in the sector table of docs/model.md"
        )


def regenerate() -> None:
    """Rewrite the parameter table between the markers of docs/model.md."""
    head, _, tail = _split(DOC.read_text(encoding="utf-8"))
    DOC.write_text(f"{head}\n{parameter_table()}\n{tail}", encoding="utf-8")


if __name__ == "__main__":
    regenerate()
    print(f"updated the parameter table in {DOC}")
