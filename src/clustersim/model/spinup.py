"""Spin-up: run the model without policy until month 0 is its own long-run state, and cache it.

:func:`spin_up` is called by the model's constructor once the initial state is
drawn and before any policy exists. It runs ``spin_up.months`` ordinary months
(:func:`run_spin_up`), then makes their end month 0 (:func:`restart_clock`):
the clock restarts, time stamps are shifted, the agent tables keep only the
agents alive at that moment (so result tables hold the agents of month 0 and
later) and the records are emptied. The end state is cached as plain numpy
arrays (:func:`snapshot`, :func:`restore`; files in
:mod:`~clustersim.model.spinup_cache`), so a sweep pays the spin-up once per
config and seed; a model restored from the cache continues exactly like one
that ran the spin-up itself.
"""

from __future__ import annotations

import json
import logging
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from mesa import Model

from clustersim.model import kernels, spinup_cache
from clustersim.model.agent_rows import AgentRows
from clustersim.model.bulk_agents import move_to_end
from clustersim.model.compaction import AGENT_ROWS, Archive, compact, state_tables, table_like
from clustersim.model.phases import recording
from clustersim.model.state import AgentTable

__all__ = [
    "MONTH_COLUMNS",
    "SENTINEL_MONTH_COLUMNS",
    "restart_clock",
    "restore",
    "run_spin_up",
    "snapshot",
    "spin_up",
]

_log = logging.getLogger(__name__)

#: Columns holding a month, by table: shifted by ``-months`` when the clock restarts.
MONTH_COLUMNS: dict[str, tuple[str, ...]] = {
    "talents": ("arrived", "left"),
    "firms": ("founded", "exit_step", "incubated_since"),
}
#: Month columns where -1 means "not (yet)": only values >= 0 are shifted.
SENTINEL_MONTH_COLUMNS: dict[str, tuple[str, ...]] = {
    "talents": ("left",),
    "firms": ("exit_step", "incubated_since"),
}
#: Model attributes that are not state, or that the spin-up sets itself.
_NOT_STATE = frozenset(
    {
        "steps",
        "time",
        "agent_id_counter",
        "params",
        "spin_up_months",
        "spin_up_source",
        "archive",
        "datacollector",  # Mesa's, made anew by the spin-up and when the clock restarts
        *AGENT_ROWS.values(),
    }
)
#: How deep snapshot() looks into the model's own objects (market, municipality, ...).
_DEPTH = 2


# ------------------------------------------------------------------ spin-up
def spin_up(model: Model, seed: Any, *, step: Callable[[Model], None] | None = None) -> None:
    """Reach month 0: run ``spin_up.months`` months, or restore their end from the cache.

    Sets ``model.spin_up_months`` and ``model.spin_up_source`` (``"run"``,
    ``"cache"`` or ``"none"``). The cache is used only for a model seeded with an
    integer (a Generator or fresh entropy gives no reproducible key); a cache file
    that cannot be read or restored is ignored, and overwritten by the run. While
    one process runs a spin-up, others needing the same one wait for its file
    (parallel runs of a sweep pay for it once).

    Args:
        model: a model whose initial state is drawn and that has no policy yet.
        seed: the ``rng`` the model was built with.
        step: the monthly process to run (default ``model.step()``); the model's
            constructor passes its own class's, so that a subclass's ``step``
            (which may need attributes its constructor sets later) never runs
            during the spin-up.
    """
    params = model.params.spin_up
    months = int(params.months)
    model.spin_up_months = months
    model.spin_up_source = "none"
    if months == 0:
        return
    seeded = isinstance(seed, numbers.Integral) and not isinstance(seed, bool)
    if not (params.cache and seeded):
        run_spin_up(model, months, step=step)
        model.spin_up_source = "run"
        return
    path = spinup_cache.cache_path(spinup_cache.cache_key(model, int(seed), months))
    with spinup_cache.locked(path):
        if _restore_cached(model, path):
            model.spin_up_source = "cache"
            return
        run_spin_up(model, months, step=step)
        model.spin_up_source = "run"
        spinup_cache.save(path, snapshot(model))


def _restore_cached(model: Model, path: Any) -> bool:
    """Restore the cached end state at ``path``; False (state untouched) when there is none."""
    arrays = spinup_cache.load(path)
    if arrays is None:
        return False
    before = snapshot(model)
    try:
        restore(model, arrays)
    except Exception as exc:  # a damaged file of the right name: back to the drawn state
        _log.warning("ignoring spin-up cache %s (%s); running the spin-up", path, exc)
        restore(model, before)
        return False
    return True


