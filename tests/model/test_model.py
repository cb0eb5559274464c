"""CreativeClusterModel: Mesa usage, reproducibility, invariants and emergent behaviour."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd
import pytest

from clustersim import ConfigError, CreativeClusterModel, load_config
from clustersim.model.agents import CreativeFirm, Talent
from clustersim.model.config import CityConfig
from clustersim.model.phases.aggregates import (
    Census,
    employed_rows,
    firms_per_node,
    talents_per_node,
)
from clustersim.model.phases.fields import culture_field
from clustersim.model.schema import InstitutionParams
from clustersim.model.state import FirmOrigin
from conftest import STATIONARY, uniform_city
from graphml_files import three_node_city


def run(model: CreativeClusterModel, months: int) -> pd.DataFrame:
    model.run_for(months)
    return pd.DataFrame(model.records)


def test_model_runs_as_a_plain_mesa_model():
    model = CreativeClusterModel(rng=42, city="small_town", population=5000)
    model.run_for(6)
    assert model.steps == 6
    assert [r["step"] for r in model.records] == list(range(7))
    talents = model.agents_by_type[Talent]
    firms = model.agents_by_type[CreativeFirm]
    assert len(talents) == int(model.talents.alive.sum())
    assert len(firms) == int(model.firms.alive.sum())


def test_same_seed_gives_identical_tables_and_different_seeds_differ():
    def tables(seed):
        m = CreativeClusterModel(rng=seed, city="small_town", population=6000)
        m.run_for(24)
        return pd.DataFrame(m.records), m.firm_table(), m.talent_table()

    a, b, c = tables(7), tables(7), tables(8)
    for left, right in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(left, right)
    assert not a[0].equals(c[0])


def _pickled(model: CreativeClusterModel) -> CreativeClusterModel:
    return pickle.loads(pickle.dumps(model))


@pytest.mark.parametrize("copy_of", [copy.deepcopy, _pickled], ids=["deepcopy", "pickle"])
def test_a_copied_model_continues_as_the_original_would_and_apart_from_it(copy_of):
    # a researcher branches a run mid-way (deepcopy) or sends it to another process (pickle)
    levers = {"creative_hub": {"intensity": 1.0}, "tax_incentive": {"intensity": 1.0}}
    model = CreativeClusterModel(rng=3, city="small_town", population=6000, policy=levers)
    model.run_for(4)
    unmade = (model.talent_rows.unmade, model.firm_rows.unmade)
    assert min(unmade) > 0  # agents not made yet: a copy must keep them so
    twin = copy_of(model)
    assert (twin.talent_rows.unmade, twin.firm_rows.unmade) == unmade
    assert (model.talent_rows.unmade, model.firm_rows.unmade) == unmade  # copying made none
    for shared in (employed_rows(twin), culture_field(twin), twin.talents.live):
        with pytest.raises(ValueError):  # the arrays its caches share are read-only
            shared[0] = 0
    twin.run_for(8)
    assert model.steps == 4 and len(model.records) == 5  # the original did not move
    model.run_for(8)
    pd.testing.assert_frame_equal(pd.DataFrame(twin.records), pd.DataFrame(model.records))
    for table in ("firm_table", "talent_table", "policy_table", "ledger_table"):
        pd.testing.assert_frame_equal(getattr(twin, table)(), getattr(model, table)())
    assert [a.unique_id for a in twin.agents] == [a.unique_id for a in model.agents]
    assert all(agent.model is twin for agent in twin.agents)
    cells = [[a.unique_id for a in cell.agents] for cell in twin.space.all_cells]
    assert cells == [[a.unique_id for a in cell.agents] for cell in model.space.all_cells]
    with pytest.raises(ValueError):  # the copy's guarded columns are read-only too
        twin.talents.alive[0] = False


def test_from_config_matches_keyword_construction():
    _, dcfg = load_config("small_town", steps=12, seed=3, overrides=["city.population=5000"])
    by_cfg = CreativeClusterModel.from_config(dcfg)
    by_kwargs = CreativeClusterModel(rng=3, city="small_town", population=5000)
    by_cfg.run_for(12)
    by_kwargs.run_for(12)
    pd.testing.assert_frame_equal(pd.DataFrame(by_cfg.records), pd.DataFrame(by_kwargs.records))


def test_bad_keyword_parameters_are_rejected_with_the_field_name():
    with pytest.raises(ConfigError, match=r"talent\.review_rate must be >= 0"):
        CreativeClusterModel(rng=0, city="small_town", talent={"review_rate": -1})
    with pytest.raises(ConfigError, match=r"firm\.nonsense is not a known parameter"):
        CreativeClusterModel(rng=0, city="small_town", firm={"nonsense": 1})
    with pytest.raises(ConfigError, match="city must be one of"):
        CreativeClusterModel(rng=0, city="atlantis")
    with pytest.raises(ConfigError, match=r"got 'obidoss'; did you mean 'obidos'\?$"):
        CreativeClusterModel(rng=0, city="obidoss")
    with pytest.raises(ConfigError, match=r"got 'region' \(a region or a GraphML city is comp"):
        CreativeClusterModel(rng=0, city="region")
    with pytest.raises(ConfigError, match=r"talent\.revew_rate .*; did you mean 'review_rate'\?$"):
        CreativeClusterModel(rng=0, talent={"revew_rate": 0.1})


def test_a_city_is_a_name_a_config_a_mapping_of_its_fields_or_a_graph(tmp_path):
    """A mapping used to be ignored without a word (the default small town was built)."""
    spin = {"months": 0}
    model = CreativeClusterModel(rng=0, city={"kind": "region", "travel_time": 30.0}, spin_up=spin)
    assert (model.params.city.kind, model.params.city.travel_time) == ("region", 30.0)
    assert len(model.place_names) == 2  # the town and the city
    by_config = CreativeClusterModel(
        rng=0, city=CityConfig(kind="region", travel_time=30.0), spin_up=spin
    )
    assert by_config.params.city == model.params.city
    family = CreativeClusterModel(
        rng=0, city={"family": {"density": 2500.0}}, population=9000, spin_up=spin
    )
    assert (family.params.city.family.density, family.params.city.population) == (2500.0, 9000)
    with pytest.raises(ConfigError, match=r"city\.family\.densty .*did you mean 'density'\?$"):
        CreativeClusterModel(rng=0, city={"family": {"densty": 1.0}})
    with pytest.raises(ConfigError, match=r"^city\.travel_tme is not a known parameter of city"):
        CreativeClusterModel(rng=0, city={"kind": "region", "travel_tme": 3})
    with pytest.raises(ConfigError, match="a mapping of its fields or a networkx graph; got int"):
        CreativeClusterModel(rng=0, city=5)
    # a mapping that names a generator or a preset starts from that city, not the default
    for fields, name in (
        ({"kind": "metropolis"}, "Metropolis"),
        ({"kind": "preset", "preset": "obidos"}, "Obidos"),
    ):
        named = CreativeClusterModel(rng=0, city=fields, spin_up=spin).params.city
        by_name = fields.get("preset", fields["kind"])
        assert named == CreativeClusterModel(rng=0, city=by_name, spin_up=spin).params.city
        assert named.name == name
    with pytest.raises(ConfigError, match=r"^city\.family is a group of parameters.*got 3$"):
        CreativeClusterModel(rng=0, city={"family": 3})
    # another kind of city over a region's config: the region's link settings do not carry
    region, _ = load_config("region", overrides=["city.city_population=300000"])
    path = three_node_city(tmp_path / "hand.graphml")
    hand = CreativeClusterModel(
        config=region, city={"kind": "graphml", "graphml": str(path)}, spin_up=spin
    ).params.city
    assert (hand.kind, hand.city_population) == ("graphml", CityConfig().city_population)
    with pytest.raises(ConfigError, match=r"^talent\.1 is not a known parameter of talent$"):
        CreativeClusterModel(rng=0, talent={1: 2})


def test_state_invariants_hold_every_month():
    model = CreativeClusterModel(rng=1, city="small_town", population=8000)
    for _ in range(36):
        model.step()
        t, f = model.talents, model.firms
        employed = t.alive & (t.employer >= 0)
        # nobody works for a closed firm, dead talents hold no job
        assert f.alive[t.employer[employed]].all()
        assert (t.employer[~t.alive] == -1).all()
        # employee counts agree with the talent table; living firms keep at least 0
        counts = np.bincount(t.employer[employed], minlength=f.n)
        assert (counts == f.employees).all()
        # every employed talent lives within commuting reach of the workplace
        commute = model.travel_time[t.home[employed], f.node[t.employer[employed]]]
        assert (commute <= model.params.labour.max_commute + 1e-9).all()
        assert (model.rent > 0).all()
        assert (model.residents >= 0).all()


def test_firm_table_has_one_row_per_firm_ever_created():
    model = CreativeClusterModel(rng=2, city="small_town", population=8000)
    model.run_for(60)
    firms = model.firm_table()
    assert len(firms) == model.firms.n
    assert firms["firm_id"].is_unique
    closed = firms["exit_step"].notna()
    assert closed.sum() == int((~model.firms.alive).sum())
    assert (firms.loc[closed, "exit_step"] >= firms.loc[closed, "founded_step"]).all()
    assert set(firms["origin"].unique()) <= set(FirmOrigin.labels())
    assert {"spin-off", "start-up"} & set(firms["origin"].unique())
    spinoffs = firms[firms["origin"] == "spin-off"]
    assert spinoffs["parent_id"].notna().all()


def test_firm_exit_when_cash_runs_out():
    model = CreativeClusterModel(rng=3, city="small_town", population=5000)
    victim = int(np.flatnonzero(model.firms.alive)[0])
    staff = np.flatnonzero(model.talents.employer == victim)
    model.firms.cash[victim] = -1e9
    model.step()
    assert not model.firms.alive[victim]
    assert model.firms.exit_step[victim] == 1
    assert (model.talents.employer[staff] != victim).all()
    assert model.records[-1]["firm_exits"] >= 1


def test_university_graduates_enter_the_local_labour_market():
    # 80 a year per 1,000 inhabitants of a city of 15,000: 1,200 a year over three universities
    with_uni = uniform_city(3, 5000, university=1)
    model = CreativeClusterModel(rng=0, city=with_uni, institutions={"graduates_per_1000": 80.0})
    run(model, 12)
    grads = model.talent_table().query("origin == 'graduate'")
    assert len(grads) > 1200 * 0.8
    assert sum(r["graduates"] for r in model.records) == len(grads)


def _graduates_a_year(city) -> float:
    model = CreativeClusterModel(rng=0, city=city, spin_up={"months": 0})
    return sum(u.graduates_per_year for u in model.universities)


def test_graduates_follow_the_population_of_the_university_place_not_the_count():
    """A place twice as large sends twice the graduates; a second university shares them."""
    assert _graduates_a_year(uniform_city(3, 20_000)) == 0.0
    small = uniform_city(3, 20_000)
    small.nodes[0]["university"] = 1
    large = uniform_city(3, 40_000)
    large.nodes[0]["university"] = 1
    two = uniform_city(3, 40_000)
    two.nodes[0]["university"] = 1
    two.nodes[1]["university"] = 1
    per_1000 = InstitutionParams().graduates_per_1000
    assert _graduates_a_year(small) == pytest.approx(per_1000 * 60)
    assert _graduates_a_year(large) == pytest.approx(2 * _graduates_a_year(small))
    assert _graduates_a_year(two) == pytest.approx(_graduates_a_year(large))


def test_cultural_institution_raises_amenity_around_it():
    model = CreativeClusterModel(rng=0, city=uniform_city(3, 5000, complete=False, travel_time=15))
    before = model.amenity.copy()
    model.add_cultural_institution(0, strength=0.3)
    model.step()
    gain = model.amenity - before
    assert gain[0] == pytest.approx(0.3, rel=1e-6)
    assert gain[0] > gain[1] > gain[2] > 0


def agglomeration_run(seed, elasticity=1.0, cap=None):
    """Five identical nodes 10 minutes apart; strong returns to density by default."""
    model = CreativeClusterModel(
        rng=seed,
        city=uniform_city(5, 6000),
        firm={
            "agglomeration_elasticity": elasticity,
            "agglomeration_reference": 50.0,
            "agglomeration_cap": cap,
            "location_noise": 0.25,
        },
    )
    model.run_for(180)
    return model


def test_uncapped_increasing_returns_lock_in_on_one_node_with_different_winners():
    """Arthur (1990): unbounded returns to density take one location, which one is chance."""
    winners = set()
    for seed in range(4):
        firms = firms_per_node(agglomeration_run(seed))
        assert firms.max() / firms.sum() > 0.9, (seed, firms)
        assert firms.max() >= 20
        winners.add(int(np.argmax(firms)))
    assert len(winners) >= 2


@pytest.mark.parametrize("seed", [0, 1])
def test_a_cap_every_node_reaches_lets_the_nodes_share(seed):
    firms = firms_per_node(agglomeration_run(seed, cap=60.0))
    assert firms.max() / firms.sum() < 0.4, firms
    assert (firms / firms.sum() >= 0.05).all(), firms


@pytest.mark.parametrize("seed", [0, 1])
def test_the_literature_elasticity_does_not_lock_in(seed):
    """At 0.05 (Ciccone & Hall 1996) no node of an identical town takes half the firms."""
    firms = firms_per_node(agglomeration_run(seed, elasticity=0.05))
    assert firms.max() / firms.sum() < 0.45, firms
    assert (firms / firms.sum() >= 0.05).all(), firms


def test_rents_rise_where_creative_firms_cluster():
    model = agglomeration_run(0)
    jobs = np.bincount(
        model.firms.node[model.firms.alive],
        weights=model.firms.employees[model.firms.alive],
        minlength=model.n_nodes,
    )
    rise = model.rent / model.base_rent
    cluster, empty = int(np.argmax(jobs)), int(np.argmin(jobs))
    assert rise[cluster] > 1.0
    assert rise[cluster] > rise[empty]
    assert np.corrcoef(jobs, rise)[0, 1] > 0.8
    # Glaeser, Kolko & Saiz 2001: where jobs draw people, rents outpace what other work
    # pays, and low-income residents are pushed out of the cluster first
    other_wage = [row["other_wage"] for row in (model.records[0], model.records[-1])]
    assert rise[cluster] > other_wage[1] / other_wage[0]
    assert model.low_income[cluster] == model.low_income.min()
    assert sum(row["displaced"] for row in model.records) > 0


def region_run(travel_time, seed=0, spin_up=0):
    cfg, _ = load_config(
        "region",
        seed=seed,
        overrides=[
            f"city.travel_time={travel_time}",
            "city.city_population=200000",
            f"spin_up.months={spin_up}",
        ],
    )
    model = CreativeClusterModel.from_config(cfg)
    model.run_for(120)
    return model


def test_better_transport_link_moves_talent_between_town_and_city():
    """Each link's own long-run state (stationary starts): a fast link makes a dormitory town."""
    months = STATIONARY["months"]
    slow, fast = region_run(120, spin_up=months), region_run(15, spin_up=months)

    def town_residents_working(m):
        """(working town residents, those of them working in the city)."""
        t = m.talents
        working = t.alive & (t.employer >= 0) & (m.place[t.home] == m.focus_place)
        firm_place = m.place[m.firms.node[t.employer[working]]]
        return int(working.sum()), int((firm_place != m.focus_place).sum())

    assert town_residents_working(slow)[1] == 0
    working, in_city = town_residents_working(fast)
    assert in_city > 0.5 * working  # measured: 50 of 54
    slow_ts, fast_ts = pd.DataFrame(slow.records), pd.DataFrame(fast.records)
    # the town's own creative jobs drain toward the city (Qin 2017; Diao 2018), while
    # more people live in the town and commute: a dormitory town
    assert fast_ts["creative_employment"].mean() < 0.8 * slow_ts["creative_employment"].mean()
    assert fast_ts["population"].mean() > slow_ts["population"].mean()


