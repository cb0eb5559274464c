"""Policy levers from the seeds: each a Policy agent acting through the model's mechanisms.

Every lever has a settings dataclass (validated at config load, like all other
parameters) and a :class:`~clustersim.policy.base.Policy` subclass. Levers never
write outcomes (jobs, firms, talents) directly: they change what the
mechanisms read (amenity, rents, travel times, broadband, openness, subsidies,
incubator places, collaboration ties, newcomers' choices) and pay for it from
the municipal budget. Evidence and defaults: ``docs/policies.md`` and
domain.md's policy table.

Each lever draws its own random numbers from a child stream of the model's
seed, keyed by its name, so adding a lever does not shift the random numbers
the rest of the model uses (common random numbers across scenarios).
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from clustersim.errors import ConfigError
from clustersim.params import allowed_text as _allowed
from clustersim.params import check_value as _check_value
from clustersim.params import param
from clustersim.policy.base import Policy

if TYPE_CHECKING:
    from clustersim.model.core import CreativeClusterModel

__all__ = [
    "LEVERS",
    "TARGET_RULES",
    "Broadband",
    "CitizenInvolvement",
    "ClusterManagement",
    "CreativeHub",
    "CulturalInvestment",
    "Festival",
    "Lever",
    "LeverSettings",
    "TalentAttraction",
    "TaxIncentive",
    "TemporaryUse",
    "Transport",
    "UniversityPartnership",
    "build_policies",
    "cost_factor",
    "lever_table",
    "resolve_targets",
    "settings_for",
    "validate_policy_config",
]

#: Rules a lever's ``target`` may name instead of a list of node names.
TARGET_RULES = {
    "centre": "the focus place's centre node",
    "focus": "every node of the focus place",
    "most_vacant": "the focus node with the most vacant space",
    "most_vacant_3": "the three focus nodes with the most vacant space",
    "highest_amenity": "the focus node with the highest amenity",
    "cheapest": "the focus node with the lowest rent",
    "university": "focus nodes with a university (else the centre)",
    "transport_link": "the transport edges joining the focus place to other places",
}


@dataclass
class LeverSettings:
    """Settings every lever shares: timing, target, intensity and costs."""

    start: int = param(
        12, unit="month", doc="first month the lever acts (<= steps)", source="-", ge=1
    )
    duration: int | None = param(
        None,
        unit="months",
        doc="months it runs; null = to the end",
        source="-",
        ge=1,
        optional=True,
    )
    target: Any = param(
        "centre",
        unit="-",
        doc="node names (list) or a rule: " + ", ".join(TARGET_RULES),
        source="-",
    )
    intensity: float = param(
        1.0, unit="-", doc="strength relative to the default", source="-", ge=0, le=10
    )
    cost_once: float = param(
        0.0, unit="EUR", doc="one-off cost paid at the start", source="-", ge=0
    )
    cost_monthly: float = param(
        0.0, unit="EUR/month", doc="running cost per month", source="-", ge=0
    )
    cost_scaling: float = param(
        1.0,
        unit="-",
        doc="costs are quoted at intensity 1 and grow as intensity ** cost_scaling: 1 = in "
        "proportion, 0 = the same at any intensity, between = economies of scale (applies to "
        "cost_once, cost_monthly and per-edition costs; grants and subsidies are paid per unit)",
        source="assumption",
        ge=0,
        le=1,
    )


def resolve_targets(model: CreativeClusterModel, target: Any, *, lever: str) -> list[int]:
    """Node ids a target names: a rule from :data:`TARGET_RULES`, node names, or node ids."""
    focus = [int(n) for n in model.focus_nodes]
    if isinstance(target, str) and target in TARGET_RULES:
        if target == "centre" or target == "transport_link":
            from clustersim.model.city import centre_node

            return [centre_node(model.graph, model.place_names[model.focus_place])]
        if target == "focus":
            return focus
        if target.startswith("most_vacant"):
            k = 3 if target.endswith("_3") else 1
            order = np.argsort(-model.vacant_space0[focus], kind="stable")
            return [focus[i] for i in order[:k]]
        if target == "highest_amenity":
            return [focus[int(np.argmax(model.amenity[focus]))]]
        if target == "cheapest":
            return [focus[int(np.argmin(model.rent[focus]))]]
        if target == "university":
            with_uni = [n for n in focus if model.university_count[n] > 0]
            return with_uni or resolve_targets(model, "centre", lever=lever)
    names = [target] if isinstance(target, str | int) else list(target or [])
    if not names:
        raise ConfigError(f"policy.{lever}.target must name nodes or a rule; got an empty list")
    nodes = []
    for name in names:
        if isinstance(name, int) and not isinstance(name, bool):
            if not 0 <= name < model.n_nodes:
                raise ConfigError(
                    f"policy.{lever}.target: node {name} is not in the city graph "
                    f"(0..{model.n_nodes - 1})"
                )
            nodes.append(name)
        elif name in model.node_names:
            nodes.append(model.node_names.index(name))
        else:
            allowed = ", ".join(list(TARGET_RULES) + model.node_names[:5]) + ", ..."
            raise ConfigError(
                f"policy.{lever}.target: unknown node or rule {name!r}; allowed: {allowed}"
            )
    return nodes


_LEVER_STREAM = 0x6C65766572  # "lever": separates lever streams from other spawned children


def lever_rng(model: CreativeClusterModel, name: str) -> np.random.Generator:
    """A random generator for lever ``name``: a child of the model's seed keyed by the name.

    Drawing from it leaves ``model.rng`` untouched, so a run with the lever and
    one without share the model's random numbers (common random numbers), and
    a lever's own draws do not depend on which other levers are configured.
    """
    seq = model.rng.bit_generator.seed_seq
    key = (*getattr(seq, "spawn_key", ()), _LEVER_STREAM, zlib.crc32(name.encode()))
    return np.random.default_rng(np.random.SeedSequence(seq.entropy, spawn_key=key))


def cost_factor(settings: LeverSettings) -> float:
    """What a lever's quoted costs are multiplied by at its intensity.

    Costs in the settings are those of the default scale (intensity 1). A lever
    run at twice the intensity buys twice the tenant places, visitors, travel-time
    cut or broadband gain, so by default it costs twice as much
    (``cost_scaling = 1``); ``cost_scaling < 1`` models economies of scale and
    ``0`` a fixed price.

    Examples:
        >>> cost_factor(LeverSettings(intensity=2.0))
        2.0
        >>> cost_factor(LeverSettings(intensity=4.0, cost_scaling=0.5))
        2.0
        >>> cost_factor(LeverSettings(intensity=3.0, cost_scaling=0.0))
        1.0
    """
    return float(settings.intensity**settings.cost_scaling)


class Lever(Policy):
    """A configured lever: reads its settings, resolves its target nodes.

    Attributes:
        settings: the lever's validated settings dataclass.
        lever_rng: the lever's own random generator (see :func:`lever_rng`).
    """

    Settings: type[LeverSettings] = LeverSettings

    def __init__(self, model: CreativeClusterModel, name: str, settings: LeverSettings) -> None:
        self.settings = settings
        self.lever_rng = lever_rng(model, name)
        nodes = resolve_targets(model, settings.target, lever=name)
        super().__init__(
            model,
            name=name,
            start=settings.start,
            duration=settings.duration,
            target=nodes,
            intensity=settings.intensity,
            cost_once=settings.cost_once * cost_factor(settings),
            cost_monthly=settings.cost_monthly * cost_factor(settings),
        )
        self._ramp_month = 0

    def _ramp(self, values: np.ndarray, total_gain: float, months: int) -> None:
        """Raise ``values`` at the target nodes by one month's share of a gain (capped at 1).

        Gradual levers (broadband rollout, openness) add their step to whatever
        the array holds, so two levers on the same nodes add up.
        """
        if self._ramp_month >= months:
            return
        self._ramp_month += 1
        nodes = self.target_nodes
        values[nodes] = np.minimum(values[nodes] + total_gain / months, 1.0)


@dataclass
class CreativeHubSettings(LeverSettings):
    """Creative hub / incubator settings."""

    capacity: int = param(12, unit="firms", doc="tenant places (scaled by intensity)", ge=1)
    rent_discount: float = param(
        0.6, unit="share", doc="workspace rent discount for tenants", ge=0, le=1
    )
    boost: float = param(0.15, unit="share", doc="productivity boost for tenants", ge=0)
    months: int = param(24, unit="months", doc="incubation programme length", ge=1)
    ties_per_tenant: float = param(
        0.1, unit="1/month", doc="new collaboration ties per tenant per month", ge=0
    )
    cost_once: float = param(600_000.0, unit="EUR", doc="refurbishing the building", ge=0)
    cost_monthly: float = param(15_000.0, unit="EUR/month", doc="staff and upkeep", ge=0)


class CreativeHub(Lever):
    """A creative hub / incubator: subsidised space, faster growth, networking, then graduation.

    Evidence (domain.md policy table): incubated firms grow faster in jobs and
    sales but survive less well after they leave (US matched samples). Young
    firms (founded within 12 months) in commuting reach of the hub are admitted
    up to ``capacity`` (scaled by intensity). Tenants get a workspace rent
    discount and a productivity boost for ``months``, and form collaboration
    ties with each other (networking). At graduation they pay full costs at
    once, the exit risk the evidence warns of. When the hub closes (budget
    exhausted or end of ``duration``), all tenants lose both at once.
    """

    Settings = CreativeHubSettings

    def on_start(self) -> None:
        """Open the hub at the first target node."""
        s = self.settings
        capacity = max(1, round(s.capacity * self.intensity))
        self.hub = self.model.add_incubator(
            self.target_nodes[0],
            capacity,
            rent_discount=s.rent_discount,
            boost=s.boost,
            months=s.months,
        )

    def act(self) -> None:
        """Tenants network: new ties among current tenants."""
        tenants = self.hub.tenants()
        if len(tenants) < 2:
            return
        rng = self.lever_rng
        k = rng.poisson(self.settings.ties_per_tenant * len(tenants))
        pairs = rng.choice(tenants, size=(k, 2))
        self.model.add_collaboration_ties(pairs)

    def on_stop(self) -> None:
        """Close the hub."""
        self.model.close_incubator(self.hub)


@dataclass
class FestivalSettings(LeverSettings):
    """Cultural events and festivals settings."""

    month_of_year: int = param(7, unit="month", doc="calendar month of each edition", ge=1, le=12)
    visitors: float = param(
        200_000.0,
        unit="visitors/edition",
        doc="visitors per edition (scaled by intensity)",
        source="Obidos chocolate festival ~200k visitors (domain.md)",
        ge=0,
    )
    spend_per_visitor: float = param(
        25.0, unit="EUR", doc="visitor spending on local creative goods", ge=0
    )
    amenity_boost: float = param(
        0.3, unit="amenity units", doc="amenity during the festival month", ge=0
    )
    legacy_per_edition: float = param(
        0.01,
        unit="amenity units",
        doc="lasting amenity each edition leaves (capped at 5 editions)",
        source="Gomes & Librero-Cano 2018 (lasting effect) vs Steiner et al. 2015 (none)",
        ge=0,
    )
    visitor_space: float = param(
        0.02,
        unit="dwellings per visitor",
        doc="space visitors occupy in the festival month (crowding, short lets)",
        ge=0,
    )
    cost_per_edition: float = param(
        250_000.0,
        unit="EUR/edition",
        doc="cost of one edition (at intensity 1, see cost_scaling)",
        source="Obidos chocolate festival cost cut from EUR 500k to 250k (domain.md)",
        ge=0,
    )
    target: Any = param("centre", unit="-", doc="node(s) hosting the festival")


class Festival(Lever):
    """Cultural events and festivals: a yearly amenity and demand pulse, with crowding.

    In the festival month (``month_of_year``; simulation month 1 is January)
    the target nodes gain amenity and visitor spending (local demand, shared
    by the target nodes), and visitors occupy space, pushing rents up and
    displacing low-income residents (crowding and rent pressure; Steiner, Frey
    & Hotz 2015 found no significant effect and lower resident satisfaction in
    the event year). Each edition leaves a small lasting amenity (Gomes &
    Librero-Cano 2018: +4.5% GDP/head lasting >5 years), capped at five
    editions. Defaults: Obidos chocolate festival, ~200k visitors, cost cut
    from EUR 500k to 250k per edition (domain.md).
    """

    Settings = FestivalSettings

    def on_start(self) -> None:
        """Nothing to build; editions start in their month."""
        self.editions = 0
        self._pulse_on = False

    def _calendar_month(self) -> int:
        return (self.model.steps - 1) % 12 + 1

    def act(self) -> None:
        """Run an edition in its month; otherwise keep only the legacy."""
        self._end_pulse()
        if self._calendar_month() != self.settings.month_of_year:
            return
        cost = self.settings.cost_per_edition * cost_factor(self.settings)
        if not self.pay(cost, "festival edition"):
            return
        s, m, nodes = self.settings, self.model, self.target_nodes
        self.editions += 1
        visitors = s.visitors * self.intensity / len(nodes)
        people = (
            m.residents[nodes]
            + np.bincount(m.talents.home[m.talents.alive], minlength=m.n_nodes)[nodes]
        )
        base_spend = m.params.firm.local_spend * np.maximum(people, 1.0)
        self._pulse = {
            "amenity": s.amenity_boost * min(self.intensity, 3.0),
            "demand": visitors * s.spend_per_visitor / base_spend,
            "space": visitors * s.visitor_space,
        }
        m.amenity_bonus[nodes] += self._pulse["amenity"]
        m.demand_bonus[nodes] += self._pulse["demand"]
        m.visitor_demand[nodes] += self._pulse["space"]
        if self.editions <= 5:
            m.amenity_bonus[nodes] += s.legacy_per_edition
        self._pulse_on = True

    def _end_pulse(self) -> None:
        if getattr(self, "_pulse_on", False):
            nodes, m = self.target_nodes, self.model
            m.amenity_bonus[nodes] -= self._pulse["amenity"]
            m.demand_bonus[nodes] -= self._pulse["demand"]
            m.visitor_demand[nodes] -= self._pulse["space"]
            self._pulse_on = False

    def on_stop(self) -> None:
        """End a running pulse; the legacy amenity stays."""
        self._end_pulse()


@dataclass
class CulturalInvestmentSettings(LeverSettings):
    """Cultural institution investment settings."""

    strength: float = param(
        0.2, unit="amenity units", doc="amenity the institution adds (scaled by intensity)", ge=0
    )
    cost_once: float = param(3_000_000.0, unit="EUR", doc="building or restoring a venue", ge=0)
    cost_monthly: float = param(25_000.0, unit="EUR/month", doc="running costs", ge=0)


class CulturalInvestment(Lever):
    """Cultural institution investment: a museum, theatre or venue with lasting amenity.

    The institution adds amenity around its node, decaying with travel time,
    for as long as it runs; amenity draws talents (Glaeser, Kolko & Saiz 2001).
    Evidence for a lasting cultural investment (domain.md): European Capital
    of Culture, +4.5% GDP/head vs runners-up lasting >5 years (Gomes &
    Librero-Cano 2018), budgets EUR 5.5m-59m. It stays open when the programme
    completes (handed over), but closes if the budget cannot pay its running
    costs.
    """

    Settings = CulturalInvestmentSettings

    def on_start(self) -> None:
        """Open the institution."""
        self.institution = self.model.add_cultural_institution(
            self.target_nodes[0], self.settings.strength * self.intensity
        )

    def on_stop(self) -> None:
        """Close it only when the money ran out."""
        if self.stop_reason and self.stop_reason.startswith("budget exhausted"):
            self.model.close_cultural_institution(self.institution)


@dataclass
class BroadbandSettings(LeverSettings):
    """Technological facilities / broadband settings."""

    tech_gain: float = param(
        0.3,
        unit="tech units",
        doc="broadband gain at full rollout (scaled by intensity)",
        source="Czernich et al. 2011: +10 pp broadband -> +0.9-1.5 pp GDP/head growth "
        "(size an assumption)",
        ge=0,
    )
    rollout_months: int = param(12, unit="months", doc="months to full rollout", ge=1)
    target: Any = param("focus", unit="-", doc="nodes that get broadband")
    cost_once: float = param(1_500_000.0, unit="EUR", doc="network build-out", ge=0)
    cost_monthly: float = param(3_000.0, unit="EUR/month", doc="maintenance", ge=0)


class Broadband(Lever):
    """Broadband and technological facilities: digital sectors reach external markets better.

    Tech (broadband) rises at the target nodes by an equal step each month of
    the rollout (capped at 1) and stays. Through the revenue rule it raises
    the external-market price of digital sectors (film, software, publishing,
    advertising, TV/radio, design); Czernich et al. 2011: +10 pp broadband
    penetration -> +0.9-1.5 pp annual GDP/head growth.
    """

    Settings = BroadbandSettings

    def act(self) -> None:
        """Roll out one month's share of the gain (adds to any other broadband lever)."""
        s = self.settings
        self._ramp(self.model.tech, s.tech_gain * self.intensity, s.rollout_months)


