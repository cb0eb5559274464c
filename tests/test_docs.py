"""Keep the docs true: docs/model.md in sync with the code, links that resolve, no outside sources,
and every code block of README.md and docs/*.md valid (YAML, designs, commands, Python).

Run ``python tests/test_docs.py`` to regenerate the parameter table in docs/model.md.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import io
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from urllib.parse import unquote

import pytest
import yaml

from clustersim.model.config import iter_parameters, parameter_table
from clustersim.model.sectors import SECTORS
from conftest import users_spin_up

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
    with users_spin_up():  # the documented defaults are what users get
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


# --------------------------------------------------------------- code blocks
# Every fenced code block of README.md and docs/*.md is checked, so an example can never
# again be invalid (issue 13): YAML parses (a design loads, checks and composes every run),
# every command is checked as the command itself would check it (nothing runs), Python
# compiles and names only what exists in clustersim (the small blocks also run, see below).
# A command line with a placeholder, `...` or `<like this>`, is illustrative and skipped.

DOC_PAGES = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
CODE_FENCE = re.compile(r"^\s*(```|~~~)\s*([\w+-]*)")
EXAMPLE_MARKER = re.compile(r"<!-- example:\w+:(start|end) -->")
PLACEHOLDER = re.compile(r"\.\.\.|<[^<>\s][^<>]*>")
SHELL_LANGUAGES = ("bash", "sh", "shell", "console")
PROMPT_LANGUAGES = ("text", "console", "")  # only `$ ` lines are commands, the rest is output
BIN_DIR = Path(sys.executable).parent
ERROR_LINE = re.compile(r"^(clustersim(?:-experiment)?): error: (.*)$")


class SnippetError(Exception):
    """What is wrong with a code block of the docs, in one line."""


@dataclass(frozen=True)
class CodeBlock:
    """A fenced code block: its page, the line of its opening fence, language and text.

    ``example`` marks a block between ``<!-- example:NAME:start/end -->`` markers, which
    its own test runs (tests/policy/test_policies_doc.py).
    """

    page: Path
    line: int
    language: str
    text: str
    example: bool = False

    def where(self, offset: int = 0) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line + 1 + offset}"


def code_blocks(path: Path) -> list[CodeBlock]:
    """Every fenced code block of a Markdown page, in order."""
    blocks, opened, example = [], None, False
    body: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fence = CODE_FENCE.match(line)
        if opened is None:
            marker = EXAMPLE_MARKER.search(line)
            if marker:
                example = marker.group(1) == "start"
            elif fence:
                opened, body = (number, fence.group(1), fence.group(2).lower()), []
        elif fence and fence.group(1) == opened[1] and not fence.group(2):
            blocks.append(CodeBlock(path, opened[0], opened[2], "\n".join(body) + "\n", example))
            opened = None
        else:
            body.append(line)
    return blocks


# ------------------------------------------------------------ commands


def command_lines(block: CodeBlock) -> list[tuple[int, str, list[str]]]:
    """(line offset, command, output lines) of a shell or prompt block.

    In ``bash`` blocks every line is a command (``\\`` continues it); in ``text`` blocks only
    lines starting with ``$ ``, followed by what the command prints.
    """
    prompted = block.language in PROMPT_LANGUAGES
    commands: list[tuple[int, str, list[str]]] = []
    pending, first = "", 0
    for offset, line in enumerate(block.text.splitlines()):
        if prompted and not pending:
            if not line.startswith("$ "):
                if commands:
                    commands[-1][2].append(line)
                continue
            line = line[2:]
        if not pending:
            first = offset
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        commands.append((first, pending + line, []))
        pending = ""
    return commands


def _without_comment(command: str) -> str:
    """A shell line without its comment: from a ``#`` that starts a word, outside quotes."""
    quote = None
    for i, char in enumerate(command):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or command[i - 1].isspace()):
            return command[:i]
    return command