def run_spin_up(model: Model, months: int, *, step: Callable[[Model], None] | None = None) -> None:
    """Run ``months`` months without policy before month 0, then make their end month 0.

    Args:
        model: a model whose initial state is drawn and that has no policy yet.
        months: months to run (0 does nothing).
        step: the monthly process to run, called as ``step(model)`` after Mesa's
            step count and time advanced (default: ``model.step()``, Mesa's own step).

    A spin-up of ``kernels.SPIN_UP_MONTHS`` months or more runs the compiled kernels
    (where numba is installed) from its first month: the same months, sooner.

    Raises:
        RuntimeError: the model has policies already (a spin-up runs without policy).
    """
    if months <= 0:
        return
    if getattr(model, "policies", None):
        raise RuntimeError("the spin-up runs before any policy exists")
    if months >= kernels.SPIN_UP_MONTHS:  # it repays numba's import whatever the city's size
        kernels.prefer()
    # the spin-up's rows and accounts would be thrown away at month 0: its months clear
    # the ledger's bookings but close no accounts and write no rows (recording cost 7-14 %
    # of a month); the lists exist for a step that writes anyway (a subclass's own)
    model.records, model.place_records = [], []
    model.datacollector = recording.datacollector()
    if not hasattr(model, "attraction_requests"):
        model.attraction_requests = []
    model.recording_rows = False
    try:
        for _ in range(months):
            if step is None:
                model.step()
            else:  # Mesa's clock advances as in its own step; restart_clock resets it after
                model.steps += 1
                model.time += 1.0
                step(model)
    finally:
        del model.recording_rows
    restart_clock(model)


# ------------------------------------------------------------ restart clock
def restart_clock(model: Model) -> None:
    """Make now month 0: clock at 0, time stamps shifted, tables compacted, records empty.

    The tables keep only the rows alive now (renumbered in order; every id
    reference follows, a firm's ``parent`` becomes -1 when the parent is gone),
    the Mesa agents of those rows keep their order and get the ids
    ``agent_id_counter - k ... agent_id_counter - 1`` (as :func:`restore` builds
    them), each list attribute named ``*records`` and the DataCollector start
    empty, and the month's flow counters are zero.
    """
    months = int(model.steps)
    compact(model, archive=False)
    _shift_months(model, months)
    _renumber_agents(model)
    _restart_mesa_clock(model)
    for name, value in list(vars(model).items()):
        if name.endswith("records") and isinstance(value, list):
            setattr(model, name, [])
    if hasattr(model, "datacollector"):
        model.datacollector = recording.datacollector()
    recording.start_month(model)


def _shift_months(model: Model, months: int) -> None:
    """Shift every month column by ``-months`` (sentinel columns only where >= 0)."""
    tables = state_tables(model)
    for name, columns in MONTH_COLUMNS.items():
        table = tables.get(name)
        if table is None:
            continue
        for column in columns:
            values = getattr(table, column)
            if column in SENTINEL_MONTH_COLUMNS.get(name, ()):
                setattr(table, column, np.where(values >= 0, values - months, values))
            else:
                setattr(table, column, values - months)


def _agent_rows(model: Model) -> list[AgentRows]:
    """The Mesa agents of the tables' rows, talents then firms."""
    return [getattr(model, attr) for attr in AGENT_ROWS.values()]


def _renumber_agents(model: Model) -> None:
    """Give the agents of the rows the last ``k`` ids before ``agent_id_counter``, in order.

    They also become the last members of the model's agent sets in that order, as
    :func:`restore` builds them, so ``model.agents`` lists the same agents in the same
    order whether month 0 was run or read from the cache.
    """
    rows = _agent_rows(model)
    first = model.agent_id_counter - sum(len(r.living()) for r in rows)
    for r in rows:
        first = r.renumber(first)
    move_to_end(model, [agent for r in rows for agent in r.made()])


def _restart_mesa_clock(model: Model) -> None:
    """Set Mesa's step count and time to 0; its step schedule fires next at time 1."""
    model.steps = 0
    schedule = getattr(model, "_default_schedule", None)
    if schedule is not None:
        schedule.stop()
    if hasattr(model, "time"):
        model.time = 0.0
    if schedule is not None:
        schedule.start()


# -------------------------------------------------------- snapshot/restore
def snapshot(model: Model) -> dict[str, np.ndarray]:
    """The model's dynamic state as plain numpy arrays (loads with ``allow_pickle=False``).

    It holds every array, number and flag the model keeps as an attribute, the
    columns and row count of every agent table, the arrays, numbers and
    number-valued dicts of the model's own objects (``model.market``, the
    municipality, ...), ``agent_id_counter``, and the state of every random
    generator: a numpy generator's ``bit_generator.state`` and Python's
    ``random.getstate()`` as JSON text (PCG64's integers exceed 64 bits).
    Lists (institutions, policies, records) and the city graph are not state a
    month without policy changes.

    Raises:
        TypeError: an array attribute holds Python objects (it cannot be stored plainly).
    """
    out: dict[str, np.ndarray] = {"counter:agent_id": np.array(model.agent_id_counter)}
    for name, table in state_tables(model).items():
        out[f"rows:{name}"] = np.array(table.n, dtype=np.int64)
        for column in table.columns:
            out[f"t:{name}:{column}"] = getattr(table, column)
    _capture(model, "model", out, depth=0)
    out["random:random"] = np.array(json.dumps(model.random.getstate()))
    return out