def test_brain_drain_when_the_outside_pays_much_more():
    talents = np.zeros(2)  # talents at month 36, summed over the seeds
    for seed in range(5):
        stay = CreativeClusterModel(rng=seed, city="small_town", population=6000)
        drain = CreativeClusterModel(
            rng=seed, city="small_town", population=6000, talent={"outside_income": 6000}
        )
        a, b = run(stay, 36), run(drain, 36)
        assert b["brain_drain"].sum() > a["brain_drain"].sum() + 10
        talents += [a["talents"].iloc[-1], b["talents"].iloc[-1]]
    # Summed over the seeds: the town keeps fewer talents. Not in every seed, since those who
    # leave free jobs for the rest: fewer of them fall back to other work and more residents
    # take creative work up (occupational choice, model.md 7.2). In seed 0, 25 more leave, 16
    # fewer fall back and 11 more take it up, and both towns end with 74 talents; over 20
    # seeds the drain leaves 20 fewer (se 2) of about 94, in 19 of them.
    assert talents[1] < talents[0]


def test_metrics_columns_requested_by_users_are_present():
    model = CreativeClusterModel(rng=0, city="small_town", population=5000)
    ts = run(model, 2)
    required = {
        "step",
        "population",
        "talents",
        "creative_employment",
        "creative_firms",
        "firm_births",
        "firm_exits",
        "mean_rent",
        "creative_share",
        "location_quotient",
        "spatial_gini",
        "largest_cluster",
        "net_migration",
        "innovation",
        "policy_spend",
    }
    assert required <= set(ts.columns)
    assert ts["creative_share"].between(0, 1).all()
    assert ts["spatial_gini"].between(0, 1).all()


