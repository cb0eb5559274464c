"""CreativeClusterModel: the Mesa model wiring the city, the agents and the monthly phases.

One step is one month. State lives in numpy arrays (``model.talents``,
``model.firms`` and node arrays); Mesa agents are the per-agent face of those
arrays. :meth:`CreativeClusterModel.step` runs the phases of
:mod:`clustersim.model.phases` in the order of the process overview: policies
act, fields refresh (amenity, knowledge), firms produce and pay, the labour
market clears, firms exit and enter, talents move, rents adjust, collaboration
ties form, outcomes are recorded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import mesa
import networkx as nx
import numpy as np
from mesa.discrete_space import Network
from omegaconf import DictConfig

from clustersim.errors import ConfigError, did_you_mean
from clustersim.model import agent_rows, compaction, setup, spinup, tables
from clustersim.model.agent_rows import AgentRows
from clustersim.model.agents import CreativeFirm, CulturalInstitution, Incubator, Talent
from clustersim.model.blas import one_thread as one_blas_thread
from clustersim.model.city import build_city_graph, city_config_from_name, validate_city_graph
from clustersim.model.config import (
    REGION_FIELDS,
    CityConfig,
    SimConfig,
    from_dictconfig,
    validate,
)
from clustersim.model.hooks import PolicyAgent, policy_plugin
from clustersim.model.memory import keep_freed_memory
from clustersim.model.phases import (
    accounts,
    demography,
    fields,
    labour,
    moves,
    policies,
    production,
    recording,
    rents,
    ties,
)
from clustersim.model.phases.aggregates import Census, talent_income
from clustersim.model.sectors import SECTOR_NAMES, sector_arrays
from clustersim.model.state import FIRM_COLUMNS, TALENT_COLUMNS, AgentTable

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CreativeClusterModel"]

_PARAM_GROUPS = (
    "talent",
    "labour",
    "firm",
    "market",
    "rent",
    "network",
    "institutions",
    "metrics",
    "households",
    "spin_up",
)


def _params_from(kwargs: Mapping[str, Any], base: SimConfig | None = None) -> SimConfig:
    """A SimConfig of ``base`` (default: the defaults) with keyword groups applied.

    A group is a dataclass (replaces the group) or a dict of overrides of its fields.
    """
    # a shallow copy: groups and the city are replaced, never changed in place
    cfg = SimConfig() if base is None else dataclasses.replace(base)
    for group in _PARAM_GROUPS:
        value = kwargs.get(group)
        if value is None:
            continue
        current = getattr(cfg, group)
        if dataclasses.is_dataclass(value):
            setattr(cfg, group, value)
        elif isinstance(value, Mapping):
            setattr(cfg, group, _replaced(group, current, value))
        else:
            raise ConfigError(
                f"{group} must be a mapping of parameters, got {type(value).__name__}"
            )
    return cfg


class CreativeClusterModel(mesa.Model):
    """Creative firms, talents and institutions on a city graph, one step per month.

    Args:
        city: a networkx city graph (see :mod:`clustersim.model.city`), a generator name
            ("small_town", "medium_city", "metropolis"), a preset key ("obidos", ...),
            a :class:`~clustersim.model.config.CityConfig` or a mapping of its fields
            (``{"kind": "region", "travel_time": 30.0}``: over the generator or preset
            its ``kind``/``preset`` names, else over the default city or that of
            ``config``); by default the city of ``config`` when one is given, else
            "small_town".
        population: population of the (focus) town when ``city`` is a name, a mapping
            without one or not given.
        rng: seed or numpy Generator; the model's only source of randomness. By
            default ``config.seed`` when a ``config`` is given (the same config and
            arguments give the same run, and its spin-up can come from the cache), else
            a fresh random seed.
        config: a whole :class:`~clustersim.model.config.SimConfig` to start from (the
            groups and ``policy`` given as well are applied on top of it; the caller's
            config is not changed).
        policy: lever settings by lever key (overrides ``config.policy``).
        talent, labour, firm, rent, network, institutions, metrics, spin_up: parameter
            groups, as the config dataclasses or as dicts of overrides.

    Month 0 is the end of a spin-up of ``spin_up.months`` months without policy
    (:mod:`clustersim.model.spinup`; from the cache when one exists):
    ``model.spin_up_months`` and ``model.spin_up_source`` tell how it was reached.

    Examples:
        >>> model = CreativeClusterModel(rng=42, city="small_town", population=5000)
        >>> model.run_for(3)
        >>> len(model.records)
        4
    """

    def __init__(
        self,
        *,
        city: nx.Graph | str | CityConfig | Mapping[str, Any] | None = None,
        population: int | None = None,
        rng: int | np.random.Generator | None = None,
        config: SimConfig | None = None,
        policy: Mapping[str, Mapping[str, Any]] | None = None,
        **groups: Any,
    ) -> None:
        unknown = set(groups) - set(_PARAM_GROUPS)
        if unknown:
            raise TypeError(f"unknown keyword argument {sorted(unknown)[0]!r}")
        one_blas_thread()  # the same bits in any process (blas.py), spin-up included
        keep_freed_memory()  # a big city's monthly arrays reuse freed memory (memory.py)
        if rng is None and config is not None:  # a config carries its run's seed
            rng = config.seed
        super().__init__(rng=rng)
        self.params = _config(city, population, config, policy, groups)
        if isinstance(city, nx.Graph):  # a caller's graph is copied: levers edit travel times
            graph = city.copy()
        else:
            seed = self.params.city.seed
            graph_rng = self.rng if seed is None else np.random.default_rng(seed)
            graph = build_city_graph(self.params.city, graph_rng)
        self.graph = validate_city_graph(graph)
        self.sector_traits = sector_arrays()
        self.n_sectors = len(SECTOR_NAMES)
        self.policies: list[PolicyAgent] = []
        setup.setup_nodes(self)
        self.space = Network(
            self.graph,
            capacity=None,
            random=self.random,
            layout={n: (d["x"], d["y"]) for n, d in self.graph.nodes(data=True)},
        )
        self.talents = AgentTable(TALENT_COLUMNS, capacity=1024)
        self.firms = AgentTable(FIRM_COLUMNS, capacity=256)
        #: the Mesa agents of the table rows (a talent's is made when someone reads it)
        self.talent_rows = AgentRows(Talent, lazy=True)
        self.firm_rows = AgentRows(CreativeFirm, lazy=True)
        agent_rows.live_cells(self.space, self._make_firm_agents)  # firms made when read
        #: collaboration ties: sorted pairs of firm ids, one row per tie
        self.ties = np.zeros((0, 2), dtype=np.int64)
        #: vacancies per firm still open after the last labour market (talents' prospects)
        self.open_vacancies = np.zeros(0, dtype=np.int64)
        setup.setup_institutions(self)
        if self.params.policy:  # a lever that cannot act here is refused before the spin-up
            policy_plugin().check_city(self, self.params.policy)
        setup.setup_talents_and_firms(self)
        recording.start_month(self)
        self.attraction_requests: list[moves.Request] = []
        # month 0: the end of a spin-up without policy; the spin-up steps this class's
        # monthly process, never a subclass's step (whose object is not built yet)
        spinup.spin_up(self, rng, step=CreativeClusterModel.step)
        self.export_demand_anchored = True  # outside demand's curve passes through month 0
        self.municipality.reset(self.params.institutions.municipality_budget)
        accounts.open_books(self)  # the ledger starts at month 0
        if self.params.policy:
            policy_plugin().build(self, self.params.policy)
        self.records: list[dict[str, float]] = []
        self.place_records: list[dict[str, Any]] = []
        self.datacollector = recording.datacollector()
        recording.record(self, Census.of(self))

    @classmethod
    def from_config(cls, cfg: SimConfig | DictConfig) -> CreativeClusterModel:
        """Build a model from a Hydra config or a validated SimConfig, seeded with ``cfg.seed``."""
        if isinstance(cfg, DictConfig):
            cfg = from_dictconfig(cfg)
        return cls(city=cfg.city, rng=cfg.seed, config=cfg)

    # ------------------------------------------------------------ Mesa agents
    @property
    def talent_agents(self) -> Sequence[Talent | None]:
        """The Mesa agent of each talent row (None when gone): ``talent_agents[i].index == i``.

        Talents' agents are made when someone reads ``model.agents``,
        ``model.agents_by_type[Talent]`` or this sequence
        (:class:`~clustersim.model.agent_rows.AgentRows`); read it again after a step.
        """
        self.talent_rows.make(self)
        return self.talent_rows.agents

    @property
    def firm_agents(self) -> Sequence[CreativeFirm | None]:
        """The Mesa agent of each firm row (None when gone): ``firm_agents[i].index == i``.

        Made, like talents', when someone reads them (this sequence, the model's agent
        sets or a cell's agents); read it again after a step.
        """
        self._make_firm_agents()
        return self.firm_rows.agents

    def _make_firm_agents(self) -> None:
        self.firm_rows.make(self)

    def count_agents(self) -> int:
        """``len(model.agents)`` without making the talents' and firms' agents."""
        return agent_rows.count_agents(
            self, self.__dict__.get("talent_rows"), self.__dict__.get("firm_rows")
        )

    def __getstate__(self) -> dict[str, Any]:
        # pickle and deepcopy: caches are left out (the copy rebuilds them, read-only)
        return {k: v for k, v in self.__dict__.items() if k != "_culture_cache"}

    # ------------------------------------------------------------------- step
    def step(self) -> None:
        """Advance the city by one month: the phases of the process overview, in order.

        A :class:`~clustersim.model.phases.aggregates.Census` of the tables is
        taken where production starts (the labour market reuses it) and again
        after the talents moved (rents, ties and recording reuse it). The month
        starts by compacting the agent tables when they hold more rows of agents
        gone than living ones (:mod:`clustersim.model.compaction`).
        """
        one_blas_thread()  # the same bits in any process (blas.py)
        compaction.maybe_compact(self)
        recording.start_month(self)
        policies.act(self)
        fields.refresh_fields(self)
        census = Census.of(self)
        production.produce(self, census, pay=True)
        accounts.pay_dividends(self)
        labour.clear_labour_market(self, census)
        demography.exit_firms(self)
        demography.enter_firms(self)
        moves.move_talents(self)
        census = Census.of(self)
        rents.update_rents(self, census)
        accounts.settle(self, census)
        ties.form_ties(self, census)
        recording.record(self, census)

    # ------------------------------------------------------ hooks for levers
    def set_travel_times_changed(self) -> None:
        """Recompute travel times and reach after edge travel times were edited in place."""
        fields.refresh_reach(self)

    def set_travel_time(self, u: int, v: int, minutes: float) -> None:
        """Change the travel time of edge (u, v) and recompute reach (the transport lever)."""
        if not self.graph.has_edge(u, v):
            raise ValueError(f"edge ({u}, {v}) is not in the city graph")
        if minutes <= 0:
            raise ValueError(f"travel time must be > 0 minutes, got {minutes}")
        self.graph.edges[u, v]["travel_time"] = float(minutes)
        fields.refresh_reach(self)

    def add_collaboration_ties(self, pairs: np.ndarray) -> int:
        """Add collaboration ties between living firms (pairs of firm ids); returns how many."""
        pairs = np.sort(np.asarray(pairs, dtype=np.int64).reshape(-1, 2), axis=1)
        alive = self.firms.alive
        pairs = pairs[(pairs[:, 0] != pairs[:, 1]) & alive[pairs[:, 0]] & alive[pairs[:, 1]]]
        if len(pairs) == 0:
            return 0
        # one int64 key per pair; self.ties is kept sorted by key and unique (filters keep
        # the order), so the new keys are merged in rather than everything sorted again
        weights = np.array([1 << 32, 1])
        old = self.ties @ weights
        new = np.unique(pairs @ weights)
        new = new[~_sorted_contains(old, new)]
        if len(new) == 0:
            return 0
        keys = np.insert(old, np.searchsorted(old, new), new)
        self.ties = np.stack([keys >> 32, keys & 0xFFFFFFFF], axis=1)
        return len(new)

    @property
    def collaboration(self) -> nx.Graph:
        """The firm collaboration network as a networkx graph (living firms, current ties).

        Its nodes are firm rows (``CreativeFirm.index``), which change when the tables
        are compacted: read it again after a step. Built on demand from the tie arrays
        the mechanisms use, so the monthly step does no per-tie Python work.
        """
        graph = nx.Graph()
        graph.add_nodes_from(int(i) for i in self.firms.live)
        graph.add_edges_from(map(tuple, self.ties.tolist()))
        return graph

    def add_incubator(self, node: int, capacity: int, **kwargs: Any) -> Incubator:
        """Open an incubator (creative hub) at ``node`` (used by the creative-hub lever)."""
        hub = Incubator(self, node, capacity, **kwargs)
        self.incubators.append(hub)
        return hub

    def close_incubator(self, hub: Incubator) -> None:
        """Close an incubator: its tenants lose their subsidised space and boost."""
        f = self.firms
        f.incubator[f.incubator == hub.unique_id] = -1
        self.incubators.remove(hub)
        hub.remove()

    def add_cultural_institution(self, node: int, strength: float) -> CulturalInstitution:
        """Open a cultural institution at ``node``; amenity around it rises from next month."""
        inst = CulturalInstitution(self, node, strength)
        self.cultural_institutions.append(inst)
        return inst

    def close_cultural_institution(self, inst: CulturalInstitution) -> None:
        """Close a cultural institution; amenity around it falls from next month."""
        self.cultural_institutions.remove(inst)
        inst.remove()

    def attract_talents(
        self,
        prospects: int,
        nodes: list[int],
        bonus: float,
        policy: Any,
        within: list[int] | None = None,
    ) -> None:
        """Queue prospective newcomers for this month's location choice.

        They choose like other newcomers (coming or not, and where) with an extra
        utility ``bonus`` at ``nodes``; ``policy.on_attracted(ids)`` receives the
        ids of those who came (relocation grants, artist residencies). With
        ``within`` they weigh only those nodes (a programme that recruits for one
        town); without, every node of the region.
        """
        if within is not None:
            within = np.unique(np.asarray(within, dtype=np.int64))
            if len(within) == 0 or within[0] < 0 or within[-1] >= self.n_nodes:
                raise ValueError(f"within must name nodes 0..{self.n_nodes - 1}, got {within}")
        request = moves.Request(int(prospects), list(nodes), float(bonus), policy, within)
        self.attraction_requests.append(request)

    # ----------------------------------------------------------------- tables
    def talent_income(self, ids: np.ndarray | None = None) -> np.ndarray:
        """Monthly income of talent rows ``ids`` (default all): wage if employed, else benefit."""
        return talent_income(self, ids)

    def firm_table(self) -> pd.DataFrame:
        """One row per firm ever created (pandas DataFrame)."""
        return tables.firm_table(self)

    def talent_table(self) -> pd.DataFrame:
        """One row per talent who ever lived in the region (pandas DataFrame)."""
        return tables.talent_table(self)

    def ledger_table(self) -> pd.DataFrame:
        """One row per month: each flow of money and each stock in EUR, and the residuals."""
        return tables.ledger_table(self)

    def policy_table(self) -> pd.DataFrame:
        """One row per policy: lever, timing, status, why it stopped, and what it spent."""
        return tables.policy_table(self)


def _config(
    city: nx.Graph | str | CityConfig | Mapping[str, Any] | None,
    population: int | None,
    config: SimConfig | None,
    policy: Mapping[str, Mapping[str, Any]] | None,
    groups: Mapping[str, Any],
) -> SimConfig:
    """The validated config of a model built from the constructor's arguments."""
    cfg = _params_from(groups, config)
    if policy is not None:
        cfg.policy = {
            name: dict(settings) if isinstance(settings, Mapping) else settings
            for name, settings in policy.items()
        }
    if city is None and config is None:
        city = "small_town"
    if isinstance(city, CityConfig):
        cfg.city = city
    elif isinstance(city, str):
        cfg.city = city_config_from_name(city, population)
    elif isinstance(city, Mapping):  # fields of a CityConfig, over the city they name
        fields = dict(city)
        if population is not None:
            fields.setdefault("population", population)
        cfg.city = _replaced("city", _named_base(fields, cfg.city), fields)
    elif city is None and population is not None:  # the config's own city, resized
        cfg.city = dataclasses.replace(cfg.city, population=population)
    elif city is not None and not isinstance(city, nx.Graph):
        raise ConfigError(
            "city must be a city name, a CityConfig, a mapping of its fields or a networkx "
            f"graph; got {type(city).__name__}"
        )
    validate(cfg)
    return cfg