@dataclass
class TransportSettings(LeverSettings):
    """Transport accessibility settings."""

    time_cut: float = param(
        0.4,
        unit="share",
        doc="share of travel time cut on the target edges (scaled by intensity, max 0.9)",
        ge=0,
        le=0.9,
    )
    accessibility_gain: float = param(
        0.1, unit="accessibility units", doc="accessibility gain of the focus place", ge=0
    )
    target: Any = param(
        "transport_link",
        unit="-",
        doc="edges: transport_link (the focus place's links to other places; in a one-place "
        "city the roads at its centre), or node names (every edge between them)",
    )
    cost_once: float = param(
        2_500_000.0,
        unit="EUR",
        doc="municipal share of the works (the state or region pays the rest)",
        source="assumption: ~10% of a EUR 25m rail/road upgrade",
        ge=0,
    )


def _transport_edges(
    model: CreativeClusterModel, target: Any, nodes: list[int]
) -> list[tuple[int, int]]:
    """Edges a transport lever improves: the focus place's links, or edges between ``nodes``."""
    g = model.graph
    if target == "transport_link":
        focus = set(int(n) for n in model.focus_nodes)
        links = [
            (u, v)
            for u, v, d in g.edges(data=True)
            if d.get("kind") == "transport" and ((u in focus) != (v in focus))
        ]
        if links or len(model.place_names) > 1:
            return links
        return [(nodes[0], v) for v in g.neighbors(nodes[0])]  # one place: roads at the centre
    chosen = set(nodes)
    return [(u, v) for u, v in g.edges if u in chosen and v in chosen]