def test_stylized_facts_micro_firms_and_early_exits():
    """Most creative firms are micro firms; many young firms exit within a few years."""
    model = CreativeClusterModel(rng=0, city="medium_city", population=60_000)
    model.run_for(120)
    firms = model.firm_table()
    alive = firms[firms["exit_step"].isna()]
    assert (alive["employees"] < 10).mean() > 0.85
    assert alive["employees"].max() >= 5 * alive["employees"].median()
    young = firms[firms["founded_step"].between(1, 60)]
    assert len(young) > 50
    exited = young["exit_step"].notna() & (young["exit_step"] - young["founded_step"] <= 60)
    assert 0.2 < exited.mean() < 0.8


# ------------------------------------------------------------------ city.seed


def _town(seed: int, graph_seed: int | None) -> CreativeClusterModel:
    overrides = ["city.population=8000"] + (
        [] if graph_seed is None else [f"city.seed={graph_seed}"]
    )
    cfg, _ = load_config("small_town", overrides=overrides)
    return CreativeClusterModel(rng=seed, config=cfg, spin_up={"months": 0})


def _graph_data(model: CreativeClusterModel) -> tuple:
    g = model.graph
    return (
        sorted(g.nodes(data=True), key=lambda nd: nd[0]),
        sorted((min(u, v), max(u, v), d["travel_time"]) for u, v, d in g.edges(data=True)),
    )