def _simple_commands(command: str) -> list[list[str]]:
    """The words of each simple command of a shell line (split at ``&&``, ``||``, ``;``, ``|``)."""
    lexer = shlex.shlex(_without_comment(command), posix=True, punctuation_chars="&|;")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        words = list(lexer)
    except ValueError as error:  # an unclosed quote
        raise SnippetError(f"the shell cannot read it: {error}") from None
    simple: list[list[str]] = [[]]
    for word in words:
        if word and set(word) <= set("&|;"):
            simple.append([])
        else:
            simple[-1].append(word)
    return [[w for w in argv if w] for argv in simple if argv]


def _project_scripts() -> set[str]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return set(tomllib.load(f)["project"]["scripts"])


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", text, re.MULTILINE))


def check_clustersim(args: list[str]) -> None:
    """Check a ``clustersim`` command line as the command does before it runs anything."""
    from clustersim.errors import ClusterSimError
    from clustersim.experiments.launch import check_arguments

    try:
        check_arguments(args)
    except ClusterSimError as error:
        raise SnippetError(str(error)) from None


def check_experiment_command(args: list[str]) -> None:
    """Check a ``clustersim-experiment`` command line: options, design, sites, arms, overrides."""
    from clustersim.errors import ClusterSimError
    from clustersim.experiments import cli
    from clustersim.experiments.design import Design, available
    from clustersim.experiments.runner import compose_config

    usage = io.StringIO()
    try:
        with contextlib.redirect_stderr(usage):
            ns = cli._parse(args)
    except SystemExit:
        lines = usage.getvalue().strip().splitlines()
        raise SnippetError(lines[-1] if lines else "clustersim-experiment refuses it") from None
    if ns.command != "run" or getattr(ns, "design", None) is not None:
        return  # aggregate, report and list take a folder or nothing; --design a user's file
    if ns.name not in available():
        raise SnippetError(f"no experiment design {ns.name!r} (designs: {', '.join(available())})")
    hydra_overrides = [o for o in ns.overrides if o.lstrip("+~").startswith("hydra")]
    model_overrides = [o for o in ns.overrides if o not in hydra_overrides]
    try:
        design = Design.named(ns.name).with_changes(
            replicates=ns.replicates,
            steps=ns.steps,
            root_seed=ns.root_seed,
            n_jobs=ns.n_jobs,
            overrides=model_overrides,
            sites=ns.site,
            arms=ns.arm,
            samples=ns.samples,
        )
        _compose_first_run(design, compose_config)
    except ClusterSimError as error:
        raise SnippetError(str(error)) from None
    if ns.launcher != "local":
        check_clustersim(["--multirun", f"hydra/launcher={ns.launcher}", *hydra_overrides])
    elif hydra_overrides:
        raise SnippetError(f"{hydra_overrides[0]}: hydra.* overrides need a Hydra --launcher")


def _compose_first_run(design, compose_config) -> None:
    """Compose a design's first run; a calibration's or optimisation's site as it checks it."""
    if design.kind == "calibration":  # its runs are made by its search
        from clustersim.experiments.calibration_runs import check_site

        check_site(design)
        return
    if design.kind == "optimisation":
        from clustersim.experiments.optimisation_runs import check_site

        check_site(design)
        return
    spec = design.specs()[0]
    compose_config(spec.overrides, seed=spec.seed, steps=spec.steps, values=spec.values)


def _check_python_command(args: list[str]) -> None:
    if args[:2] == ["-m", "clustersim.experiments.launch"]:
        check_clustersim(args[2:])
    elif args[:1] == ["-m"] and len(args) > 1:
        if importlib.util.find_spec(args[1]) is None:
            raise SnippetError(f"python -m {args[1]}: no such module")
    elif args and args[0].endswith(".py") and not (ROOT / args[0]).is_file():
        raise SnippetError(f"python {args[0]}: no such file in the repository")