class Transport(Lever):
    """Transport accessibility: shorter travel times on chosen edges, better market access.

    Cuts travel time on the focus place's transport links (or on all edges
    between the named nodes) and raises the focus place's accessibility
    (external market prices, Krugman 1991). It can DRAIN a small town: the
    large city's firms then reach the town's households and the town's
    talents reach city jobs, so the town's own creative firms lose ground
    (Qin 2017; Diao 2018: counties bypassed by high-speed rail lost, small
    cities on the line saw marginal or negative effects). The works are
    lasting: nothing is undone when the programme stops.
    """

    Settings = TransportSettings

    def __init__(self, model: CreativeClusterModel, name: str, settings: LeverSettings) -> None:
        nodes = resolve_targets(model, settings.target, lever=name)
        self.edges = _transport_edges(model, settings.target, nodes)
        if not self.edges:
            raise ConfigError(
                f"policy.{name}.target: no edges to improve between {settings.target!r}; "
                "name two or more adjacent nodes"
            )
        super().__init__(model, name, settings)

    def on_start(self) -> None:
        """Cut travel times and raise accessibility (lasting infrastructure)."""
        m = self.model
        cut = min(self.settings.time_cut * self.intensity, 0.9)
        m.graph = m.graph.copy()  # copy on write: never edit the caller's graph object
        for u, v in self.edges:
            minutes = m.graph.edges[u, v]["travel_time"] * (1.0 - cut)
            m.graph.edges[u, v]["travel_time"] = max(minutes, 1.0)
        m.set_travel_times_changed()
        gain = self.settings.accessibility_gain * self.intensity
        m.accessibility[m.focus_nodes] = np.minimum(m.accessibility[m.focus_nodes] + gain, 1.0)