def test_city_seed_gives_identical_towns_with_different_histories():
    a, b = _town(0, graph_seed=7), _town(1, graph_seed=7)
    assert _graph_data(a) == _graph_data(b)  # the same town...
    for _ in range(12):
        a.step()
        b.step()
    assert a.records[-1] != b.records[-1]  # ...living a different history
    assert _graph_data(_town(0, graph_seed=8)) != _graph_data(a)


def test_without_city_seed_each_run_seed_draws_its_own_town():
    assert _graph_data(_town(0, None)) != _graph_data(_town(1, None))
    assert _graph_data(_town(3, None)) == _graph_data(_town(3, None))


def test_negative_city_seed_is_a_one_line_config_error():
    with pytest.raises(ConfigError, match=r"city\.seed must be >= 0.*got -1"):
        load_config("small_town", overrides=["city.seed=-1"])


def test_a_config_without_rng_runs_with_its_own_seed():
    """A model built from a config alone takes ``config.seed``: the same config, the same run."""
    cfg, _ = load_config("small_town", overrides=["city.population=6000", "seed=11"])
    runs = [CreativeClusterModel(config=cfg, spin_up={"months": 0}) for _ in range(2)]
    runs.append(CreativeClusterModel(rng=11, config=cfg, spin_up={"months": 0}))
    for model in runs:
        model.run_for(4)
    assert runs[0].records == runs[1].records == runs[2].records
    other = CreativeClusterModel(rng=12, config=cfg, spin_up={"months": 0})
    other.run_for(4)
    assert other.records != runs[0].records  # an explicit rng still wins