def check_command(command: str) -> None:
    """Check one shell line; raise SnippetError with what is wrong. Other tools pass."""
    if PLACEHOLDER.search(command):
        return  # illustrative: a placeholder stands for the reader's own value
    for argv in _simple_commands(command):
        while argv and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", argv[0]):
            argv = argv[1:]  # VAR=value before a command
        if not argv:
            continue
        program, args = argv[0], argv[1:]
        if program.startswith(".venv/bin/"):
            tool = program.removeprefix(".venv/bin/")
            if tool not in _project_scripts() and not (BIN_DIR / tool).exists():
                raise SnippetError(
                    f"{program}: no such command (pyproject.toml [project.scripts]: "
                    f"{', '.join(sorted(_project_scripts()))})"
                )
        name = Path(program).name
        if name == "clustersim":
            check_clustersim(args)
        elif name == "clustersim-experiment":
            check_experiment_command(args)
        elif name == "make":
            missing = [a for a in args if "=" not in a and a not in _make_targets()]
            if missing:
                raise SnippetError(f"make {missing[0]}: no such target in the Makefile")
        elif name in ("python", "python3"):
            _check_python_command(args)


def check_commands(block: CodeBlock) -> list[str]:
    """Problems of a shell or prompt block, one line each with its place.

    A command followed by ``clustersim: error: MESSAGE`` must be refused with MESSAGE.
    """
    problems = []
    for offset, command, output in command_lines(block):
        expected = next((m.group(2) for m in map(ERROR_LINE.match, output) if m), None)
        try:
            check_command(command)
        except SnippetError as error:
            if expected is None:
                problems.append(f"{block.where(offset)}: {command.strip()}: {error}")
            elif str(error) != expected:
                problems.append(
                    f"{block.where(offset)}: {command.strip()}: the docs show the error "
                    f"{expected!r}, the command says {str(error)!r}"
                )
        else:
            if expected is not None:
                problems.append(
                    f"{block.where(offset)}: {command.strip()}: the docs show an error "
                    f"({expected!r}) but the command accepts it"
                )
    return problems


# ------------------------------------------------------------ YAML and designs


def check_design(raw: dict) -> None:
    """Load a design as ``clustersim-experiment run`` does; compose each site and each arm.

    Every site is composed with the first arm, every arm at the first site (not the whole
    product, to stay quick).
    """
    from clustersim.errors import ClusterSimError
    from clustersim.experiments.design import Design
    from clustersim.experiments.runner import compose_config

    try:
        design = Design.from_mapping(raw)
        if design.kind in ("calibration", "optimisation"):  # their runs come from a search
            _compose_first_run(design, compose_config)
            return
        first_site, first_arm = next(iter(design.sites)), next(iter(design.arms))
        runs = {(site, first_arm) for site in design.sites}
        runs |= {(first_site, arm) for arm in design.arms}
        for site, arm in sorted(runs):
            spec = design.spec(site, arm, 0)
            compose_config(spec.overrides, seed=spec.seed, steps=spec.steps, values=spec.values)
    except ClusterSimError as error:
        raise SnippetError(str(error)) from None
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise SnippetError(f"not a valid design: {type(error).__name__}: {error}") from None


def check_yaml(block: CodeBlock) -> list[str]:
    """Problems of a YAML block: it must parse; a design (kind, sites or arms) must load."""
    try:
        data = yaml.safe_load(block.text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        offset = mark.line if mark is not None else 0
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        return [f"{block.where(offset)}: not valid YAML: {problem}"]
    if isinstance(data, dict) and ({"kind", "sites", "arms"} & set(data)):
        try:
            check_design(data)
        except SnippetError as error:
            return [f"{block.where()}: the experiment design is invalid: {error}"]
    return []


# ------------------------------------------------------------ Python


def _imported_modules(tree: ast.AST) -> dict[str, ModuleType]:
    """Local name -> module for every clustersim module (or name) a block imports.

    Raises:
        SnippetError: a clustersim module or name the block imports does not exist.
    """
    bound: dict[str, ModuleType] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] != "clustersim":
                    continue
                module = _import(alias.name)
                if alias.asname:
                    bound[alias.asname] = module
                else:
                    bound["clustersim"] = _import("clustersim")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] != "clustersim":
                continue
            module = _import(node.module)
            for alias in node.names:
                if hasattr(module, alias.name):
                    value = getattr(module, alias.name)
                else:
                    value = _import(f"{node.module}.{alias.name}")
                if isinstance(value, ModuleType):
                    bound[alias.asname or alias.name] = value
    return bound


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError:
        parent, _, child = name.rpartition(".")
        raise SnippetError(f"{parent or name} has no {child or 'module'} {name!r}") from None