@dataclass
class TalentAttractionSettings(LeverSettings):
    """Talent attraction: relocation grants and artist residencies."""

    grants_per_month: float = param(
        1.5,
        unit="grants/month",
        doc="grants offered per month (scaled by intensity)",
        source="Paducah artist relocation: ~40 newcomers in 2.5 years (domain.md)",
        ge=0,
    )
    grant: float = param(
        2_500.0,
        unit="EUR",
        doc="grant per relocating talent",
        source="Paducah artist relocation: houses from $1, up to $2,500 per artist (domain.md)",
        ge=0,
    )
    appeal: float = param(
        1.5, unit="utils", doc="pull of the grant and residency on a prospect's choice", ge=0
    )
    prospects_per_grant: float = param(
        1.0,
        unit="-",
        doc="prospective talents considering the region per grant offered",
        ge=1,
    )
    cost_monthly: float = param(2_000.0, unit="EUR/month", doc="programme office", ge=0)


class TalentAttraction(Lever):
    """Relocation grants and artist residencies: extra prospects who may choose the target.

    Each month prospective newcomers (``prospects_per_grant`` per grant on
    offer) consider the region like other newcomers, with an extra pull
    ``appeal`` at the target nodes (grant, cheap house or studio). They enter
    the talent table with origin ``policy``; those who settle at a target node
    receive a grant (paid per arrival, up to the month's grants). Evidence
    (domain.md): Paducah's artist relocation programme, houses from $1 and up
    to $2,500 per artist, brought ~40 newcomers in 2.5 years: small absolute
    numbers, which the defaults reproduce.
    """

    Settings = TalentAttractionSettings

    def act(self) -> None:
        """Queue this month's prospects for the model's location choice."""
        s = self.settings
        grants = self.lever_rng.poisson(s.grants_per_month * self.intensity)
        if grants:
            self._grants_left = grants
            prospects = round(grants * s.prospects_per_grant)
            self.model.attract_talents(prospects, self.target_nodes, s.appeal, self)

    def on_attracted(self, ids: np.ndarray) -> None:
        """Pay grants to those who came to a target node (up to the month's grants)."""
        t = self.model.talents
        at_target = ids[np.isin(t.home[ids], self.target_nodes)]
        for talent in at_target[: self._grants_left]:
            if self.status != "active" or not self.pay(self.settings.grant, "relocation grant"):
                return
            t.grant[talent] += self.settings.grant
            self._grants_left -= 1


