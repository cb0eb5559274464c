"""Talent-moves phase: retirement, new graduates and locals, location review, newcomers.

A reviewing talent picks a node of the region or leaving it (brain drain);
prospective newcomers (immigrants and those a lever attracts) pick a node or
not coming; new graduates choose with a retention bonus for their university's
place and, where a partnership links their university to another town, a pull
toward that town (``graduate_pull``). All choose by one logit over the same
location utilities (amenity, openness, rent, expected income, commute, ties,
and the node's size in homes).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from mesa import Model

from clustersim.model import draws, kernels
from clustersim.model import mechanisms as mech
from clustersim.model.phases import occupations
from clustersim.model.phases.aggregates import (
    count_employees,
    jobs_by_node_sector,
    talents_by_node_sector,
)
from clustersim.model.phases.rents import dwellings
from clustersim.model.phases.roster import add_talents, remove_talents
from clustersim.model.state import TalentOrigin

__all__ = ["Choosers", "Request", "move_talents", "node_income", "size_terms"]

#: With ``talent.size_weight`` 1, ties count same-sector talents per this many homes of a
#: node (a density, so that a node split in two keeps its pull: each half has half the
#: talents and half the homes); with 0 they count the talents (every node one alternative).
TIES_PER_HOMES = 1000.0


class Request(NamedTuple):
    """A lever's request for newcomers (:meth:`CreativeClusterModel.attract_talents`).

    Attributes:
        prospects: how many prospective newcomers weigh coming this month.
        nodes: the target nodes, where they find ``bonus`` more utility.
        bonus: the extra utility at ``nodes``.
        policy: the lever; its ``on_attracted(ids)`` receives those who came.
        within: the only nodes they weigh (besides not coming), or None for every node.
    """

    prospects: int
    nodes: list[int]
    bonus: float
    policy: Any
    within: np.ndarray | None = None


@dataclass(frozen=True)
class Choosers:
    """Everyone choosing a location this month: reviewing residents, then newcomers.

    Attributes:
        reviewing: talent ids of the residents reviewing their location (sorted).
        n_immigrants: prospective immigrants (the first newcomers).
        requests: the levers' requests for newcomers (the newcomers after the immigrants).
        sector, skill, taste, home, employer_node, wage, retention: one entry per
            chooser (residents first); newcomers have no home (-1), no employer
            node (-1), no wage and no retention.
    """

    reviewing: np.ndarray
    n_immigrants: int
    requests: list[Request]
    sector: np.ndarray
    skill: np.ndarray
    taste: np.ndarray
    home: np.ndarray
    employer_node: np.ndarray
    wage: np.ndarray
    retention: np.ndarray

    @property
    def n_residents(self) -> int:
        """Reviewing residents (the first rows)."""
        return len(self.reviewing)

    def rows(self, start: int, stop: int) -> Choosers:
        """The choosers ``start:stop`` (per-chooser arrays sliced; the rest as it is)."""
        if start == 0 and stop == len(self.sector):
            return self
        return dataclasses.replace(
            self,
            **{name: getattr(self, name)[start:stop] for name in _PER_CHOOSER},
        )


#: The per-chooser arrays of :class:`Choosers`.
_PER_CHOOSER = ("sector", "skill", "taste", "home", "employer_node", "wage", "retention")
#: Entries of the largest block of choosers x nodes utilities computed at once (8 MB).
_BLOCK_ENTRIES = 1_000_000


def move_talents(model: Model) -> None:
    """Retirement, entry of graduates and locals, then everyone reviewing chooses a node."""
    t, rng = model.talents, model.rng
    _retire(model)
    talents_ns = talents_by_node_sector(model)
    income = node_income(model, talents_ns)
    new_locals = occupations.choose_occupations(model, income)
    new_grads = _new_graduates(model)
    alive = t.live
    reviewing = alive[rng.random(len(alive)) < model.params.talent.review_rate]
    reviewing = np.union1d(reviewing, np.concatenate([new_grads, new_locals]))
    requests, model.attraction_requests = model.attraction_requests, []
    n_immigrants = rng.poisson(model.params.talent.immigration_rate * len(alive))
    choosers = _choosers(model, reviewing, n_immigrants, requests)
    sampled = _choice_sets(model, choosers, talents_ns)
    sets = None if sampled is None else sampled.nodes
    # the choosers' utilities in blocks of rows, so that a region of a million talents
    # never holds a choosers x nodes table at once; the logit's draws of consecutive
    # blocks are those of one draw for all rows, so the choices do not depend on blocks
    n_choosers = len(choosers.sector)
    columns = (model.n_nodes if sets is None else sets.shape[1]) + 1
    block = max(1, _BLOCK_ENTRIES // columns)
    compiled = kernels.worth(n_choosers * columns, "CHOICE_ENTRIES")  # same utilities
    choice = np.zeros(n_choosers, dtype=np.int64)
    for start in range(0, n_choosers, block):
        stop = min(start + block, n_choosers)
        part = choosers.rows(start, stop)
        part_sets = None if sampled is None else sampled.rows(start, stop)
        utilities = _utilities(model, part, talents_ns, income, part_sets, compiled)
        _add_pulls(model, utilities, choosers, new_grads, sets, rows=(start, stop))
        choice[start:stop] = draws.logit_choice(utilities, rng)
    if sets is not None:  # column -> node (the last column, leaving, -> n_nodes)
        column = np.minimum(choice, sets.shape[1] - 1)
        node = sets[np.arange(len(choice)), column]
        choice = np.where(choice == sets.shape[1], model.n_nodes, node).astype(np.int64)
    _residents_choose(model, reviewing, choice[: choosers.n_residents])
    _newcomers_arrive(model, choosers, choice[choosers.n_residents :])
    count_employees(model)


def _retire(model: Model) -> None:
    """Talents retire at ``talent.retirement_rate``; a young resident takes their place.

    The young resident joins the labour force in other work (and may later
    choose creative work).
    """
    t = model.talents
    alive = t.live
    retire = alive[model.rng.random(len(alive)) < model.params.talent.retirement_rate]
    homes = np.bincount(t.home[retire], minlength=model.n_nodes)
    remove_talents(model, retire)
    model.other_workers = model.other_workers + homes
    model.residents = model.residents + homes


def _new_graduates(model: Model) -> np.ndarray:
    """New graduates at their university's node.

    Graduates are young people of the university's place entering the labour
    force with a creative degree: each one is a resident who would otherwise
    have entered other work, so the place's other workers (and residents) fall
    by one per graduate, while graduates who leave the region take people away.
    """
    ip = model.params.institutions
    rng, weight = model.rng, model.sector_traits["weight"]
    grads = [np.full(uni.graduates_this_month(), uni.node) for uni in model.universities]
    homes = np.concatenate([np.zeros(0, dtype=np.int64), *grads])
    sectors = draws.categories(rng, model.n_sectors, len(homes), weight)
    new_grads = add_talents(
        model,
        homes,
        sectors,
        origin=TalentOrigin.GRADUATE,
        skill_mean=ip.graduate_skill,
        retention=ip.graduate_retention + model.retention_bonus[model.place[homes]],
    )
    np.add.at(model.graduates_by_place, model.place[homes], 1)
    entered = np.minimum(np.bincount(homes, minlength=model.n_nodes), model.other_workers)
    model.other_workers = model.other_workers - entered
    model.residents = model.residents - entered
    return new_grads


def _choosers(
    model: Model, reviewing: np.ndarray, n_immigrants: int, requests: list[Request]
) -> Choosers:
    """Gather the choosers' traits; newcomers' sector, skill and taste are drawn."""
    tp = model.params.talent
    t, rng = model.talents, model.rng
    n_new = n_immigrants + sum(r.prospects for r in requests)
    sector = np.concatenate(
        [
            t.sector[reviewing],
            draws.categories(rng, model.n_sectors, n_new, model.sector_traits["weight"]),
        ]
    )
    sigma = tp.skill_sigma
    skill_new = rng.lognormal(-0.5 * sigma**2, sigma, size=n_new)
    taste_new = np.maximum(rng.normal(tp.amenity_weight, tp.amenity_weight_sd, n_new), 0.0)
    employer = t.employer[reviewing]
    employed = employer >= 0
    employer_node = np.full(len(reviewing), -1, dtype=np.int64)
    employer_node[employed] = model.firms.node[employer[employed]]  # works with no firms yet
    wage = np.where(employed, model.talent_income(reviewing), 0.0)
    return Choosers(
        reviewing=reviewing,
        n_immigrants=n_immigrants,
        requests=requests,
        sector=sector,
        skill=np.concatenate([t.skill[reviewing], skill_new]),
        taste=np.concatenate([t.taste[reviewing], taste_new]),
        home=np.concatenate([t.home[reviewing].astype(np.int64), np.full(n_new, -1)]),
        employer_node=np.concatenate([employer_node, np.full(n_new, -1)]),
        wage=np.concatenate([wage, np.zeros(n_new)]),
        retention=np.concatenate([t.retention[reviewing], np.zeros(n_new)]),
    )


def _choice_sets(
    model: Model, choosers: Choosers, talents_ns: np.ndarray
) -> draws.ChoiceSets | None:
    """Sampled choice sets in a city of many nodes, else None (every node is weighed).

    Above ``talent.choice_set_size`` nodes each chooser weighs home, workplace, the
    nodes a partnership or a lever pulls toward, and that many nodes drawn with
    probability half in proportion to population, half evenly
    (:func:`draws.sample_alternatives`).
    """
    size = model.params.talent.choice_set_size
    if size == 0 or model.n_nodes <= size:
        return None
    population = model.residents + talents_ns.sum(axis=1)
    weights = 0.5 * population / population.sum() + 0.5 / model.n_nodes
    pulled = [np.flatnonzero(model.graduate_pull.any(axis=0))]
    pulled += [np.asarray(r.nodes, dtype=np.int64) for r in choosers.requests]
    always = np.unique(np.concatenate(pulled))
    return draws.ChoiceSets.draw(
        choosers.home, choosers.employer_node, weights, size, model.rng, always=always
    )


def _utilities(
    model: Model,
    choosers: Choosers,
    talents_ns: np.ndarray,
    income: np.ndarray,
    sets: draws.ChoiceSets | None = None,
    compiled: bool = False,
) -> np.ndarray:
    """Utility of each node, or of each node of ``sets`` (corrected), and of leaving (last)."""
    tp = model.params.talent
    per, log_size = size_terms(model)
    return mech.talent_location_utilities(
        sector=choosers.sector.astype(np.int64),
        skill=choosers.skill,
        amenity_taste=choosers.taste,
        home=choosers.home,
        employer_node=choosers.employer_node,
        wage=choosers.wage,
        retention=choosers.retention,
        node_income=income,
        amenity=model.amenity,
        openness=model.openness,
        rent=model.rent,
        ties=np.log1p(talents_ns if per is None else talents_ns / per[:, None]),
        log_size=log_size,
        travel_time=model.travel_time,
        place=model.place,
        max_commute=model.params.labour.max_commute,
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
        alternatives=sets,
        compiled=compiled,
    )


def size_terms(model: Model) -> tuple[np.ndarray | None, np.ndarray | None]:
    """What ties count per, and the size term, of each node: (None, None) at size_weight 0.

    With ``talent.size_weight`` b > 0, ties count talents per ``(homes / 1000) ** b`` and
    the size term is ``b * ln(homes / talent.outside_size)``; at 0 ties are a count and
    there is no size term (left out, so results are those without the option).
    """
    tp = model.params.talent
    if tp.size_weight == 0:
        return None, None
    homes = dwellings(model)
    return (homes / TIES_PER_HOMES) ** tp.size_weight, tp.size_weight * np.log(
        homes / tp.outside_size
    )


def node_income(model: Model, talents_ns: np.ndarray) -> np.ndarray:
    """Expected income by node and sector: wages in reach, jobs and vacancies per talent."""
    jobs = jobs_by_node_sector(model)
    wage_ns = np.repeat(_wage_in_reach(model, jobs)[:, None], model.n_sectors, axis=1)
    return mech.expected_income(
        wage_ns,
        jobs + _vacancies_by_node_sector(model),
        talents_ns,
        model.commute_reach,
        model.params.talent.unemployment_income,
        model.params.labour.cross_sector_productivity,
    )


def _wage_in_reach(model: Model, jobs: np.ndarray) -> np.ndarray:
    """Wage per skill unit a talent living at each node can expect from the jobs in reach.

    Jobs in another place (a commute to the large city) pay that place's wage.
    """
    jobs_at = jobs.sum(axis=1) + 1e-9
    paid = model.commute_reach @ (jobs_at * model.wage[model.place])
    return paid / (model.commute_reach @ jobs_at)


def _vacancies_by_node_sector(model: Model) -> np.ndarray:
    """Vacancies still open after this month's matching, at living firms, by node and sector."""
    f, vac = model.firms, model.open_vacancies
    live = f.live[f.live < len(vac)]
    key = f.node[live].astype(np.int64) * model.n_sectors + f.sector[live]
    out = np.bincount(key, weights=vac[live], minlength=model.n_nodes * model.n_sectors)
    return out.reshape(model.n_nodes, model.n_sectors)