def check_python(block: CodeBlock) -> list[str]:
    """Problems of a Python block: it must compile, and what it uses of clustersim exist."""
    try:
        tree = ast.parse(block.text, filename=block.where())
        compile(tree, block.where(), "exec")
    except SyntaxError as error:
        return [f"{block.where((error.lineno or 1) - 1)}: not valid Python: {error.msg}"]
    try:
        modules = _imported_modules(tree)
    except SnippetError as error:
        return [f"{block.where()}: {error}"]
    problems = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and not hasattr(modules[node.value.id], node.attr)
        ):
            module = modules[node.value.id].__name__
            problems.append(f"{block.where(node.lineno - 1)}: {module} has no {node.attr!r}")
    return problems


def check_block(block: CodeBlock) -> list[str]:
    """Problems of one code block (an empty list when it is valid or not checkable)."""
    if block.language in ("yaml", "yml"):
        return check_yaml(block)
    if block.language in ("python", "py"):
        return check_python(block)
    if block.language in SHELL_LANGUAGES or block.language in PROMPT_LANGUAGES:
        return check_commands(block)
    return []


def test_code_blocks_of_the_docs_are_valid() -> None:
    problems = [p for page in DOC_PAGES for block in code_blocks(page) for p in check_block(block)]
    assert not problems, "code blocks of the docs that do not work:\n" + "\n".join(problems)


def _block(text: str, language: str) -> CodeBlock:
    return CodeBlock(ROOT / "docs" / "example.md", 1, language, text)


_SITE = "name: x\nsites: {s: {overrides: [city=obidos]}}\n"

BROKEN_SNIPPETS = {
    "yaml": [
        ("name: x\narms:\n  festival: [policy=[festival]]\n", "not valid YAML"),
        (f"{_SITE}arms: {{none: [plan=none]}}\nbaseline: hub\n", "baseline must be one of"),
        (_SITE.replace("obidos", "atlantis") + "arms: {none: [plan=none]}\n", "atlantis"),
        (f"{_SITE}arms: {{none: [firm.no_such=1]}}\n", "no_such"),
    ],
    "bash": [
        (".venv/bin/clustersim steps=-5", "steps"),
        ("clustersim city=small_twon", "small_twon"),
        ("clustersim firm.agglomeration_cap=abc", "agglomeration_cap"),
        ("clustersim seed=0,1", ""),
        ("clustersim -m hydra/launcher=no_such_launcher seed=0,1", "no_such_launcher"),
        ("clustersim -m hydra/launcher=slurm hydra.launcher.partiton=cpu seed=1", "partiton"),
        ("clustersim-experiment run no_such_design", "no experiment design"),
        ("clustersim-experiment run scaling --no-such-option", "no-such-option"),
        ("clustersim-experiment run town_vs_metropolis --arm no_such_arm", "no_such_arm"),
        ("clustersim-experiment run scaling talent.revew_rate=0.5", "revew_rate"),
        ("clustersim-experiment run scaling --launcher slurm hydra.launcher.partiton=", "partiton"),
        (".venv/bin/no-such-tool --help", "no such command"),
        ("make no_such_target", "no such target"),
        ("python experiments/no_such_script.py", "no such file"),
        ("cd somewhere && .venv/bin/clustersim 'policy=[festival' ", ""),
    ],
    "text": [
        ("$ clustersim steps=12\nclustersim: error: steps must be >= 1\n", "accepts it"),
        ("$ clustersim steps=-5\nclustersim: error: something else\n", "the docs show"),
    ],
    "python": [
        ("def f(:\n    pass\n", "not valid Python"),
        ("from clustersim import no_such_name\n", "no_such_name"),
        ("import clustersim.no_such_module\n", "no_such_module"),
        ("from clustersim.experiments import analysis\nanalysis.no_such_function()\n", "no_such"),
    ],
}