def _capture(obj: Any, path: str, out: dict[str, np.ndarray], *, depth: int) -> None:
    """Store the arrays, numbers, flags and number dicts among ``obj``'s attributes."""
    for name, value in list(vars(obj).items()):
        if name.startswith("_") or name == "model" or (depth == 0 and name in _NOT_STATE):
            continue
        key = f"{path}.{name}"
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                raise TypeError(f"{key} holds Python objects: the spin-up cannot store it")
            out[f"a:{key}"] = value
        elif isinstance(value, np.random.Generator):
            out[f"rng:{key}"] = np.array(json.dumps(value.bit_generator.state))
        elif isinstance(value, bool | int | float) and not isinstance(value, np.generic):
            out[f"s:{key}"] = np.array(value)
        elif isinstance(value, np.generic):
            out[f"np:{key}"] = np.array(value)
        elif type(value) is dict and _number_dict(value):
            out[f"dk:{key}"] = np.array(list(value), dtype=str)
            out[f"dv:{key}"] = np.array(list(value.values()), dtype=np.float64)
        elif depth < _DEPTH and _own_object(value):
            _capture(value, key, out, depth=depth + 1)


def _number_dict(value: dict) -> bool:
    """Whether a dict maps text to numbers (a booking such as spend by policy)."""
    return all(
        isinstance(k, str) and isinstance(v, numbers.Real) and not isinstance(v, bool)
        for k, v in value.items()
    )


def _own_object(value: Any) -> bool:
    """Whether ``value`` is one of the model's own state objects (not a model, table or list)."""
    module = type(value).__module__ or ""
    return (
        module.startswith("clustersim.model")
        and not isinstance(value, Model | AgentTable)
        and hasattr(value, "__dict__")
    )


def restore(model: Model, arrays: dict[str, np.ndarray]) -> None:
    """Put the state of :func:`snapshot` into ``model`` (built from the same config and seed).

    Tables are rebuilt from their columns, attributes set, the Mesa agents of the
    living table rows rebuilt (the model's own are removed), and the random
    generators set to the stored states.

    Raises:
        KeyError, ValueError, TypeError: ``arrays`` is not a snapshot of this model.
    """
    arrays = dict(arrays)
    counter = int(arrays.pop("counter:agent_id"))
    random_state = json.loads(str(arrays.pop("random:random")))
    tables = state_tables(model)
    for name, table in tables.items():
        n = int(arrays.pop(f"rows:{name}"))
        columns = {c: np.array(arrays.pop(f"t:{name}:{c}")) for c in table.columns}
        if any(len(v) != n for v in columns.values()):
            raise ValueError(f"table {name}: columns of another length than {n}")
        setattr(model, name, table_like(table, columns))
    for key, value in arrays.items():
        kind, _, path = key.partition(":")
        _set(model, kind, path, value, arrays)
    _rebuild_agents(model, counter)
    model.archive = Archive()  # a snapshot is of month 0: nothing archived yet
    model.random.setstate(_random_state(random_state))


def _set(model: Model, kind: str, path: str, value: np.ndarray, arrays: dict) -> None:
    """Set the attribute at ``path`` (``model.a.b``) from a stored array of ``kind``."""
    parts = path.split(".")
    if parts[0] != "model" or len(parts) < 2:
        raise KeyError(f"unknown snapshot entry {kind}:{path}")
    owner = model
    for part in parts[1:-1]:
        owner = getattr(owner, part)
    name = parts[-1]
    if kind == "a":
        new: Any = np.array(value)
    elif kind == "s":
        new = value.item()
    elif kind == "np":
        new = value[()]
    elif kind == "dk":
        new = dict(zip(value.tolist(), arrays[f"dv:{path}"].tolist(), strict=True))
    elif kind == "dv":
        return
    elif kind == "rng":
        getattr(owner, name).bit_generator.state = json.loads(str(value))
        return
    else:
        raise KeyError(f"unknown snapshot entry {kind}:{path}")
    object.__setattr__(owner, name, new)  # the model's frozen dataclasses (market) too


def _rebuild_agents(model: Model, counter: int) -> None:
    """Replace the Mesa agents of the table rows by new ones ending at id ``counter``."""
    tables = state_tables(model)
    for name, attr in AGENT_ROWS.items():  # as agent.remove() for each, in bulk
        getattr(model, attr).clear(model, tables[name].n)
    alive = {name: np.flatnonzero(tables[name].alive) for name in AGENT_ROWS}
    model.agent_id_counter = counter - sum(len(rows) for rows in alive.values())
    for name, attr in AGENT_ROWS.items():
        getattr(model, attr).add(model, alive[name])
    if model.agent_id_counter != counter:
        raise ValueError("agent ids do not add up to the stored counter")


def _random_state(state: list) -> tuple:
    """Python's ``random.getstate()`` from its JSON form (lists back to tuples)."""
    version, internal, gauss = state
    return (version, tuple(internal), gauss)
