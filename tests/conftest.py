"""Shared fixtures: small controlled city graphs for mechanism and emergence tests."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import networkx as nx
import pytest
import yaml

from clustersim.model.schema_spinup import SpinUpParams

#: How long the run may wait at the end for threads that tests left running.
LINGER_SECONDS = 30

#: Flags for headless Debian Chromium on a machine without internet (see stack-notes):
#: without the background-networking flags it keeps trying to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str:
    """Debian's chromium, or a clear failure (CI installs it through scripts/bootstrap.sh)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(
            "chromium is not installed: the browser tests need it. "
            "Install it with `sudo apt-get install chromium` (CI: scripts/bootstrap.sh does)."
        )
    return path


def run_cli(args: list[str], cwd) -> subprocess.CompletedProcess:
    """Launch the ``clustersim`` command (``python -m clustersim.experiments.launch``) for real."""
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run(
        [sys.executable, "-m", "clustersim.experiments.launch", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def run_python(code: str, **env: str | None) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python process (a process that has imported nothing yet).

    ``env``: environment variables changed for it (None: unset). ``CLUSTERSIM_KERNELS``
    is unset unless given, so the process takes the kernels where numba is installed.
    """
    changed = {"CLUSTERSIM_KERNELS": None, **env}
    environ = {k: v for k, v in os.environ.items() if changed.get(k, v) is not None}
    environ.update({k: v for k, v in changed.items() if v is not None})
    return subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=300
    )


def ray_auth_env(tmp_path: Path) -> dict[str, str]:
    """The environment for Ray with token authentication ON, its token in ``tmp_path``.

    Nothing is written to ``~/.ray``; another Ray setting of the caller is not inherited.
    """
    token = tmp_path / "ray_auth_token"
    token.write_text(secrets.token_hex(32))
    token.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token))
    return env


def write_design(directory, **changes) -> Path:
    """A tiny comparison design (one town, two arms, 3 replicates) as ``<name>.yaml``."""
    raw = {
        "name": "tiny",
        "kind": "comparison",
        "title": "Tiny comparison",
        "root_seed": 5,
        "replicates": 3,
        "steps": 24,
        "baseline": "none",
        "n_jobs": 1,
        "sites": {
            "town": {
                "label": "Town of 5,000",
                "overrides": ["city=small_town", "city.population=5000"],
            }
        },
        "arms": {"none": ["plan=none"], "talent": ["policy=talent_attraction"]},
        "analysis": {"n_boot": 200},
    }
    raw.update(changes)
    path = Path(directory) / f"{raw['name']}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def uniform_city(
    n_nodes: int = 5,
    population: int = 4000,
    travel_time: float = 10.0,
    *,
    place: str = "Testville",
    complete: bool = True,
    **attrs: float,
) -> nx.Graph:
    """A city of identical nodes (same population, rent, amenity, ...), all within reach."""
    g = nx.complete_graph(n_nodes) if complete else nx.path_graph(n_nodes)
    g.graph["name"] = place
    values = {
        "rent": 400.0,
        "amenity": 0.4,
        "tech": 0.5,
        "vacant_space": 0.1,
        "university": 0,
        "openness": 0.5,
    }
    values.update(attrs)
    for i in g.nodes:
        g.nodes[i].update(
            name=f"{place} {i}",
            place=place,
            role="centre" if i == 0 else "district",
            population=population,
            x=float(i),
            y=0.0,
            **values,
        )
    for u, v in g.edges:
        g.edges[u, v].update(travel_time=travel_time, kind="road")
    return g


@pytest.fixture
def make_city():
    return uniform_city


#: The spin-up users get (``spin_up.months``'s default). Tests that check what users
#: see from month 0 on (stationarity, lever effects on a stationary town) pass
#: ``spin_up=STATIONARY``.
SPIN_UP_MONTHS = SpinUpParams().months
STATIONARY = {"months": SPIN_UP_MONTHS}


def _start_tests_from_the_drawn_state() -> None:
    """Unit tests start from the drawn initial state (``spin_up.months = 0``) by default.

    A spin-up runs 100 years of the model before month 0; most tests check a
    mechanism, a table or an error message and do not need the long-run state,
    and the suite would take an hour with it. This changes the field's default
    for this test process (before Hydra's ConfigStore reads the schema), so
    composed configs get it too, and ``tests/support/sitecustomize.py`` does the
    same in the commands the tests launch. Tests that need the stationary start
    ask for it explicitly (``spin_up=STATIONARY``, :func:`users_spin_up`).
    """
    _set_spin_up_default(0)


def _set_spin_up_default(months: int) -> None:
    SpinUpParams.__dataclass_fields__["months"].default = months
    defaults = list(SpinUpParams.__init__.__defaults__)
    defaults[0] = months
    SpinUpParams.__init__.__defaults__ = tuple(defaults)


@contextlib.contextmanager
def users_spin_up():
    """Within the block, ``spin_up.months`` defaults to what users get (the stationary start).

    For tests of what users see in places that build their own config (the app's
    lessons, the documented parameter table).
    """
    _set_spin_up_default(SPIN_UP_MONTHS)
    try:
        yield
    finally:
        _set_spin_up_default(0)


_start_tests_from_the_drawn_state()


@pytest.fixture(scope="session", autouse=True)
def spin_up_cache(tmp_path_factory):
    """The spin-up cache of this test run: a temporary folder, never the user's home.

    Set in the environment, so commands the tests launch use it too. The workers of
    ``pytest -n 2`` share it (the folder of the run that holds each worker's own): a
    spin-up one of them ran is read by the other (the stationarity checks and the
    lessons need the same small towns and metropolises, 100 years each), and one both
    need at once is run by one while the other waits for its file (the cache's lock).
    Tests of the cache itself use folders of their own.
    """
    base = tmp_path_factory.getbasetemp()
    run = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # popen-gw0 -> run
    folder = run / "spin-up-cache"
    folder.mkdir(exist_ok=True)
    support = str(Path(__file__).parent / "support")  # sitecustomize.py: drawn start
    path = os.pathsep.join(p for p in (support, os.environ.get("PYTHONPATH", "")) if p)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLUSTERSIM_CACHE_DIR", str(folder))
        patch.setenv("PYTHONPATH", path)
        patch.setenv("CLUSTERSIM_TESTS_DRAWN_START", "1")
        yield folder


#: Test modules that take minutes on the project's 2-core machines, slowest first (the
#: durations of 8 December 2026 on an AMD EPYC: 445, 315, 210, 145, 100, 95, 95 and 95 s).
#: They are collected first, and ``make test`` keeps that order (``--dist loadfile
#: --no-loadscope-reorder``), so the two workers take them first, one each in turn,
#: and the many quick modules fill in behind: neither worker is left alone at the end
#: with a module of several minutes. The app's lessons are not among them: they read the
#: small towns' and the metropolis's spin-ups that the stationarity checks ran.
SLOW_MODULES = (
    "tests/model/test_stationarity.py",
    "tests/experiments/test_execute.py",
    "tests/experiments/test_calibration.py",
    "tests/experiments/test_launchers.py",
    "tests/model/test_model.py",
    "tests/app/test_page.py",
    "tests/policy/levers/test_university_partnership.py",
    "tests/model/test_golden.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put the slow modules first (in their order), every other test after, as collected."""
    rank = {module: i for i, module in enumerate(SLOW_MODULES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(SLOW_MODULES)))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Fail the run, instead of hanging it, when a test leaves a non-daemon thread running.

    Python waits for every non-daemon thread before it exits, so one left stepping (as
    SolaraViz's Play loop did once when a browser test failed mid-play) would keep the
    test command, and CI, waiting forever. Threads get ``LINGER_SECONDS`` to end.
    """
    deadline = time.monotonic() + LINGER_SECONDS
    for thread in _non_daemon_threads():
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    left = _non_daemon_threads()
    if left:
        names = ", ".join(thread.name for thread in left)
        sys.stdout.flush()
        sys.stderr.write(
            f"tests left {len(left)} non-daemon thread(s) running after "
            f"{LINGER_SECONDS} s ({names}); exiting with failure instead of hanging\n"
        )
        sys.stderr.flush()
        os._exit(3)


def _non_daemon_threads() -> list[threading.Thread]:
    return [
        t
        for t in threading.enumerate()
        if t.is_alive() and not t.daemon and t is not threading.main_thread()
    ]