def _add_pulls(
    model: Model,
    utilities: np.ndarray,
    choosers: Choosers,
    new_grads: np.ndarray,
    sets: np.ndarray | None = None,
    rows: tuple[int, int] | None = None,
) -> None:
    """Add partnership pulls of new graduates and levers' pulls of their prospects (in place).

    ``sets``: the choosers' sampled choice sets (columns are their nodes), or None
    (columns are all nodes). ``rows``: the choosers ``(start, stop)`` whose utilities
    ``utilities`` holds (default: all of them).
    """
    start, stop = (0, len(choosers.sector)) if rows is None else rows
    if len(new_grads) and model.graduate_pull.any():  # partnerships with other places
        at = np.searchsorted(choosers.reviewing, new_grads)  # reviewing is sorted, holds them
        inside = (at >= start) & (at < stop)
        at, grads = at[inside], new_grads[inside]
        pull = model.graduate_pull[model.place[model.talents.home[grads]]]
        if sets is None:
            utilities[at - start, : model.n_nodes] += pull
        else:
            utilities[at - start, :-1] += np.take_along_axis(pull, sets[at], axis=1)
    row = choosers.n_residents + choosers.n_immigrants
    for count, nodes, bonus, _, within in choosers.requests:  # policy prospects
        lo, hi = max(row, start), min(row + count, stop)
        if lo < hi:  # the extra pull of the targets; the nodes outside ``within`` closed
            block = utilities[lo - start : hi - start, :-1]
            if sets is None:
                block[:, nodes] += bonus
                if within is not None:
                    block[:, np.isin(np.arange(model.n_nodes), within, invert=True)] = -np.inf
            else:
                block += bonus * np.isin(sets[lo:hi], nodes)
                if within is not None:
                    block[np.isin(sets[lo:hi], within, invert=True)] = -np.inf
        row += count