def _named_base(fields: Mapping[str, Any], default: CityConfig) -> CityConfig:
    """The city a mapping of city fields starts from: the generator or preset it names."""
    kind, preset = fields.get("kind"), fields.get("preset")
    name = preset if kind == "preset" and isinstance(preset, str) else kind
    if isinstance(name, str) and name != "region":
        try:
            return city_config_from_name(name, None)  # its name and population
        except ConfigError:
            pass  # graphml, or a name validate() refuses with the allowed ones
    if isinstance(kind, str) and kind not in ("region", default.kind):
        # another kind over the config's city (graphml over a region): the region's own
        # settings do not carry over
        plain = CityConfig()
        return dataclasses.replace(default, **{f: getattr(plain, f) for f in REGION_FIELDS})
    return default


def _replaced(where: str, current: Any, fields: Mapping[str, Any]) -> Any:
    """``current`` (a config dataclass) with ``fields`` replaced; nested groups as mappings."""
    known = {f.name for f in dataclasses.fields(current)}
    for key in fields:
        if key not in known:
            raise ConfigError(
                f"{where}.{key} is not a known parameter of {where}{did_you_mean(str(key), known)}"
            )
    changed = {}
    for key, value in fields.items():
        group = getattr(current, key)
        if dataclasses.is_dataclass(group) and not isinstance(value, type(group)):
            if not isinstance(value, Mapping):
                raise ConfigError(
                    f"{where}.{key} is a group of parameters: a mapping of them or a "
                    f"{type(group).__name__}, got {value!r}"
                )
            value = _replaced(f"{where}.{key}", group, value)
        changed[key] = value
    return dataclasses.replace(current, **changed)


def _sorted_contains(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Whether each of ``keys`` is in ``sorted_keys`` (ascending).

    Examples:
        >>> _sorted_contains(np.array([2, 5, 9]), np.array([1, 5, 9, 10]))
        array([False,  True,  True, False])
    """
    at = np.minimum(np.searchsorted(sorted_keys, keys), max(len(sorted_keys) - 1, 0))
    return (sorted_keys[at] == keys) if len(sorted_keys) else np.zeros(len(keys), dtype=bool)