def test_a_config_brings_its_own_city_unless_city_is_given():
    cfg, _ = load_config("medium_city", overrides=["city.population=60000", "spin_up.months=0"])
    model = CreativeClusterModel(rng=0, config=cfg)
    assert (model.params.city.kind, model.params.city.population) == ("medium_city", 60000)
    assert model.population0.sum() == pytest.approx(60000)
    resized = CreativeClusterModel(rng=0, config=cfg, population=40000)
    assert (resized.params.city.kind, resized.params.city.population) == ("medium_city", 40000)
    assert cfg.city.population == 60000  # the caller's config is left as it was
    named = CreativeClusterModel(rng=0, config=cfg, city="small_town", population=5000)
    assert named.params.city.kind == "small_town"


def test_identical_towns_with_different_histories_end_with_and_without_a_cluster():
    """Path dependence (Arthur 1990): the same town, plan and rules; only the history differs.

    With strong increasing returns (elasticity 1, reference 64 jobs) a history that
    gathered creative jobs on one node keeps them, one that did not stays diffuse
    (experiments/path_dependence.py runs more sizes and a plan). The window is
    narrow and moves with the calibration: in the family's compact town of 12,000 (9
    nodes), with the calibrated defaults, the 100-year spin-up and households moving
    only into vacant homes (7 December 2026), 3 of 8 histories keep a cluster
    (2,200-3,300 jobs within reach of the busiest node; towns of 14,000-21,000) and 5
    never have one. Every history stays a town: before that bound one of them grew to a
    billion residents in its spin-up, with no creative firm left, and was counted here
    as one that never had a cluster.
    """
    reference = 64.0
    kept, never = 0, 0
    for seed in range(8):
        cfg, _ = load_config(
            "small_town",
            seed=seed,
            overrides=[
                "city.population=12000",
                "city.seed=3",
                "firm.agglomeration_elasticity=1",
                f"firm.agglomeration_reference={reference}",
                f"spin_up.months={STATIONARY['months']}",  # month 0 ends the users' spin-up
            ],
        )
        model = CreativeClusterModel.from_config(cfg)
        start = _busiest_density(model)
        at_month_0 = _town_population(model)
        model.run_for(120)
        end = _busiest_density(model)
        most = max(at_month_0, *(row["population"] for row in model.records))
        assert most < 2.5 * 12000, (seed, most)  # a town, not a runaway
        kept += start >= 2 * reference and end >= 2 * reference
        never += start < reference and end < reference
    assert kept >= 2 and never >= 2, (kept, never)