@dataclass
class TemporaryUseSettings(LeverSettings):
    """Temporary use of vacant space."""

    rent_cut: float = param(
        0.6,
        unit="share",
        doc="workspace rent cut on target nodes (scaled by intensity, floor 5% of rent)",
        ge=0,
        le=1,
    )
    duration: int | None = param(
        36, unit="months", doc="months the space is available", ge=1, optional=True
    )
    target: Any = param("most_vacant_3", unit="-", doc="nodes with vacant space to open")
    cost_once: float = param(50_000.0, unit="EUR", doc="making spaces usable", ge=0)
    cost_monthly: float = param(4_000.0, unit="EUR/month", doc="coordination", ge=0)


class TemporaryUse(Lever):
    """Temporary use of vacant space: cheap workspace on vacant nodes for a limited time.

    Firms at the target nodes pay less workspace rent (``rent_factor``) and
    founders choosing a node see the cheaper rent. URBACT TUTUR reports
    qualitative results only, so the defaults are assumptions. When the time
    is up (``duration``, default 36 months) the discount ends.
    """

    Settings = TemporaryUseSettings

    def on_start(self) -> None:
        """Open the spaces."""
        self._factor = max(1.0 - self.settings.rent_cut * self.intensity, 0.05)
        self.model.rent_factor[self.target_nodes] *= self._factor

    def on_stop(self) -> None:
        """Close them: full rent again."""
        self.model.rent_factor[self.target_nodes] /= self._factor