def _residents_choose(model: Model, reviewing: np.ndarray, choice: np.ndarray) -> None:
    """Residents leave the region or move; a mover keeps the job only if it is still in reach."""
    t, place = model.talents, model.place
    leave = choice == model.n_nodes
    held = reviewing[t.retention[reviewing].view(np.uint64) != 0]  # zeros stay unwritten
    t.retention[held] = 0.0
    leavers = reviewing[leave]
    np.add.at(model.left_region, place[t.home[leavers]], 1)
    remove_talents(model, leavers, left_region=True)
    moving = ~leave & (choice != t.home[reviewing])
    movers, targets = reviewing[moving], choice[moving]
    from_place, to_place = place[t.home[movers]], place[targets]
    crossing = from_place != to_place
    np.add.at(model.moves_out, from_place[crossing], 1)
    np.add.at(model.moves_in, to_place[crossing], 1)
    t.home[movers] = targets
    emp = t.employer[movers]
    has_job = emp >= 0
    too_far = np.zeros(len(movers), dtype=bool)
    too_far[has_job] = (
        model.travel_time[targets[has_job], model.firms.node[emp[has_job]]]
        > model.params.labour.max_commute
    )
    t.put("employer", movers[too_far], -1)


def _newcomers_arrive(model: Model, choosers: Choosers, choice: np.ndarray) -> None:
    """Newcomers who chose a node come (immigrants first, then each lever's prospects).

    Each lever's ``on_attracted`` receives the ids of its prospects who came.
    """
    t = model.talents
    come = choice < model.n_nodes
    n_new = len(choice)
    origin = np.where(
        np.arange(n_new) < choosers.n_immigrants, TalentOrigin.IMMIGRANT, TalentOrigin.POLICY
    )
    start = choosers.n_residents
    ids = t.append(
        int(come.sum()),
        sector=choosers.sector[start:][come],
        skill=choosers.skill[start:][come],
        taste=choosers.taste[start:][come],
        home=choice[come],
        alive=True,
        arrived=model.steps,
        origin=origin[come],
    )
    model.talent_rows.add(model, ids)
    np.add.at(model.moves_in, model.place[choice[come]], 1)
    row_of = np.flatnonzero(come)  # newcomer row of each new id
    row = choosers.n_immigrants
    for request in choosers.requests:
        count = request.prospects
        request.policy.on_attracted(ids[(row_of >= row) & (row_of < row + count)])
        row += count