def _town_population(model) -> float:
    """The town's residents and talents now (the ``population`` outcome, at any month)."""
    people = model.residents + Census.of(model).talents_at
    return float(people[model.focus_nodes].sum())


def _busiest_density(model):
    f = model.firms
    alive = f.live
    jobs = np.bincount(f.node[alive], weights=f.employees[alive], minlength=model.n_nodes)
    return (model.agglomeration_reach @ jobs).max()


# ------------------------------------------------------- sampled choice sets


def _path_city_runs(choice_set_size: int) -> list[dict]:
    """Twelve seeds of a 150-node city, two years, talents reviewing their home often.

    Four seeds were too few: their mean talents differ by ~1.4% between two unpaired sets
    of runs by chance alone, the size of the tolerance below.
    """
    city = uniform_city(150, population=700, complete=False)  # 150 nodes on a line...
    big = np.arange(0, 150, 10)
    for node in big:
        city.nodes[node]["population"] = 3000  # ...every tenth a bigger neighbourhood
    runs = []
    for seed in range(12):
        model = CreativeClusterModel(
            city=city,
            rng=seed,
            spin_up={"months": 0},
            talent={"choice_set_size": choice_set_size, "review_rate": 0.1},
        )
        model.run_for(24)
        at = talents_per_node(model)
        runs.append({**model.records[-1], "share_in_big_nodes": at[big].sum() / at.sum()})
    return runs