@dataclass
class UniversityPartnershipSettings(LeverSettings):
    """University-city partnership settings."""

    retention_gain: float = param(
        1.0,
        unit="utils",
        doc="extra attachment of new graduates to the focus place: its own graduates', or "
        "those of the region's universities when it has none (scaled by intensity)",
        ge=0,
    )
    knowledge_gain: float = param(
        0.5,
        unit="share",
        doc="extra university knowledge spillover at the target nodes (scaled by intensity)",
        source="Valero & Van Reenen 2019: +10% universities per head -> +0.4% GDP/head "
        "(size an assumption)",
        ge=0,
    )
    target: Any = param("focus", unit="-", doc="nodes whose knowledge spillover rises")
    cost_monthly: float = param(12_000.0, unit="EUR/month", doc="liaison office, projects", ge=0)


class UniversityPartnership(Lever):
    """University-city partnership: graduates stay more, knowledge spills over more.

    Raises the attachment (retention bonus) of new graduates of the focus
    place's universities to the focus place, and multiplies the university
    knowledge field at the target nodes, which raises productivity and
    innovation (Valero & Van Reenen 2019: +10% universities per head -> +0.4%
    GDP/head, with spillover to neighbours). A town without a university of
    its own partners with the universities of the rest of the region (the
    large city's): placements and joint projects pull their new graduates
    toward the town's nodes by the same ``retention_gain`` (``graduate_pull``).
    Knowledge flows from universities in reach either way. Effects end with
    the partnership.
    """

    Settings = UniversityPartnershipSettings

    def on_start(self) -> None:
        """Raise retention and knowledge spillover."""
        m, s = self.model, self.settings
        self._retention = s.retention_gain * self.intensity
        self._knowledge = 1.0 + s.knowledge_gain * self.intensity
        self.partner_places = self._partner_places()
        self._apply_retention(+self._retention)
        m.knowledge_multiplier[self.target_nodes] *= self._knowledge

    def _partner_places(self) -> list[int]:
        """The focus place if it has a university, else the region's places that have one."""
        m = self.model
        with_uni = sorted({int(m.place[u.node]) for u in m.universities})
        if m.focus_place in with_uni:
            return [int(m.focus_place)]
        return with_uni

    def _apply_retention(self, gain: float) -> None:
        m = self.model
        for place in self.partner_places:
            if place == m.focus_place:
                m.retention_bonus[place] += gain
            else:
                m.graduate_pull[place, m.focus_nodes] += gain

    def on_stop(self) -> None:
        """Undo both."""
        self._apply_retention(-self._retention)
        self.model.knowledge_multiplier[self.target_nodes] /= self._knowledge


@dataclass
class TaxIncentiveSettings(LeverSettings):
    """Tax incentives / subsidies for creative firms."""

    per_employee: float = param(
        250.0, unit="EUR/employee/month", doc="subsidy (scaled by intensity)", ge=0
    )
    target: Any = param("focus", unit="-", doc="nodes whose creative firms qualify")


