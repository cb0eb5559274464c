"""CreativeClusterModel: the Mesa model wiring city, agents, mechanisms and metrics.

One step is one month. State lives in numpy arrays (``model.talents``,
``model.firms`` and node arrays); Mesa agents are the per-agent face of those
arrays. The order within a month is: policies act, fields refresh (amenity,
knowledge, reach), firms produce and pay, the labour market clears, firms
exit and enter, talents move, rents adjust, collaboration ties form, metrics
are recorded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import mesa
import networkx as nx
import numpy as np
from mesa.discrete_space import Network
from omegaconf import DictConfig

from clustersim.errors import ConfigError
from clustersim.model import city as city_module
from clustersim.model import mechanisms as mech
from clustersim.model import metrics
from clustersim.model.agents import (
    CreativeFirm,
    CulturalInstitution,
    Incubator,
    Municipality,
    Talent,
    University,
)
from clustersim.model.config import CityConfig, SimConfig, from_dictconfig, validate
from clustersim.model.hooks import PolicyAgent, policy_plugin
from clustersim.model.sectors import SECTOR_NAMES, sector_arrays
from clustersim.model.state import AgentTable

__all__ = ["ORIGINS", "CreativeClusterModel", "build_city_graph", "city_config_from_name"]

#: Codes of the ``origin`` column of the firm and talent tables.
ORIGINS = {
    "firm": ("initial", "spin-off", "start-up", "policy"),
    "talent": ("initial", "immigrant", "graduate", "local", "policy"),
}

_TALENT_COLUMNS = {
    "sector": (np.int16, 0),
    "skill": (np.float64, 1.0),
    "taste": (np.float64, 0.0),
    "home": (np.int32, -1),
    "employer": (np.int64, -1),
    "alive": (np.bool_, False),
    "arrived": (np.int32, 0),
    "left": (np.int32, -1),
    "left_region": (np.bool_, False),
    "origin": (np.int8, 0),
    "retention": (np.float64, 0.0),
    "grant": (np.float64, 0.0),
}

_FIRM_COLUMNS = {
    "sector": (np.int16, 0),
    "node": (np.int32, 0),
    "productivity": (np.float64, 1.0),
    "cash": (np.float64, 0.0),
    "founded": (np.int32, 0),
    "exit_step": (np.int32, -1),
    "alive": (np.bool_, False),
    "employees": (np.int32, 0),
    "peak_employees": (np.int32, 0),
    "revenue": (np.float64, 0.0),
    "profit": (np.float64, 0.0),
    "margin": (np.float64, 0.0),
    "origin": (np.int8, 0),
    "parent": (np.int64, -1),
    "innovations": (np.int32, 0),
    "incubator": (np.int64, -1),
    "incubated_since": (np.int32, -1),
    "ever_incubated": (np.int8, 0),
    "subsidy": (np.float64, 0.0),
    "market_reach": (np.float64, 1.0),
    "subsidy_received": (np.float64, 0.0),
}

_PARAM_GROUPS = ("talent", "labour", "firm", "rent", "network", "institutions", "metrics")


def build_city_graph(spec: CityConfig, rng: np.random.Generator) -> nx.Graph:
    """Build the city graph a :class:`~clustersim.model.config.CityConfig` describes."""
    if spec.kind in city_module.CITY_KINDS:
        return city_module.generate(spec.kind, spec.population, rng=rng, name=spec.name)
    if spec.kind == "region":
        town = city_module.generate(spec.town_kind, spec.population, rng=rng, name=spec.name)
        big = city_module.generate(
            spec.city_kind, spec.city_population, rng=rng, name=spec.city_name
        )
        return city_module.region(
            town, big, travel_time=spec.travel_time, distance_km=spec.distance_km
        )
    if spec.kind == "preset":
        return city_module.preset_region(spec.preset, rng=rng, population=spec.population)
    if spec.kind == "graphml":
        graph = city_module.load_graphml(spec.graphml)
        if spec.population is not None:
            _rescale_population(graph, spec.population)
        return graph
    raise ConfigError(
        f"city.kind must be one of {', '.join(city_module.CITY_KINDS)}; got {spec.kind!r}"
    )


def _rescale_population(graph: nx.Graph, total: int) -> None:
    """Scale node populations to ``total`` (largest remainders keep the sum exact)."""
    nodes = list(graph.nodes)
    pop = np.array([graph.nodes[n]["population"] for n in nodes], dtype=float)
    share = pop / pop.sum() * total if pop.sum() > 0 else np.full(len(pop), total / len(pop))
    base = np.floor(share).astype(int)
    extra = np.argsort(base - share)[: total - base.sum()]
    base[extra] += 1
    for n, value in zip(nodes, base, strict=True):
        graph.nodes[n]["population"] = int(value)


def _params_from(kwargs: Mapping[str, Any]) -> SimConfig:
    """Build a validated SimConfig from keyword groups (dataclasses or dicts of overrides)."""
    cfg = SimConfig()
    for group in _PARAM_GROUPS:
        value = kwargs.get(group)
        if value is None:
            continue
        current = getattr(cfg, group)
        if dataclasses.is_dataclass(value):
            setattr(cfg, group, value)
        elif isinstance(value, Mapping):
            unknown = set(value) - {f.name for f in dataclasses.fields(current)}
            if unknown:
                raise ConfigError(
                    f"{group}.{sorted(unknown)[0]} is not a known parameter of {group}"
                )
            setattr(cfg, group, dataclasses.replace(current, **value))
        else:
            raise ConfigError(
                f"{group} must be a mapping of parameters, got {type(value).__name__}"
            )
    return cfg


class CreativeClusterModel(mesa.Model):
    """Creative firms, talents and institutions on a city graph, one step per month.

    Args:
        city: a networkx city graph (see :mod:`clustersim.model.city`), a generator name
            ("small_town", "medium_city", "metropolis"), a preset key ("obidos", ...)
            or a :class:`~clustersim.model.config.CityConfig`.
        population: population of the (focus) town when ``city`` is a name.
        rng: seed or numpy Generator; the model's only source of randomness.
        talent, labour, firm, rent, network, institutions, metrics: parameter
            groups, as the config dataclasses or as dicts of overrides.
        config: a whole :class:`~clustersim.model.config.SimConfig` (overrides the groups).

    Examples:
        >>> model = CreativeClusterModel(rng=42, city="small_town", population=5000)
        >>> model.run_for(3)
        >>> len(model.records)
        4
    """

    def __init__(
        self,
        *,
        city: nx.Graph | str | CityConfig = "small_town",
        population: int | None = None,
        rng: int | np.random.Generator | None = None,
        config: SimConfig | None = None,
        policy: Mapping[str, Mapping[str, Any]] | None = None,
        **groups: Any,
    ) -> None:
        unknown = set(groups) - set(_PARAM_GROUPS)
        if unknown:
            raise TypeError(f"unknown keyword argument {sorted(unknown)[0]!r}")
        super().__init__(rng=rng)
        cfg = config if config is not None else _params_from(groups)
        if policy is not None:
            cfg.policy = {
                name: dict(settings) if isinstance(settings, Mapping) else settings
                for name, settings in policy.items()
            }
        if isinstance(city, CityConfig):
            cfg.city = city
        elif isinstance(city, str):
            cfg.city = city_config_from_name(city, population)
        validate(cfg)
        self.params = cfg
        # a caller's graph is copied: levers edit travel times in place
        self.graph = (
            city.copy() if isinstance(city, nx.Graph) else build_city_graph(cfg.city, self.rng)
        )
        self.graph = city_module.validate_city_graph(self.graph)
        self.sector_traits = sector_arrays()
        self.n_sectors = len(SECTOR_NAMES)
        self.policies: list[PolicyAgent] = []
        self._setup_nodes()
        self.space = Network(
            self.graph,
            capacity=None,
            random=self.random,
            layout={n: (d["x"], d["y"]) for n, d in self.graph.nodes(data=True)},
        )
        self.talents = AgentTable(_TALENT_COLUMNS, capacity=1024)
        self.firms = AgentTable(_FIRM_COLUMNS, capacity=256)
        self.talent_agents: list[Talent | None] = []
        self.firm_agents: list[CreativeFirm | None] = []
        self._edges = np.zeros((0, 2), dtype=np.int64)
        self._setup_institutions()
        self._setup_talents_and_firms()
        self._reset_counters()
        self._attraction_requests: list[tuple[int, list[int], float, Any]] = []
        if cfg.policy:
            policy_plugin().build(self, cfg.policy)
        self.records: list[dict[str, float]] = []
        self.place_records: list[dict[str, Any]] = []
        self._record()

    # ------------------------------------------------------------------ setup
    @classmethod
    def from_config(cls, cfg: SimConfig | DictConfig) -> CreativeClusterModel:
        """Build a model from a Hydra config or a validated SimConfig, seeded with ``cfg.seed``."""
        if isinstance(cfg, DictConfig):
            cfg = from_dictconfig(cfg)
        return cls(city=cfg.city, rng=cfg.seed, config=cfg)

    def _setup_nodes(self) -> None:
        g = self.graph
        n = g.number_of_nodes()
        attr = {
            k: np.array([g.nodes[i][k] for i in range(n)], dtype=float)
            for k in (
                "population",
                "rent",
                "amenity",
                "accessibility",
                "tech",
                "vacant_space",
                "university",
                "openness",
            )
        }
        self.n_nodes = n
        self.node_names = [g.nodes[i]["name"] for i in range(n)]
        self.place_names = city_module.place_names(g)
        self.place = np.array([self.place_names.index(g.nodes[i]["place"]) for i in range(n)])
        focus = self.params.city.focus or g.graph.get("focus") or self.place_names[0]
        if focus not in self.place_names:
            raise ConfigError(
                f"city.focus must be one of {', '.join(self.place_names)}; got {focus!r}"
            )
        self.focus_place = self.place_names.index(focus)
        self.focus_nodes = np.flatnonzero(self.place == self.focus_place)
        self.population0 = attr["population"]
        self.base_rent = attr["rent"].copy()
        self.rent = attr["rent"].copy()
        self.amenity_attr = attr["amenity"]
        self.accessibility = attr["accessibility"].copy()
        self.tech = attr["tech"].copy()
        self.openness = attr["openness"].copy()
        self.vacant_space0 = attr["vacant_space"]
        self.university_count = attr["university"].astype(int)
        # policy hooks: multipliers the levers act through (1 = no policy)
        self.amenity_bonus = np.zeros(n)
        self.demand_bonus = np.zeros(n)
        self.visitor_demand = np.zeros(n)
        self.rent_factor = np.ones(n)
        self.productivity_bonus = np.zeros(n)
        self.knowledge_multiplier = np.ones(n)
        self.retention_bonus = np.zeros(len(self.place_names))
        # extra utility of node j for a new graduate of a university in place p (placements)
        self.graduate_pull = np.zeros((len(self.place_names), n))
        self._set_travel_times()

    def _set_travel_times(self) -> None:
        """All-pairs shortest travel times (minutes) and the reach matrices derived from them."""
        lab = self.params.labour
        self.travel_time = nx.floyd_warshall_numpy(self.graph, weight="travel_time")
        self.commute_reach = mech.reach_weights(
            self.travel_time, lab.commute_decay, lab.max_commute
        )

    def set_travel_times_changed(self) -> None:
        """Recompute travel times and reach after edge travel times were edited in place."""
        self._set_travel_times()

    def add_collaboration_ties(self, pairs: np.ndarray) -> int:
        """Add collaboration ties between living firms (pairs of firm ids); returns how many."""
        pairs = np.sort(np.asarray(pairs, dtype=np.int64).reshape(-1, 2), axis=1)
        alive = self.firms.alive
        pairs = pairs[(pairs[:, 0] != pairs[:, 1]) & alive[pairs[:, 0]] & alive[pairs[:, 1]]]
        if len(pairs) == 0:
            return 0
        before = len(self._edges)
        # unique ties via one int64 key per pair (much faster than unique over rows)
        keys = np.unique(np.concatenate([self._edges, pairs]) @ np.array([1 << 32, 1]))
        self._edges = np.stack([keys >> 32, keys & 0xFFFFFFFF], axis=1)
        return len(self._edges) - before

    @property
    def collaboration(self) -> nx.Graph:
        """The firm collaboration network as a networkx graph (living firms, current ties).

        Built on demand from the tie arrays the mechanisms use, so the monthly
        step does no per-tie Python work.
        """
        graph = nx.Graph()
        graph.add_nodes_from(int(i) for i in np.flatnonzero(self.firms.alive))
        graph.add_edges_from(map(tuple, self._edges.tolist()))
        return graph

    def set_travel_time(self, u: int, v: int, minutes: float) -> None:
        """Change the travel time of edge (u, v) and recompute reach (the transport lever)."""
        if not self.graph.has_edge(u, v):
            raise ValueError(f"edge ({u}, {v}) is not in the city graph")
        if minutes <= 0:
            raise ValueError(f"travel time must be > 0 minutes, got {minutes}")
        self.graph.edges[u, v]["travel_time"] = float(minutes)
        self._set_travel_times()

    def _setup_institutions(self) -> None:
        ip = self.params.institutions
        self.universities = [
            University(self, int(j), ip.graduates_per_university)
            for j in np.flatnonzero(self.university_count > 0)
            for _ in range(self.university_count[j])
        ]
        self.cultural_institutions = [
            CulturalInstitution(self, int(j), ip.culture_strength)
            for j in np.flatnonzero(self.amenity_attr >= ip.culture_threshold)
        ]
        self.incubators: list[Incubator] = []
        town_hall = city_module.centre_node(self.graph, self.place_names[self.focus_place])
        self.municipality = Municipality(
            self, town_hall, ip.municipality_budget, ip.municipality_income
        )
        field = self._culture_field()
        self.amenity_base = np.maximum(self.amenity_attr - field, 0.0)
        self._refresh_fields()

    def add_incubator(self, node: int, capacity: int, **kwargs: Any) -> Incubator:
        """Open an incubator (creative hub) at ``node`` (used by the creative-hub lever)."""
        hub = Incubator(self, node, capacity, **kwargs)
        self.incubators.append(hub)
        return hub

    def add_cultural_institution(self, node: int, strength: float) -> CulturalInstitution:
        """Open a cultural institution at ``node``; amenity around it rises from next month."""
        inst = CulturalInstitution(self, node, strength)
        self.cultural_institutions.append(inst)
        return inst

    def close_incubator(self, hub: Incubator) -> None:
        """Close an incubator: its tenants lose their subsidised space and boost."""
        f = self.firms
        f.incubator[f.incubator == hub.unique_id] = -1
        self.incubators.remove(hub)
        hub.remove()

    def close_cultural_institution(self, inst: CulturalInstitution) -> None:
        """Close a cultural institution; amenity around it falls from next month."""
        self.cultural_institutions.remove(inst)
        inst.remove()

    def attract_talents(self, prospects: int, nodes: list[int], bonus: float, policy: Any) -> None:
        """Queue prospective newcomers for this month's location choice.

        They choose like other newcomers (coming or not, and where) with an extra
        utility ``bonus`` at ``nodes``; ``policy.on_attracted(ids)`` receives the
        ids of those who came (relocation grants, artist residencies).
        """
        self._attraction_requests.append((int(prospects), list(nodes), float(bonus), policy))

    def _culture_field(self) -> np.ndarray:
        ip = self.params.institutions
        field = np.zeros(self.n_nodes)
        for inst in self.cultural_institutions:
            field += inst.strength * np.exp(-self.travel_time[:, inst.node] / ip.amenity_decay)
        return field

    def _refresh_fields(self) -> None:
        """Amenity from cultural institutions (plus policy bonus) and the knowledge field."""
        ip = self.params.institutions
        self.amenity = np.clip(
            self.amenity_base + self._culture_field() + self.amenity_bonus, 0, 1.5
        )
        uni_nodes = np.array([u.node for u in self.universities], dtype=int)
        field = mech.knowledge_field(self.travel_time, uni_nodes, ip.knowledge_decay)
        self.knowledge = field * self.knowledge_multiplier

    def _setup_talents_and_firms(self) -> None:
        tp, fp = self.params.talent, self.params.firm
        rng = self.rng
        per_node = rng.binomial(self.population0.astype(np.int64), tp.initial_share)
        homes = np.repeat(np.arange(self.n_nodes), per_node)
        n = len(homes)
        sectors = rng.choice(self.n_sectors, size=n, p=self.sector_traits["weight"])
        ids = self._add_talents(homes, sectors, origin=0)
        self.residents = np.maximum(self.population0 - per_node, 0.0)
        self.low_income = self.residents * self.params.rent.low_income_share
        # initial firms: employed talents grouped by node and sector into geometric-sized firms
        employed = ids[rng.random(n) < fp.initial_employment_rate]
        order = np.lexsort(
            (rng.random(len(employed)), self.talents.sector[employed], self.talents.home[employed])
        )
        employed = employed[order]
        key = (
            self.talents.home[employed].astype(np.int64) * self.n_sectors
            + self.talents.sector[employed]
        )
        firm_of = np.empty(len(employed), dtype=np.int64)
        firm_nodes, firm_sectors = [], []
        groups, starts = np.unique(key, return_index=True)
        ends = np.append(starts[1:], len(employed))
        for group, start, end in zip(groups, starts, ends, strict=True):
            sizes = rng.geometric(1.0 / fp.mean_initial_size, size=end - start)
            cuts = np.minimum(np.cumsum(sizes), end - start)
            cuts = cuts[: np.searchsorted(cuts, end - start) + 1]
            lo = 0
            for hi in cuts:
                firm_of[start + lo : start + hi] = len(firm_nodes)
                firm_nodes.append(group // self.n_sectors)
                firm_sectors.append(group % self.n_sectors)
                lo = hi
        n_firms = len(firm_nodes)
        ages = rng.integers(0, 120, size=n_firms)
        self._add_firms(
            np.array(firm_nodes, dtype=np.int64),
            np.array(firm_sectors, dtype=np.int64),
            origin=0,
            founded=-ages,
            cash=fp.startup_cash * (1.0 + rng.random(n_firms)),
        )
        self.talents.employer[employed] = firm_of
        self._count_employees()
        # initial wage per place: the labour share of revenue per effective worker
        self.wage = np.full(len(self.place_names), 2000.0)
        self._production(pay=False)
        f = self.firms
        for p in range(len(self.place_names)):
            mask = f.alive & (self.place[f.node] == p)
            labour = self._effective_labour()[mask].sum()
            if labour > 0:
                value = self.params.labour.labour_share * f.revenue[mask].sum() / labour
                self.wage[p] = max(self.params.labour.wage_floor, value)
        self.base_demand = self._space_demand()
        self.capacity = self.base_demand / np.maximum(1.0 - self.vacant_space0, 0.05)

    def _add_talents(
        self,
        homes: np.ndarray,
        sectors: np.ndarray,
        *,
        origin: int,
        skill_mean: float = 1.0,
        retention: float = 0.0,
    ) -> np.ndarray:
        tp = self.params.talent
        n = len(homes)
        sigma = tp.skill_sigma
        skill = skill_mean * self.rng.lognormal(-0.5 * sigma**2, sigma, size=n)
        taste = np.maximum(self.rng.normal(tp.amenity_weight, tp.amenity_weight_sd, size=n), 0.0)
        ids = self.talents.append(
            n,
            sector=sectors,
            skill=skill,
            taste=taste,
            home=homes,
            alive=True,
            arrived=self.steps,
            origin=origin,
            retention=retention,
        )
        self.talent_agents.extend(Talent(self, int(i)) for i in ids)
        return ids

    def _add_firms(
        self,
        nodes: np.ndarray,
        sectors: np.ndarray,
        *,
        origin: int,
        founded: np.ndarray | int | None = None,
        cash: np.ndarray | float | None = None,
        parent: np.ndarray | int = -1,
    ) -> np.ndarray:
        fp = self.params.firm
        n = len(nodes)
        sigma = fp.productivity_sigma
        ids = self.firms.append(
            n,
            sector=sectors,
            node=nodes,
            alive=True,
            origin=origin,
            parent=parent,
            productivity=self.rng.lognormal(-0.5 * sigma**2, sigma, size=n),
            founded=self.steps if founded is None else founded,
            cash=fp.startup_cash if cash is None else cash,
        )
        self.firm_agents.extend(CreativeFirm(self, int(i)) for i in ids)
        return ids

    def _reset_counters(self) -> None:
        n = self.n_nodes
        self.births_by_node = np.zeros(n, dtype=np.int64)
        self.exits_by_node = np.zeros(n, dtype=np.int64)
        self.innovations_by_node = np.zeros(n, dtype=np.int64)
        self.moves_in = np.zeros(len(self.place_names), dtype=np.int64)
        self.moves_out = np.zeros(len(self.place_names), dtype=np.int64)
        self.left_region = np.zeros(len(self.place_names), dtype=np.int64)
        self.graduates_by_place = np.zeros(len(self.place_names), dtype=np.int64)
        self.displaced_by_node = np.zeros(n)

    # ---------------------------------------------------------------- helpers
    def _count_employees(self) -> None:
        t, f = self.talents, self.firms
        emp = t.employer[t.alive & (t.employer >= 0)]
        f.employees = np.bincount(emp, minlength=f.n)[: f.n]
        f.peak_employees = np.maximum(f.peak_employees, f.employees)

    def _match_factor(self, talent_ids: np.ndarray) -> np.ndarray:
        t = self.talents
        firm_sector = self.firms.sector[t.employer[talent_ids]]
        same = firm_sector == t.sector[talent_ids]
        return np.where(same, 1.0, self.params.labour.cross_sector_productivity)

    def _effective_labour(self) -> np.ndarray:
        t, f = self.talents, self.firms
        emp = np.flatnonzero(t.alive & (t.employer >= 0))
        weights = t.skill[emp] * self._match_factor(emp)
        return np.bincount(t.employer[emp], weights=weights, minlength=f.n)[: f.n]

    def talent_income(self, ids: np.ndarray | None = None) -> np.ndarray:
        """Monthly income of talent rows ``ids`` (default all): wage if employed, else benefit."""
        t = self.talents
        ids = np.arange(t.n) if ids is None else np.asarray(ids, dtype=np.int64)
        income = np.full(len(ids), self.params.talent.unemployment_income)
        emp = np.flatnonzero(t.alive[ids] & (t.employer[ids] >= 0))
        rows = ids[emp]
        firm_place = self.place[self.firms.node[t.employer[rows]]]
        income[emp] = self.wage[firm_place] * t.skill[rows] * self._match_factor(rows)
        return income

    def _firms_at_node(self) -> np.ndarray:
        f = self.firms
        return np.bincount(f.node[f.alive], minlength=self.n_nodes)

    def _jobs_by_node_sector(self) -> np.ndarray:
        f = self.firms
        alive = np.flatnonzero(f.alive)
        key = f.node[alive].astype(np.int64) * self.n_sectors + f.sector[alive]
        jobs = np.bincount(key, weights=f.employees[alive], minlength=self.n_nodes * self.n_sectors)
        return jobs.reshape(self.n_nodes, self.n_sectors)

    def _talents_by_node_sector(self) -> np.ndarray:
        t = self.talents
        alive = np.flatnonzero(t.alive)
        key = t.home[alive].astype(np.int64) * self.n_sectors + t.sector[alive]
        counts = np.bincount(key, minlength=self.n_nodes * self.n_sectors)
        return counts.reshape(self.n_nodes, self.n_sectors).astype(float)

    def _space_demand(self) -> np.ndarray:
        t = self.talents
        talents_at = np.bincount(t.home[t.alive], minlength=self.n_nodes)
        jobs = self._jobs_by_node_sector().sum(axis=1)
        workspace = self.params.rent.workspace_weight * jobs
        return self.residents + talents_at + workspace + self.visitor_demand

    def _unit_revenue(self, spill: np.ndarray) -> np.ndarray:
        """Expected revenue per unit of output by node and sector (used by founders)."""
        ls = self.sector_traits["local_share"][None, :]
        return spill * (ls * self._local_price + (1 - ls) * self._external_price_node)

    # ------------------------------------------------------------------- step
    def step(self) -> None:
        """Advance the city by one month."""
        self._reset_counters()
        self.municipality.step()
        for policy in list(self.policies):
            policy.step()
        for hub in self.incubators:
            hub.step()
        self._refresh_fields()
        self._production(pay=True)
        self._labour_market()
        self._firm_exit()
        self._firm_entry()
        self._talent_moves()
        self._update_rents()
        self._collaboration()
        self._record()

    def _production(self, *, pay: bool) -> None:
        """Firm output, revenue from local and external markets, costs, cash and innovation.

        Output q = A * g(n_j) * (1 + MAR + Jacobs) * (1 + knowledge) * L^alpha
        (Arthur 1990; Glaeser et al. 1992; Valero & Van Reenen 2019). Local sales
        face competition within reach (Huff split of household budgets); external
        sales are priced by accessibility, broadband for digital sectors and
        collaboration ties (Krugman 1991; Czernich et al. 2011; Falck et al. 2010).
        """
        fp = self.params.firm
        f = self.firms
        alive = np.flatnonzero(f.alive)
        node, sector = f.node[alive], f.sector[alive]
        firms_at = self._firms_at_node()
        agglo = mech.agglomeration_benefit(
            firms_at, fp.agglomeration_strength, fp.agglomeration_cap
        )
        jobs = self._jobs_by_node_sector()
        mix = mech.sector_mix_spillover(
            self.commute_reach @ jobs, fp.specialisation_weight, fp.diversity_weight
        )
        know = 1.0 + fp.knowledge_weight * self.knowledge + self.productivity_bonus
        spill_node = agglo[:, None] * mix * know[:, None]
        incubated = f.incubator[alive] >= 0
        boost = np.ones(len(alive))
        if incubated.any():
            boost_by_hub = {h.unique_id: h.boost for h in self.incubators}
            boost[incubated] += np.array(
                [boost_by_hub.get(h, 0.0) for h in f.incubator[alive][incubated]]
            )
        spill = spill_node[node, sector] * boost
        labour = self._effective_labour()[alive]
        q = mech.firm_output(f.productivity[alive], spill, labour, fp.returns_to_labour)
        ls = self.sector_traits["local_share"]
        supply = np.bincount(
            node.astype(np.int64) * self.n_sectors + sector,
            weights=ls[sector] * q,
            minlength=self.n_nodes * self.n_sectors,
        ).reshape(self.n_nodes, self.n_sectors)
        spend_share = self.sector_traits["weight"] * ls
        spend_share = spend_share / spend_share.sum()
        people = self.residents + np.bincount(
            self.talents.home[self.talents.alive], minlength=self.n_nodes
        )
        budget = (fp.local_spend * people * (1.0 + self.demand_bonus))[:, None] * spend_share[
            None, :
        ]
        self._local_price = mech.local_unit_prices(
            budget, supply, self.commute_reach, 2 * fp.unit_price
        )
        digital = self.sector_traits["digital"]
        access = np.power(self.accessibility, fp.accessibility_elasticity)
        self._external_price_node = (
            fp.unit_price
            * access[:, None]
            * (1.0 + fp.digital_tech_weight * self.tech[:, None] * digital[None, :])
        )
        self._spill_node_local = mix * know[:, None]  # spillovers other than agglomeration
        degree = np.bincount(self._edges.ravel(), minlength=f.n)[alive] if len(self._edges) else 0
        networking = 1.0 + fp.networking_weight * np.log1p(degree)
        external = self._external_price_node[node, sector] * networking * f.market_reach[alive]
        revenue = q * (ls[sector] * self._local_price[node, sector] + (1 - ls[sector]) * external)
        revenue = revenue + f.subsidy[alive]
        if pay:
            f.subsidy_received[alive] += f.subsidy[alive]
        wage_bill = self.wage[self.place[node]] * labour
        workspace = self.rent[node] * self.rent_factor[node] * fp.workspace_rent_share
        discount = np.zeros(len(alive))
        if incubated.any():
            disc_by_hub = {h.unique_id: h.rent_discount for h in self.incubators}
            discount[incubated] = [disc_by_hub.get(h, 0.0) for h in f.incubator[alive][incubated]]
        rent_cost = workspace * np.maximum(f.employees[alive], 1) * (1.0 - discount)
        profit = revenue - wage_bill - rent_cost - fp.fixed_cost
        f.revenue[alive] = revenue
        f.profit[alive] = profit
        f.margin[alive] = profit / np.maximum(revenue, 1.0)
        if not pay:
            return
        f.cash[alive] += profit
        # innovation: more likely with ties and near universities; raises productivity
        nw = self.params.network
        p_innov = fp.innovation_rate * (1 + nw.innovation_weight * np.log1p(degree)) * know[node]
        innovates = self.rng.random(len(alive)) < np.minimum(p_innov, 1.0)
        winners = alive[innovates]
        f.productivity[winners] *= 1.0 + fp.innovation_step
        f.innovations[winners] += 1
        self.innovations_by_node += np.bincount(f.node[winners], minlength=self.n_nodes)

    def _labour_market(self) -> None:
        """Quits, layoffs, and matching of job seekers to vacancies within commuting reach."""
        lab, fp = self.params.labour, self.params.firm
        t, f, rng = self.talents, self.firms, self.rng
        employed = np.flatnonzero(t.alive & (t.employer >= 0))
        quits = employed[rng.random(len(employed)) < lab.quit_rate]
        t.employer[quits] = -1
        self._count_employees()
        alive = np.flatnonzero(f.alive)
        change = mech.hiring_targets(
            f.employees[alive], f.margin[alive], fp.growth_sensitivity, fp.target_margin, rng
        )
        change = np.where(f.cash[alive] <= 0, np.minimum(change, 0), change)
        # layoffs: the firm keeps at least one person (its founder)
        cut = np.minimum(np.maximum(-change, 0), np.maximum(f.employees[alive] - 1, 0))
        if cut.any():
            cut_by_firm = np.zeros(f.n, dtype=np.int64)
            cut_by_firm[alive] = cut
            # only staff of firms that cut: rank them in random order within their firm
            staff = np.flatnonzero(t.alive & (t.employer >= 0))
            staff = staff[cut_by_firm[t.employer[staff]] > 0]
            firm_of = t.employer[staff]
            order = np.argsort(firm_of + rng.random(len(staff)), kind="stable")
            staff, firm_of = staff[order], firm_of[order]
            rank = np.arange(len(firm_of)) - np.searchsorted(firm_of, firm_of, side="left")
            t.employer[staff[rank < cut_by_firm[firm_of]]] = -1
        vacancies = np.zeros(f.n, dtype=np.int64)
        vacancies[alive] = np.maximum(change, 0)
        vacancies[alive[f.employees[alive] == 0]] += 1
        seekers = np.flatnonzero(t.alive & (t.employer < 0))
        seekers = seekers[rng.random(len(seekers)) < lab.search_rate]
        hired, firm = mech.match_labour(
            t.home[seekers],
            t.sector[seekers],
            f.node,
            f.sector,
            vacancies,
            self.commute_reach,
            lab.cross_sector_productivity,
            rng,
        )
        t.employer[seekers[hired]] = firm
        self._count_employees()
        # vacancies still open after matching (used by talents' job prospects)
        self._vacancies = vacancies - np.bincount(firm, minlength=f.n)
        # wages follow labour-market tightness in each place
        unemployed = np.bincount(
            self.place[t.home[t.alive & (t.employer < 0)]], minlength=len(self.place_names)
        )
        open_jobs = np.bincount(
            self.place[f.node], weights=np.maximum(vacancies, 0), minlength=len(self.place_names)
        )
        open_jobs = open_jobs - np.bincount(
            self.place[f.node[firm]], minlength=len(self.place_names)
        )
        talents = np.bincount(self.place[t.home[t.alive]], minlength=len(self.place_names))
        tightness = (open_jobs - unemployed) / np.maximum(talents, 1)
        change = np.clip(lab.wage_adjustment * tightness, -0.01, 0.01)
        self.wage = np.maximum(self.wage * (1.0 + change), lab.wage_floor)

    def _firm_exit(self) -> None:
        """Firms whose cash has run out exit; their employees become unemployed."""
        f, t = self.firms, self.talents
        dead = np.flatnonzero(f.alive & (f.cash < 0))
        if len(dead) == 0:
            return
        f.alive[dead] = False
        f.exit_step[dead] = self.steps
        f.incubator[dead] = -1
        self.exits_by_node += np.bincount(f.node[dead], minlength=self.n_nodes)
        dead_mask = np.zeros(f.n, dtype=bool)
        dead_mask[dead] = True
        emp = t.employer
        laid_off = np.flatnonzero((emp >= 0) & dead_mask[np.maximum(emp, 0)])
        t.employer[laid_off] = -1
        if len(self._edges):
            keep = ~(dead_mask[self._edges[:, 0]] | dead_mask[self._edges[:, 1]])
            self._edges = self._edges[keep]
        for i in dead:
            agent = self.firm_agents[i]
            if agent is not None:
                agent.remove()
                self.firm_agents[i] = None
        self._count_employees()

    def _firm_entry(self) -> None:
        """Spin-offs near the parent (Klepper 2010) and imitating start-ups (Zhang 2003).

        Employees found spin-offs, unemployed talents found start-ups. Founders
        pick a node within commuting reach by a logit over expected unit
        revenue with the agglomeration benefit (Arthur 1990), rent and the local
        success of their sector.
        """
        fp = self.params.firm
        t, f, rng = self.talents, self.firms, self.rng
        employed = np.flatnonzero(t.alive & (t.employer >= 0))
        parent = t.employer[employed]
        p_spin = fp.spinoff_rate * np.clip(1.0 + 10.0 * f.margin[parent], 0.0, 3.0)
        spin = rng.random(len(employed)) < p_spin
        # founders must not be the last person of their firm
        spinners, spin_parent = employed[spin], parent[spin]
        # a parent keeps at least one person: at most employees - 1 spin-offs a month
        order = np.argsort(spin_parent, kind="stable")
        spinners, spin_parent = spinners[order], spin_parent[order]
        rank = np.arange(len(spin_parent)) - np.searchsorted(spin_parent, spin_parent)
        keep = rank < f.employees[spin_parent] - 1
        spinners, spin_parent = spinners[keep], spin_parent[keep]
        unemployed = np.flatnonzero(t.alive & (t.employer < 0))
        starters = unemployed[rng.random(len(unemployed)) < fp.entrepreneurship_rate]
        if len(spinners) == 0 and len(starters) == 0:
            return
        firms_at = self._firms_at_node()
        agglo = mech.agglomeration_benefit(
            firms_at, fp.agglomeration_strength, fp.agglomeration_cap
        )
        unit = self._unit_revenue(self._spill_node_local)
        # success: reach-weighted positive profits of each sector, as a share of all
        alive = np.flatnonzero(f.alive)
        profits = np.bincount(
            f.node[alive].astype(np.int64) * self.n_sectors + f.sector[alive],
            weights=np.maximum(f.profit[alive], 0.0),
            minlength=self.n_nodes * self.n_sectors,
        ).reshape(self.n_nodes, self.n_sectors)
        near = self.commute_reach @ profits
        success = near / np.maximum(near.sum(axis=1, keepdims=True), 1.0)
        # start-ups: sector is the founder's own, or copied from successful neighbours
        sectors = t.sector[starters].astype(np.int64)
        copy = rng.random(len(starters)) < fp.imitation_weight / (1.0 + fp.imitation_weight)
        copied = mech.choose_rows(success[t.home[starters[copy]]], rng)
        sectors[np.flatnonzero(copy)[copied >= 0]] = copied[copied >= 0]
        origins = np.concatenate([t.home[starters], f.node[spin_parent]])
        founders = np.concatenate([starters, spinners])
        sectors = np.concatenate([sectors, f.sector[spin_parent]])
        utility = mech.founder_node_utility(
            unit[:, sectors].T,
            agglo,
            self.rent * self.rent_factor,
            success[:, sectors].T,
            fp.workspace_rent_share,
            fp.imitation_weight,
            fp.location_noise,
        )
        reachable = self.travel_time[origins] <= self.params.labour.max_commute
        utility = np.where(reachable, utility, -np.inf)
        nodes = mech.logit_choice(utility, rng)
        stay = np.zeros(len(founders), dtype=bool)
        stay[len(starters) :] = rng.random(len(spinners)) < fp.spinoff_near_parent
        nodes = np.where(stay, origins, nodes)
        parents = np.concatenate([np.full(len(starters), -1), spin_parent])
        origin_code = np.concatenate([np.full(len(starters), 2), np.full(len(spinners), 1)])
        ids = np.concatenate(
            [
                self._add_firms(nodes[origin_code == 2], sectors[origin_code == 2], origin=2),
                self._add_firms(
                    nodes[origin_code == 1],
                    sectors[origin_code == 1],
                    origin=1,
                    parent=parents[origin_code == 1],
                ),
            ]
        )
        t.employer[founders] = ids
        self.births_by_node += np.bincount(nodes, minlength=self.n_nodes)
        self._count_employees()

    def _talent_moves(self) -> None:
        """Retirement, location review by residents, newcomers and graduates (logit choice).

        A reviewing talent picks a node of the region or leaving it (brain drain);
        prospective newcomers pick a node or not coming; new graduates choose with
        a retention bonus for their university's place and, where a partnership
        links their university to another town, a pull toward that town
        (``graduate_pull``).
        """
        tp, ip = self.params.talent, self.params.institutions
        t, rng = self.talents, self.rng
        alive = np.flatnonzero(t.alive)
        retire = alive[rng.random(len(alive)) < tp.retirement_rate]
        self._remove_talents(retire)
        # graduates appear at their university's node, then choose like everyone else
        grads = [np.full(uni.graduates_this_month(), uni.node) for uni in self.universities]
        homes = np.concatenate([np.zeros(0, dtype=np.int64), *grads])
        sectors = rng.choice(self.n_sectors, size=len(homes), p=self.sector_traits["weight"])
        new_grads = self._add_talents(
            homes,
            sectors,
            origin=2,
            skill_mean=ip.graduate_skill,
            retention=ip.graduate_retention + self.retention_bonus[self.place[homes]],
        )
        np.add.at(self.graduates_by_place, self.place[homes], 1)
        # young locals entering creative work, attached to their home place
        locals_per_node = rng.poisson(tp.local_entry_rate * np.maximum(self.residents, 0.0))
        homes = np.repeat(np.arange(self.n_nodes), locals_per_node)
        sectors = rng.choice(self.n_sectors, size=len(homes), p=self.sector_traits["weight"])
        new_locals = self._add_talents(homes, sectors, origin=3, retention=tp.local_attachment)
        new = np.concatenate([new_grads, new_locals])
        alive = np.flatnonzero(t.alive)
        reviewing = alive[rng.random(len(alive)) < tp.review_rate]
        reviewing = np.union1d(reviewing, new)
        requests, self._attraction_requests = self._attraction_requests, []
        n_immigrants = rng.poisson(tp.immigration_rate * len(alive))
        n_new = n_immigrants + sum(r[0] for r in requests)
        choosers_home = t.home[reviewing].astype(np.int64)
        sector = np.concatenate(
            [
                t.sector[reviewing],
                rng.choice(self.n_sectors, size=n_new, p=self.sector_traits["weight"]),
            ]
        )
        home = np.concatenate([choosers_home, np.full(n_new, -1)])
        sigma = tp.skill_sigma
        skill_new = rng.lognormal(-0.5 * sigma**2, sigma, size=n_new)
        taste_new = np.maximum(rng.normal(tp.amenity_weight, tp.amenity_weight_sd, n_new), 0.0)
        income = np.concatenate(
            [self.talent_income(reviewing), np.full(n_new, tp.unemployment_income)]
        )
        employer = t.employer[reviewing]
        employer_node = np.concatenate(
            [
                np.where(employer >= 0, self.firms.node[np.maximum(employer, 0)], -1),
                np.full(n_new, -1),
            ]
        )
        skill = np.concatenate([t.skill[reviewing], skill_new])
        wage_rate = np.concatenate(
            [np.where(employer >= 0, income[: len(reviewing)], 0.0), np.zeros(n_new)]
        )
        talents_ns = self._talents_by_node_sector()
        wage_ns = np.repeat(self._wage_in_reach()[:, None], self.n_sectors, axis=1)
        node_income = mech.expected_income(
            wage_ns,
            self._jobs_by_node_sector() + self._vacancies_by_node_sector(),
            talents_ns,
            self.commute_reach,
            tp.unemployment_income,
            self.params.labour.cross_sector_productivity,
        )
        utilities = mech.talent_location_utilities(
            sector=sector.astype(np.int64),
            skill=skill,
            amenity_taste=np.concatenate([t.taste[reviewing], taste_new]),
            home=home,
            employer_node=employer_node,
            wage=wage_rate,
            retention=np.concatenate([t.retention[reviewing], np.zeros(n_new)]),
            node_income=node_income,
            amenity=self.amenity,
            openness=self.openness,
            rent=self.rent,
            ties=np.log1p(talents_ns),
            travel_time=self.travel_time,
            place=self.place,
            max_commute=self.params.labour.max_commute,
            wage_weight=tp.wage_weight,
            openness_weight=tp.openness_weight,
            rent_weight=tp.rent_weight,
            commute_weight=tp.commute_weight,
            ties_weight=tp.ties_weight,
            move_cost=tp.move_cost,
            place_change_cost=tp.place_change_cost,
            emigration_cost=tp.emigration_cost,
            outside_income=tp.outside_income,
            outside_amenity=tp.outside_amenity,
            outside_openness=tp.outside_openness,
            outside_rent=tp.outside_rent,
        )
        if len(new_grads) and self.graduate_pull.any():  # partnerships with other places
            rows = np.searchsorted(reviewing, new_grads)  # reviewing is sorted, holds them
            utilities[rows, : self.n_nodes] += self.graduate_pull[self.place[t.home[new_grads]]]
        row = len(reviewing) + n_immigrants
        for count, nodes, bonus, _ in requests:  # policy prospects: extra pull of targets
            utilities[row : row + count, nodes] += bonus
            row += count
        choice = mech.logit_choice(utilities, rng)
        leave = choice == self.n_nodes
        # residents: leave the region, or move (keeping the job only if still in reach)
        res_choice, res_leave = choice[: len(reviewing)], leave[: len(reviewing)]
        t.retention[reviewing] = 0.0
        leavers = reviewing[res_leave]
        np.add.at(self.left_region, self.place[t.home[leavers]], 1)
        self._remove_talents(leavers, left_region=True)
        movers = reviewing[~res_leave & (res_choice != t.home[reviewing])]
        targets = res_choice[~res_leave & (res_choice != t.home[reviewing])]
        from_place, to_place = self.place[t.home[movers]], self.place[targets]
        crossing = from_place != to_place
        np.add.at(self.moves_out, from_place[crossing], 1)
        np.add.at(self.moves_in, to_place[crossing], 1)
        t.home[movers] = targets
        emp = t.employer[movers]
        has_job = emp >= 0
        too_far = np.zeros(len(movers), dtype=bool)
        too_far[has_job] = (
            self.travel_time[targets[has_job], self.firms.node[emp[has_job]]]
            > self.params.labour.max_commute
        )
        t.employer[movers[too_far]] = -1
        # newcomers who chose to come (immigrants first, then policy prospects)
        new_choice = choice[len(reviewing) :]
        come = new_choice < self.n_nodes
        origin = np.where(np.arange(n_new) < n_immigrants, 1, 4)
        ids = self.talents.append(
            int(come.sum()),
            sector=sector[len(reviewing) :][come],
            skill=skill_new[come],
            taste=taste_new[come],
            home=new_choice[come],
            alive=True,
            arrived=self.steps,
            origin=origin[come],
        )
        self.talent_agents.extend(Talent(self, int(i)) for i in ids)
        np.add.at(self.moves_in, self.place[new_choice[come]], 1)
        row_of = np.flatnonzero(come)  # newcomer row of each new id
        row = n_immigrants
        for count, _, _, policy in requests:
            policy.on_attracted(ids[(row_of >= row) & (row_of < row + count)])
            row += count
        self._count_employees()

    def _wage_in_reach(self) -> np.ndarray:
        """Wage per skill unit a talent living at each node can expect from the jobs in reach.

        Jobs in another place (a commute to the large city) pay that place's wage.
        """
        jobs = self._jobs_by_node_sector().sum(axis=1) + 1e-9
        paid = self.commute_reach @ (jobs * self.wage[self.place])
        return paid / (self.commute_reach @ jobs)

    def _vacancies_by_node_sector(self) -> np.ndarray:
        f = self.firms
        vac = getattr(self, "_vacancies", None)
        if vac is None:
            return np.zeros((self.n_nodes, self.n_sectors))
        n = min(len(vac), f.n)
        key = f.node[:n].astype(np.int64) * self.n_sectors + f.sector[:n]
        out = np.bincount(
            key, weights=vac[:n] * f.alive[:n], minlength=self.n_nodes * self.n_sectors
        )
        return out.reshape(self.n_nodes, self.n_sectors)

    def _remove_talents(self, ids: np.ndarray, *, left_region: bool = False) -> None:
        t = self.talents
        t.alive[ids] = False
        t.left[ids] = self.steps
        t.left_region[ids] = left_region
        t.employer[ids] = -1
        for i in ids:
            agent = self.talent_agents[i]
            if agent is not None:
                agent.remove()
                self.talent_agents[i] = None

    def _update_rents(self) -> None:
        """Rents move toward demand-driven targets; low-income residents are displaced.

        Displaced residents move to cheaper nodes of the same place with free
        capacity, or leave when there are none (O'Sullivan 2002; Malik et al. 2015).
        """
        rp = self.params.rent
        demand = self._space_demand()
        target = mech.rent_targets(self.base_rent, demand, self.base_demand, rp.elasticity)
        self.rent = self.rent + rp.adjustment_speed * (target - self.rent)
        out = mech.displacement(self.low_income, self.rent, self.base_rent, rp.displacement_rate)
        if out.sum() <= 0:
            return
        self.low_income -= out
        self.residents -= out
        self.displaced_by_node = out
        ratio = self.rent / self.base_rent
        free = np.maximum(self.capacity - self._space_demand(), 0.0)
        for p in range(len(self.place_names)):
            nodes = np.flatnonzero(self.place == p)
            amount = out[nodes].sum()
            if amount <= 0:
                continue
            cheap = nodes[ratio[nodes] <= ratio[nodes].min() + 0.05]
            room = free[cheap]
            if room.sum() <= 0:
                continue
            moved = min(amount, room.sum())
            share = room / room.sum() * moved
            self.low_income[cheap] += share
            self.residents[cheap] += share

    def _collaboration(self) -> None:
        """Collaboration ties form by proximity and sector similarity and lapse at random."""
        nw = self.params.network
        f, rng = self.firms, self.rng
        if len(self._edges):
            keep = rng.random(len(self._edges)) >= nw.tie_decay
            self._edges = self._edges[keep]
        alive = np.flatnonzero(f.alive)
        if len(alive) < 2:
            return
        n_new = rng.poisson(nw.tie_rate * len(alive))
        if n_new == 0:
            return
        source = rng.choice(alive, size=n_new)
        firms_at = self._firms_at_node().astype(float)
        node = mech.collaboration_targets(
            f.node[source], firms_at, self.travel_time, self.accessibility, nw.distance_scale, rng
        )
        order = alive[np.argsort(f.node[alive], kind="stable")]
        starts = np.searchsorted(f.node[order], np.arange(self.n_nodes))
        pick = starts[node] + (rng.random(n_new) * firms_at[node]).astype(np.int64)
        target = order[np.minimum(pick, len(order) - 1)]
        same = f.sector[source] == f.sector[target]
        accept_p = np.where(same, 1.0, 1.0 / max(nw.same_sector_affinity, 1e-9))
        ok = (source != target) & (rng.random(n_new) < np.minimum(accept_p, 1.0))
        self.add_collaboration_ties(np.stack([source[ok], target[ok]], axis=1))

    # ---------------------------------------------------------------- metrics
    def _record(self) -> None:
        """Append one row of focus-place metrics and one row per place."""
        mp = self.params.metrics
        t, f = self.talents, self.firms
        alive_t = t.alive
        talents_at = np.bincount(t.home[alive_t], minlength=self.n_nodes)
        jobs_at = np.bincount(f.node[f.alive], weights=f.employees[f.alive], minlength=self.n_nodes)
        firms_at = self._firms_at_node()
        population = self.residents + talents_at
        employment_at = mp.employment_rate * self.residents + jobs_at
        share_at = np.divide(
            jobs_at, employment_at, out=np.zeros(self.n_nodes), where=employment_at > 0
        )
        lq_at = share_at / mp.reference_creative_share
        focus = self.focus_nodes
        fp_ = self.focus_place
        creative_employment = float(jobs_at[focus].sum())
        share = metrics.creative_share(creative_employment, float(employment_at[focus].sum()))
        unemployed = np.bincount(t.home[alive_t & (t.employer < 0)], minlength=self.n_nodes)
        in_focus = np.flatnonzero(alive_t & (self.place[t.home] == fp_))
        income = self.talent_income(in_focus)
        row = {
            "step": self.steps,
            "population": float(population[focus].sum()),
            "talents": int(talents_at[focus].sum()),
            "creative_employment": creative_employment,
            "creative_firms": int(firms_at[focus].sum()),
            "firm_births": int(self.births_by_node[focus].sum()),
            "firm_exits": int(self.exits_by_node[focus].sum()),
            "mean_rent": metrics.weighted_mean(self.rent[focus], population[focus]),
            "creative_share": share,
            "location_quotient": metrics.location_quotient(share, mp.reference_creative_share),
            "spatial_gini": metrics.spatial_gini(jobs_at[focus]),
            "largest_cluster": metrics.largest_cluster(
                self.graph, firms_at, lq_at, lq_threshold=mp.cluster_lq, nodes=focus
            ),
            "net_migration": int(self.moves_in[fp_] - self.moves_out[fp_] - self.left_region[fp_]),
            "innovation": int(self.innovations_by_node[focus].sum()),
            "policy_spend": float(sum(self.municipality.spent_this_step.values())),
            "unemployment_rate": float(unemployed[focus].sum() / max(talents_at[focus].sum(), 1)),
            "mean_income": float(income.mean()) if len(income) else 0.0,
            "wage": float(self.wage[fp_]),
            "mean_amenity": metrics.weighted_mean(self.amenity[focus], population[focus]),
            "graduates": int(self.graduates_by_place[fp_]),
            "brain_drain": int(self.left_region[fp_]),
            "displaced": float(self.displaced_by_node[focus].sum()),
            "collaboration_ties": len(self._edges),
            "region_talents": int(alive_t.sum()),
            "region_creative_firms": int(f.alive.sum()),
            "region_creative_employment": float(jobs_at.sum()),
            "municipal_budget": float(self.municipality.budget),
        }
        for policy in self.policies:
            row[f"spend_{policy.name}"] = float(
                self.municipality.spent_this_step.get(policy.name, 0.0)
            )
        self.records.append(row)
        for p, name in enumerate(self.place_names):
            nodes = np.flatnonzero(self.place == p)
            self.place_records.append(
                {
                    "step": self.steps,
                    "place": name,
                    "population": float(population[nodes].sum()),
                    "talents": int(talents_at[nodes].sum()),
                    "creative_employment": float(jobs_at[nodes].sum()),
                    "creative_firms": int(firms_at[nodes].sum()),
                    "mean_rent": metrics.weighted_mean(self.rent[nodes], population[nodes]),
                    "wage": float(self.wage[p]),
                }
            )

    # ----------------------------------------------------------------- tables
    def firm_table(self):
        """One row per firm ever created (pandas DataFrame)."""
        import pandas as pd

        f = self.firms
        return pd.DataFrame(
            {
                "firm_id": np.arange(f.n),
                "sector": pd.Categorical.from_codes(f.sector.astype(int), SECTOR_NAMES),
                "node": f.node.astype(np.int64),
                "place": [self.place_names[p] for p in self.place[f.node]],
                "founded_step": f.founded.astype(np.int64),
                "exit_step": _nullable(f.exit_step),
                "employees": f.employees.astype(np.int64),
                "peak_employees": f.peak_employees.astype(np.int64),
                "origin": pd.Categorical.from_codes(f.origin.astype(int), ORIGINS["firm"]),
                "parent_id": _nullable(f.parent),
                "productivity": f.productivity.copy(),
                "cash": f.cash.copy(),
                "innovations": f.innovations.astype(np.int64),
                "ever_incubated": f.ever_incubated.astype(bool),
                "subsidy_received": f.subsidy_received.copy(),
            }
        )

    def policy_table(self):
        """One row per policy: lever, timing, status, why it stopped, and what it spent."""
        import pandas as pd

        return pd.DataFrame(
            {
                "policy": [p.name for p in self.policies],
                "lever": [type(p).__name__ for p in self.policies],
                "start": [p.start for p in self.policies],
                "duration": pd.array([p.duration for p in self.policies], dtype="Int64"),
                "status": [p.status for p in self.policies],
                "stop_step": pd.array([p.stop_step for p in self.policies], dtype="Int64"),
                "stop_reason": [p.stop_reason for p in self.policies],
                "spent": [float(p.spent) for p in self.policies],
            }
        )

    def talent_table(self):
        """One row per talent who ever lived in the region (pandas DataFrame)."""
        import pandas as pd

        t = self.talents
        return pd.DataFrame(
            {
                "talent_id": np.arange(t.n),
                "sector": pd.Categorical.from_codes(t.sector.astype(int), SECTOR_NAMES),
                "skill": t.skill.copy(),
                "home": t.home.astype(np.int64),
                "place": [self.place_names[p] for p in self.place[t.home]],
                "employer": _nullable(t.employer),
                "income": np.where(t.alive, self.talent_income(), np.nan),
                "origin": pd.Categorical.from_codes(t.origin.astype(int), ORIGINS["talent"]),
                "arrived_step": t.arrived.astype(np.int64),
                "left_step": _nullable(t.left),
                "left_region": t.left_region.copy(),
                "grant": t.grant.copy(),
            }
        )


def _nullable(values: np.ndarray):
    """Integer column with -1 shown as missing (pandas Int64)."""
    import pandas as pd

    return pd.Series(values, dtype="Int64").mask(values < 0)


def city_config_from_name(name: str, population: int | None) -> CityConfig:
    """A CityConfig for a generator name or preset key, with an optional population."""
    if name in city_module.CITY_KINDS:
        defaults = {"small_town": 12_000, "medium_city": 150_000, "metropolis": 1_000_000}
        return CityConfig(
            kind=name,
            name=name.replace("_", " ").capitalize(),
            population=population or defaults[name],
        )
    if name in city_module.PRESETS:
        preset = city_module.PRESETS[name]
        return CityConfig(
            kind="preset", preset=name, name=preset.town, population=population or preset.population
        )
    allowed = ", ".join([*city_module.CITY_KINDS, *sorted(city_module.PRESETS)])
    raise ConfigError(f"city must be one of {allowed}; got {name!r}")