def test_sampled_choice_sets_keep_a_big_citys_outcomes():
    full, sampled = _path_city_runs(0), _path_city_runs(50)
    assert full != sampled  # above 50 nodes the choice sets are sampled...
    names = ("talents", "creative_employment", "share_in_big_nodes")
    mean = {name: [np.mean([r[name] for r in runs]) for runs in (full, sampled)] for name in names}
    # ...and the city comes out the same: as many talents and jobs, living in the same places
    # (the big nodes are drawn more often; without the sampling correction 0.26, not 0.13)
    assert mean["talents"][1] == pytest.approx(mean["talents"][0], rel=0.015)
    assert mean["creative_employment"][1] == pytest.approx(mean["creative_employment"][0], rel=0.02)
    assert mean["share_in_big_nodes"][1] == pytest.approx(mean["share_in_big_nodes"][0], abs=0.02)
    assert _path_city_runs(150) == full  # with as many nodes as the city: every node, as before


def test_keyword_groups_apply_on_top_of_a_config():
    cfg, _ = load_config("small_town", overrides=["city.population=3000"])
    months = cfg.spin_up.months
    model = CreativeClusterModel(
        rng=0, config=cfg, spin_up={"months": months + 6}, firm={"unit_price": 2500}
    )
    assert model.spin_up_months == months + 6 and model.params.firm.unit_price == 2500
    assert cfg.spin_up.months == months and cfg.firm.unit_price != 2500  # the caller's, unchanged


def test_migrating_households_keep_the_mix_of_workers_and_dependants():
    """Out-migration takes workers, dependants and low-income residents in proportion."""
    from clustersim.model.phases import accounts

    model = CreativeClusterModel(rng=0, city="small_town", spin_up={"months": 0})
    model.run_for(3)
    model.other_wage = np.full(len(model.place_names), 1000.0)  # half what it pays elsewhere
    before = model.residents.copy(), model.other_workers.copy(), model.low_income.copy()
    accounts._migrate(model, Census.of(model))
    residents, workers, low = before
    assert model.residents.sum() < residents.sum()
    assert model.other_workers / model.residents == pytest.approx(workers / residents)
    assert model.low_income / model.residents == pytest.approx(low / residents)


def test_households_move_out_where_rents_rise_and_pay_does_not():
    """Roback (1982): at the same wage, dearer housing sends households elsewhere; the
    pull is the share of income they spent on housing at the start."""
    from clustersim.model.phases import accounts

    model = CreativeClusterModel(rng=0, city="small_town", spin_up={"months": 0})
    model.run_for(3)
    model.other_wage = np.full(len(model.place_names), model.params.households.other_wage)
    same = model.residents.copy()
    accounts._migrate(model, Census.of(model))
    np.testing.assert_allclose(model.residents, same, rtol=1e-3)  # rents as at the start
    model.rent = model.base_rent * 1.5
    before = model.residents.copy()
    accounts._migrate(model, Census.of(model))
    moved = model.residents.sum() / before.sum() - 1
    share = model.housing_share0[model.focus_place]
    assert 0.1 < share < 0.5
    expected = model.params.households.migration_response * share * np.log(1.5)
    assert moved == pytest.approx(-expected, rel=0.05)