class TaxIncentive(Lever):
    """Tax incentives and subsidies: lower costs while paid, and dependence when they stop.

    Creative firms at the target nodes receive a monthly subsidy per employee,
    paid from the budget (the cost varies with employment) and added to the
    same month's revenue. Evidence (domain.md): dependence on subsidies is a
    known failure mode; firms viable only with the subsidy exit in the months
    after it stops.
    """

    Settings = TaxIncentiveSettings

    def on_start(self) -> None:
        """No subsidy paid yet."""
        self._paid = np.zeros(0)

    def _withdraw(self) -> None:
        """Take back last month's subsidy (other levers' subsidies stay)."""
        f = self.model.firms
        n = len(self._paid)
        f.subsidy[:n] = np.maximum(f.subsidy[:n] - self._paid, 0.0)
        self._paid = np.zeros(0)

    def act(self) -> None:
        """Pay this month's subsidies; they enter this month's revenue."""
        self._withdraw()
        f = self.model.firms
        eligible = f.alive & np.isin(f.node, self.target_nodes)
        amount = self.settings.per_employee * self.intensity * f.employees * eligible
        if self.pay(float(amount.sum()), "subsidies"):
            f.subsidy[:] += amount
            self._paid = amount

    def on_stop(self) -> None:
        """Subsidies end."""
        self._withdraw()


@dataclass
class ClusterManagementSettings(LeverSettings):
    """Cluster management and global networking."""

    ties_per_firm: float = param(
        0.05,
        unit="1/month",
        doc="brokered ties per member firm per month (scaled by intensity)",
        source="Falck, Heblich & Kipar 2010: +4.6-5.7 pp innovation probability "
        "(size an assumption)",
        ge=0,
    )
    market_reach_gain: float = param(
        0.1,
        unit="share",
        doc="extra external-market reach of member firms (fairs, trade missions; "
        "scaled by intensity)",
        ge=0,
    )
    target: Any = param("focus", unit="-", doc="nodes whose firms are members")
    cost_once: float = param(50_000.0, unit="EUR", doc="setting up", ge=0)
    cost_monthly: float = param(20_000.0, unit="EUR/month", doc="cluster manager, fairs", ge=0)


class ClusterManagement(Lever):
    """Cluster management and global networking: brokered ties and external market access.

    A cluster manager brokers collaboration ties among member firms (creative
    firms at the target nodes); ties raise innovation and external prices
    through the model's network rules. Members also go to fairs and trade
    missions abroad: extra external-market reach while the programme runs.
    Evidence: Bavaria's cluster policy, +4.6-5.7 pp innovation probability
    (Falck, Heblich & Kipar 2010).
    """

    Settings = ClusterManagementSettings

    def on_start(self) -> None:
        """No member lifted yet."""
        self._lifted = np.zeros(0, dtype=np.int64)

    def _members(self) -> np.ndarray:
        f = self.model.firms
        return np.flatnonzero(f.alive & np.isin(f.node, self.target_nodes))

    def act(self) -> None:
        """Broker ties and lift new members' reach (multiplies any other lever's lift)."""
        m, s = self.model, self.settings
        members = self._members()
        if len(members) >= 2:
            k = self.lever_rng.poisson(s.ties_per_firm * self.intensity * len(members))
            m.add_collaboration_ties(self.lever_rng.choice(members, size=(k, 2)))
        new = np.setdiff1d(members, self._lifted)
        m.firms.market_reach[new] *= 1.0 + s.market_reach_gain * self.intensity
        self._lifted = np.union1d(self._lifted, new)

    def on_stop(self) -> None:
        """Members lose the programme's extra reach; ties remain and lapse over time."""
        lift = 1.0 + self.settings.market_reach_gain * self.intensity
        self.model.firms.market_reach[self._lifted] /= lift


@dataclass
class CitizenInvolvementSettings(LeverSettings):
    """Citizen involvement / local support group."""

    openness_gain: float = param(
        0.2, unit="openness units", doc="openness gain at full effect (scaled by intensity)", ge=0
    )
    months_to_effect: int = param(24, unit="months", doc="months to full effect", ge=1)
    target: Any = param("focus", unit="-", doc="nodes whose openness rises")
    cost_monthly: float = param(5_000.0, unit="EUR/month", doc="facilitation, events", ge=0)


class CitizenInvolvement(Lever):
    """Citizen involvement and a local support group: openness and tolerance rise slowly.

    Openness (tolerance) at the target nodes rises over ``months_to_effect``
    while the group works, and stays; talents weigh openness when they choose
    where to live, so more come and fewer leave (Florida 2002; Boschma &
    Fritsch 2009, 500+ regions: openness raises the creative share). Seeds:
    inclusion and empowerment through culture (domain.md); the size and speed
    of the change are assumptions. Better policy targeting, the seeds' other
    benefit, is not modelled.
    """

    Settings = CitizenInvolvementSettings

    def act(self) -> None:
        """Raise openness by one month's share of the gain (capped at 1)."""
        s = self.settings
        self._ramp(self.model.openness, s.openness_gain * self.intensity, s.months_to_effect)


