"""Keep the docs true: docs/model.md in sync with the code, links that resolve, no outside sources.

Run ``python tests/test_docs.py`` to regenerate the parameter table in docs/model.md.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest

from clustersim.model.config import iter_parameters, parameter_table
from clustersim.model.sectors import SECTORS

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "model.md"
EVIDENCE = ROOT / "docs" / "evidence.md"
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


# --------------------------------------------------------------- sources and links

CHECKED_PATHS = (
    "README.md",
    "docs",
    "configs",
    "src",
    "tests",
    "benchmarks",
    "experiments",
    "scripts",
)
# Citations of files that a clone of the repository does not have.
OUTSIDE_SOURCES = ("domain.md", "../shared", "shared/docs", "shared/seeds")
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"<a\s+(?:id|name)=[\"']([^\"']+)[\"']", re.IGNORECASE)
INLINE_CODE = re.compile(r"`+[^`]*`+")
INLINE_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")
EVIDENCE_ANCHOR = re.compile(r"evidence\.md#([\w-]+)")
EVIDENCE_SECTION = re.compile(r"evidence\.md, section ([^;:)\n]+)")


def _repository_text_files() -> list[Path]:
    """Text files of the checked folders that git tracks or would track (not ignored).

    This file is left out: its rules and their tests name the patterns they look for.
    """
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked files are unknown")
    listed = subprocess.run(
        [git, "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", *CHECKED_PATHS],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    files = []
    for name in sorted(set(filter(None, listed.split("\0")))):
        path = ROOT / name
        if path.resolve() == Path(__file__).resolve():
            continue
        if path.is_file() and b"\0" not in path.read_bytes()[:8192]:
            files.append(path)
    return files


def _prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of a Markdown text outside fenced code blocks."""
    lines, fenced = [], False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append((number, line))
    return lines


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lowercase, punctuation dropped, spaces to hyphens.

    >>> github_anchor("7.4 Agglomeration benefit")
    '74-agglomeration-benefit'
    >>> github_anchor("`creative_hub`")
    'creative_hub'
    """
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def markdown_anchors(path: Path) -> set[str]:
    """Every anchor a link into ``path`` may use (repeated headings get -1, -2, ...)."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in _prose_lines(path.read_text(encoding="utf-8")):
        anchors.update(HTML_ANCHOR.findall(line))
        match = HEADING.match(line)
        if match:
            anchor = github_anchor(match.group(2))
            count = seen.get(anchor, 0)
            seen[anchor] = count + 1
            anchors.add(anchor if count == 0 else f"{anchor}-{count}")
    return anchors


def _markdown_links(path: Path) -> list[tuple[int, str]]:
    """(line number, target) of every link and image in a Markdown file, code excluded."""
    links = []
    for number, line in _prose_lines(path.read_text(encoding="utf-8")):
        prose = INLINE_CODE.sub("", line)
        targets = INLINE_LINK.findall(prose) + REFERENCE_LINK.findall(prose)
        links.extend((number, target) for target in targets)
    return links


def _broken_link(source: Path, target: str) -> str | None:
    """Why a relative link of ``source`` does not resolve, or None when it does."""
    if SCHEME.match(target):
        return None  # a web address or mail link: not checked here
    file_part, _, anchor = target.partition("#")
    linked = (source.parent / unquote(file_part)).resolve() if file_part else source
    if not linked.exists():
        return "no such file"
    if anchor and linked.suffix == ".md" and unquote(anchor) not in markdown_anchors(linked):
        return f"no heading with anchor #{anchor} in {linked.relative_to(ROOT)}"
    return None


def test_no_file_cites_a_file_outside_the_repository() -> None:
    """A clone must hold every source the docs and code cite (issue 8): use docs/evidence.md."""
    hits = []
    for path in _repository_text_files():
        for number, line in enumerate(
            path.read_text(encoding="utf-8", errors="replace").splitlines(), 1
        ):
            for pattern in OUTSIDE_SOURCES:
                if pattern in line:
                    hits.append(
                        f"{path.relative_to(ROOT)}:{number}: cites {pattern!r}: {line.strip()}"
                    )
    assert not hits, (
        "these lines cite a file outside the repository; cite a section of docs/evidence.md "
        "instead:\n" + "\n".join(hits)
    )


def test_relative_markdown_links_point_to_existing_files_and_headings() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        for number, target in _markdown_links(page):
            reason = _broken_link(page, target)
            if reason:
                broken.append(f"{page.relative_to(ROOT)}:{number}: ({target}): {reason}")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_link_checker_sees_broken_files_and_anchors(tmp_path: Path) -> None:
    page = ROOT / "docs" / "model.md"
    assert _broken_link(page, "evidence.md#calibration-targets") is None
    assert _broken_link(page, "#parameters") is None
    assert _broken_link(page, "https://example.org/missing") is None
    assert _broken_link(page, "no_such_page.md") == "no such file"
    assert "no heading" in (_broken_link(page, "evidence.md#no-such-section") or "")
    fenced = tmp_path / "fenced.md"
    fenced.write_text("# Title\n\n```\n# not a heading\n[x](missing.md)\n```\n", encoding="utf-8")
    assert markdown_anchors(fenced) == {"title"}
    assert _markdown_links(fenced) == []


def test_evidence_citations_name_existing_sections() -> None:
    """``evidence.md#anchor`` and ``evidence.md, section <heading>`` anywhere must resolve."""
    if not EVIDENCE.is_file():
        pytest.fail(f"{EVIDENCE} is missing")
    anchors = markdown_anchors(EVIDENCE)
    titles = {
        match.group(2).strip().lower()
        for _, line in _prose_lines(EVIDENCE.read_text(encoding="utf-8"))
        if (match := HEADING.match(line))
    }
    unknown = []
    for path in _repository_text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            for anchor in EVIDENCE_ANCHOR.findall(line):
                if anchor not in anchors:
                    unknown.append(f"{path.relative_to(ROOT)}:{number}: #{anchor}")
            for title in EVIDENCE_SECTION.findall(line):
                if title.strip().rstrip(".,").lower() not in titles:
                    unknown.append(f"{path.relative_to(ROOT)}:{number}: section {title.strip()!r}")
    assert not unknown, (
        "citations of docs/evidence.md that name no section of it (cite an anchor such as "
        "evidence.md#places, or 'docs/evidence.md, section Places' on one line):\n"
        + "\n".join(unknown)
    )


def regenerate() -> None:
    """Rewrite the parameter table between the markers of docs/model.md."""
    head, _, tail = _split(DOC.read_text(encoding="utf-8"))
    DOC.write_text(f"{head}\n{parameter_table()}\n{tail}", encoding="utf-8")


if __name__ == "__main__":
    regenerate()
    print(f"updated the parameter table in {DOC}")