@pytest.mark.parametrize(
    ("language", "text", "says"),
    [(lang, text, says) for lang, cases in BROKEN_SNIPPETS.items() for text, says in cases],
)
def test_the_code_block_checker_refuses_a_broken_snippet(language, text, says) -> None:
    problems = check_block(_block(text, language))
    assert problems, f"the checker accepted a broken {language} snippet: {text!r}"
    assert says in "\n".join(problems), problems
    assert all(p.startswith("docs/example.md:") for p in problems), problems


def test_the_code_block_checker_accepts_valid_and_illustrative_snippets() -> None:
    valid = {
        "bash": "git clone <your fork> x && cd x   # illustrative: skipped\n"
        "export RAY_AUTH_MODE=token  # the cluster's token\n"
        ".venv/bin/clustersim city=obidos 'policy=[festival]' steps=12\n"
        "clustersim -m seed=0,1 \\\n    '+replicate=range(0,2)' hydra.sweep.dir=/tmp/x\n"
        "clustersim-experiment run scaling --replicates 2 ...   # a placeholder\n",
        "text": "$ clustersim steps=-5\nclustersim: error: steps must be >= 1 and <= 2400, got -5\n"
        "output that is not a command\n",
        "yaml": "fab_lab:\n  start: 12\n",
        "python": "import clustersim\nresult = clustersim.simulate\n",
    }
    for language, text in valid.items():
        assert check_block(_block(text, language)) == [], (language, text)


def test_code_blocks_are_found_with_their_language_and_line(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# T\n\n```yaml\na: 1\n```\n\n<!-- example:x:start -->\n```python\nx = 1\n```\n"
        "<!-- example:x:end -->\n\n~~~\n$ clustersim\n~~~\n",
        encoding="utf-8",
    )
    blocks = code_blocks(page)
    assert [(b.line, b.language, b.text, b.example) for b in blocks] == [
        (3, "yaml", "a: 1\n", False),
        (8, "python", "x = 1\n", True),
        (13, "", "$ clustersim\n", False),
    ]


RUN_PYTHON_BLOCKS = """
import json, sys
namespace = {"__name__": "__docs__"}
for where, code in json.load(sys.stdin):
    try:
        exec(compile(code, where, "exec"), namespace)
    except FileNotFoundError as error:
        path = str(error.filename or error)
        if not path.startswith("results/"):
            raise
        print(f"not run: {where} reads {path}, written by an experiment")
"""


def _pages_with_python() -> list[Path]:
    return [
        page
        for page in DOC_PAGES
        if any(b.language in ("python", "py") and not b.example for b in code_blocks(page))
    ]


@pytest.mark.slow
@pytest.mark.parametrize("page", _pages_with_python(), ids=lambda p: p.name)
def test_python_blocks_of_a_page_run_in_order(page: Path, tmp_path: Path) -> None:
    """A page's Python blocks run one after the other, as a reader would, in a new folder.

    The "Writing a new lever" example blocks are left to tests/policy/test_policies_doc.py;
    a block reading an experiment's outputs (``results/...``) is compiled and checked only.
    """
    blocks = [
        (b.where(), b.text)
        for b in code_blocks(page)
        if b.language in ("python", "py") and not b.example
    ]
    proc = subprocess.run(
        [sys.executable, "-c", RUN_PYTHON_BLOCKS],
        input=json.dumps(blocks),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, f"a Python block of {page.name} fails:\n{proc.stderr[-4000:]}"


def regenerate() -> None:
    """Rewrite the parameter table between the markers of docs/model.md."""
    head, _, tail = _split(DOC.read_text(encoding="utf-8"))
    with users_spin_up():
        table = parameter_table()
    DOC.write_text(f"{head}\n{table}\n{tail}", encoding="utf-8")


if __name__ == "__main__":
    regenerate()
    print(f"updated the parameter table in {DOC}")