#: Lever name (as in configs/policy/) -> class.
LEVERS: dict[str, type[Lever]] = {
    "creative_hub": CreativeHub,
    "festival": Festival,
    "cultural_institution": CulturalInvestment,
    "broadband": Broadband,
    "transport": Transport,
    "talent_attraction": TalentAttraction,
    "temporary_use": TemporaryUse,
    "university_partnership": UniversityPartnership,
    "tax_incentive": TaxIncentive,
    "cluster_management": ClusterManagement,
    "citizen_involvement": CitizenInvolvement,
}


def _lever_name(key: str) -> str:
    """Lever type of a policy key: ``festival`` or ``festival_2`` (a second festival)."""
    if key in LEVERS:
        return key
    base, _, suffix = key.rpartition("_")
    if base in LEVERS and suffix.isdigit():
        return base
    raise ConfigError(f"policy.{key} is not a known lever; allowed: {', '.join(LEVERS)}")


def settings_for(key: str, values: dict[str, Any] | None) -> LeverSettings:
    """Typed, validated settings of one lever (raises ConfigError naming lever and field)."""
    cls = LEVERS[_lever_name(key)].Settings
    if values is not None and not isinstance(values, Mapping):
        raise ConfigError(
            f"policy.{key} must be a mapping of settings (e.g. {{start: 12}}), got {values!r}"
        )
    values = dict(values or {})
    known = {f.name for f in dataclasses.fields(cls)}
    for field_name in values:
        if field_name not in known:
            raise ConfigError(
                f"policy.{key}.{field_name} is not a setting of this lever; "
                f"allowed: {', '.join(sorted(known))}"
            )
    settings = cls()
    for name, value in values.items():
        default = getattr(settings, name)
        integer = name == "duration" or (isinstance(default, int) and name != "target")
        if name == "target" and not _is_target(value):
            raise ConfigError(
                f"policy.{key}.target must be a node name, a rule ({', '.join(TARGET_RULES)}) "
                f"or a list of node names, got {value!r}"
            )
        if name != "target" and value is not None:
            allowed = (int,) if integer else (int, float)
            if isinstance(value, bool) or not isinstance(value, allowed):
                kind = "an integer" if integer else "a number"
                raise ConfigError(f"policy.{key}.{name} must be {kind}, got {value!r}")
            if not integer:
                value = float(value)
        setattr(settings, name, value)
    for f in dataclasses.fields(cls):
        _check_value(f"policy.{key}.{f.name}", getattr(settings, f.name), dict(f.metadata))
    return settings


def _is_target(value: Any) -> bool:
    """Whether ``value`` can name targets: a string, a node id, or a list of them."""
    items = value if isinstance(value, list | tuple) else [value]
    return all(isinstance(v, str | int) and not isinstance(v, bool) for v in items)


def _show_default(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1000 else f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if abs(value) >= 1000 else str(value)
    return f"`{value}`"


def lever_table(name: str) -> str:
    """Markdown table of a lever's settings: default, unit, allowed values, meaning, source.

    Generated from the settings dataclass metadata; ``docs/policies.md`` embeds
    one per lever and a test keeps them in sync.

    Examples:
        >>> print(lever_table("festival").splitlines()[0])
        | setting | default | unit | allowed | meaning | source |
    """
    cls = LEVERS[_lever_name(name)].Settings
    rows = [
        "| setting | default | unit | allowed | meaning | source |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for f in dataclasses.fields(cls):
        meta = f.metadata
        allowed = "names or a rule" if f.name == "target" else _allowed(dict(meta))
        if meta.get("optional"):
            allowed += " or null"
        rows.append(
            f"| `{f.name}` | {_show_default(getattr(cls(), f.name))} | {meta['unit']} "
            f"| {allowed} | {meta['doc']} | {meta['source']} |"
        )
    return "\n".join(rows)


def validate_policy_config(policy: dict[str, Any], steps: int) -> None:
    """Check every lever's settings and that it starts within the horizon."""
    for key, values in (policy or {}).items():
        settings = settings_for(key, values)
        if settings.start > steps:
            raise ConfigError(
                f"policy.{key}.start must be <= steps ({steps}), got {settings.start}"
            )


def build_policies(model: CreativeClusterModel, policy: dict[str, Any]) -> list[Policy]:
    """Create the configured levers as Policy agents of ``model`` (in config order)."""
    return [
        LEVERS[_lever_name(key)](model, key, settings_for(key, values))
        for key, values in (policy or {}).items()
    ]