def test_households_move_only_into_vacant_homes():
    """However much other work pays, no more households move in than a node has empty homes;
    moving out is not bounded. Without the bound a town could fill without limit (model.md)."""
    from clustersim.model.phases import accounts
    from clustersim.model.phases.rents import dwellings

    model = CreativeClusterModel(rng=0, city="small_town", spin_up={"months": 0})
    model.run_for(3)
    census = Census.of(model)
    nearly = dwellings(model) - census.talents_at - 10.0  # ten homes left at the first node
    scale = nearly[0] / model.residents[0]
    for name in ("residents", "other_workers", "low_income"):
        getattr(model, name)[0] *= scale
    vacant = dwellings(model) - model.residents - census.talents_at
    assert vacant[0] == pytest.approx(10.0) and (vacant > 0).all()
    model.other_wage = np.full(len(model.place_names), 1e6)  # everybody would come
    before = model.residents.copy(), model.other_workers.copy(), model.low_income.copy()
    counted = model.other_migration_by_node.copy()
    accounts._migrate(model, census)
    moved = model.residents - before[0]
    full = 0.02 * before[0] > vacant  # nodes where the 2% a month would not fit
    assert full.any() and (~full).any()
    np.testing.assert_allclose(moved[full], vacant[full])  # every home taken, none more
    np.testing.assert_allclose(moved[~full], 0.02 * before[0][~full])
    np.testing.assert_allclose(model.other_workers / model.residents, before[1] / before[0])
    np.testing.assert_allclose(model.low_income / model.residents, before[2] / before[0])
    np.testing.assert_allclose(model.other_migration_by_node - counted, moved)
    model.other_wage = np.full(len(model.place_names), 1.0)  # everybody would leave
    now = model.residents.copy()
    accounts._migrate(model, Census.of(model))
    np.testing.assert_allclose(model.residents, 0.98 * now)


def test_month_0_does_not_change_the_housing_markets_or_migrations_reference():
    """Rents and migration compare with the start of the setup, not with month 0.

    The spin-up brings the housing market to the state its own law leads to; a
    second reference taken at month 0 would change that law when the clock starts
    (before: households that stayed in a town for homes the spin-up made cheaper
    started leaving at month 0, 4% of the flagship's town in ten years).
    """
    unspun = CreativeClusterModel(rng=0, city="small_town", spin_up={"months": 0})
    spun = CreativeClusterModel(rng=0, city="small_town", spin_up={"months": 24})
    assert not np.allclose(spun.rent, unspun.rent)  # the spin-up moved the rents
    for reference in ("base_rent", "base_stock", "base_income", "base_burden", "base_place_rent"):
        np.testing.assert_array_equal(getattr(spun, reference), getattr(unspun, reference))


@pytest.mark.slow
def test_other_workers_never_outnumber_residents_under_sustained_out_migration():
    """A town whose other sector loses most of its exports shrinks, evenly, for 20 years.

    Its other workers start at 70% of its other residents, above
    ``households.participation`` (45%), as in a town that talents' retirements and
    fall-backs have filled with workers (Enguera): households leaving with their own
    mix keep that share instead of driving it up.
    """
    for seed in range(3):
        model = CreativeClusterModel(rng=seed, city="small_town", spin_up={"months": 0})
        model.other_workers = 0.7 * model.residents
        model.other_exports = 0.2 * model.other_exports
        share = []
        for _ in range(240):
            model.step()
            assert (model.other_workers <= model.residents + 1e-9).all()
            share.append(model.other_workers.sum() / model.residents.sum())
        assert model.residents.sum() < 0.5 * model.population0.sum()
        assert max(share) < 0.8, (seed, max(share))
