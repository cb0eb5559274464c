"""The app's city map: places, firms (a dot each, or per place when many), labels (no browser)."""

from __future__ import annotations

import io

import numpy as np
import PIL.Image

from clustersim.app.citymap import (
    FIRM_DOTS_MAX,
    CityMapFigure,
    draws_firms_per_place,
    firms_per_node,
    layer_values,
    legend_counts,
)
from clustersim.app.figures import LOOKS
from clustersim.app.scenarios import SCENARIOS, ClassroomSettings, ClassroomTown


def test_map_sizes_nodes_by_population_and_colours_by_layer() -> None:
    town = ClassroomTown(settings=ClassroomSettings())
    drawing = CityMapFigure(town, "rent")
    talents = np.bincount(town.talents.home[town.talents.alive], minlength=town.n_nodes)
    people = town.residents + talents
    sizes = drawing.nodes.get_sizes()
    assert np.array_equal(np.argsort(sizes, kind="stable"), np.argsort(people, kind="stable"))
    assert np.allclose(drawing.nodes.get_array(), town.rent)
    assert len(drawing.firms.get_offsets()) == town.firms.alive.sum()
    texts = zip(drawing.labelled, drawing.talent_labels, strict=True)
    labels = {i: text.get_text() for i, text in texts}
    assert all(labels[i] == f"{talents[i]:,}" for i in labels)
    for layer in ("creative_density", "amenity", "market_access"):
        assert np.allclose(CityMapFigure(town, layer).nodes.get_array(), layer_values(town, layer))
    town.run_for(3)
    drawing.update()
    assert len(drawing.firms.get_offsets()) == town.firms.alive.sum()
    assert "month 3" in drawing.title.get_text()


def test_a_town_with_too_many_firms_gets_one_marker_per_place() -> None:
    small = ClassroomTown(settings=ClassroomSettings())
    assert not draws_firms_per_place(small)
    alive = int(small.firms.alive.sum())
    # the threshold: more living firms than the limit, not as many
    assert draws_firms_per_place(small, limit=alive - 1)
    assert not draws_firms_per_place(small, limit=alive)
    metropolis = ClassroomTown(settings=SCENARIOS["metropolis"].settings)
    assert metropolis.firms.alive.sum() > FIRM_DOTS_MAX > small.firms.alive.sum()
    assert draws_firms_per_place(metropolis)

    drawing = CityMapFigure(metropolis, "creative_density", LOOKS["projector"])
    assert drawing.per_place
    counts = firms_per_node(metropolis)
    assert counts.sum() == metropolis.firms.alive.sum()
    areas = drawing.firm_groups.get_sizes()
    assert len(areas) == metropolis.n_nodes
    assert np.allclose(areas, drawing.area_per_firm * counts)  # area proportional to firms
    # only hub tenants (none without a hub) are still drawn as dots
    assert len(drawing.firms.get_offsets()) == 0
    # the legend says so, with the sizes of round counts
    legends = drawing.figure.legends
    firm_legend = next(lg for lg in legends if "per place" in lg.get_title().get_text())
    assert "too many for a dot each" in firm_legend.get_title().get_text()
    labels = [t.get_text() for t in firm_legend.get_texts()]
    assert labels == [f"{n:,} firms" for n in legend_counts(counts.max())]
    marker_sizes = [h.get_markersize() for h in firm_legend.legend_handles]
    assert marker_sizes == sorted(marker_sizes)
    other = [t.get_text() for lg in legends if lg is not firm_legend for t in lg.get_texts()]
    assert "creative firm" not in other and "hub tenant" in other

    metropolis.run_for(2)
    drawing.update()
    assert np.allclose(
        drawing.firm_groups.get_sizes(), drawing.area_per_firm * firms_per_node(metropolis)
    )


def test_hub_tenants_stay_dots_on_a_map_of_places() -> None:
    settings = ClassroomSettings(city="metropolis", levers=(("creative_hub", 1.0),), policy_start=1)
    town = ClassroomTown(settings=settings)
    town.run_for(4)
    drawing = CityMapFigure(town, "rent")
    tenants = int((town.firms.incubator[town.firms.alive] >= 0).sum())
    assert drawing.per_place and tenants > 0
    assert len(drawing.firms.get_offsets()) == tenants


def test_legend_counts_are_round_and_fit_the_largest_place() -> None:
    for largest in (3, 17, 160, 491, 1200):
        counts = legend_counts(largest)
        assert counts == sorted(counts) and len(counts) == 2
        assert counts[-1] <= max(largest, 2)
        assert all(str(c).strip("0") in {"1", "2", "5"} for c in counts)


def test_the_projector_map_is_twice_todays_with_legible_text() -> None:
    town = ClassroomTown(settings=SCENARIOS["hub_and_festival"].settings)
    compact = CityMapFigure(town, "rent", LOOKS["compact"])
    projector = CityMapFigure(town, "rent", LOOKS["projector"])
    for drawing in (compact, projector):
        png = PIL.Image.open(io.BytesIO(drawing.png()))
        assert png.size == drawing.look.pixels("map")
    # today's map (the compact one) is about 400 px wide on the page; the projector's twice
    assert compact.look.pixels("map")[0] < 600
    assert projector.look.pixels("map")[0] >= 2 * 400
    drawn = {
        name: drawing.ax.get_window_extent().width
        for name, drawing in (("compact", compact), ("projector", projector))
    }
    assert 340 < drawn["compact"] < 480  # equal axes: a town taller than wide draws narrower
    assert drawn["projector"] >= 1.5 * drawn["compact"]
    assert all(t.get_fontsize() >= 11 for t in projector.talent_labels)
    assert all(t.get_fontsize() >= 14 for t in projector.place_labels)
    legend = projector.figure.legends[0]
    assert all(t.get_fontsize() >= 11 for t in legend.get_texts())
    # markers grow with the map, so the places look the same, only larger
    ratio = projector.marker_scale / compact.marker_scale
    assert ratio > 2
    assert np.allclose(projector.nodes.get_sizes() / compact.nodes.get_sizes(), ratio)


def test_a_firm_keeps_its_dot_when_the_tables_are_compacted(monkeypatch) -> None:
    from clustersim.model import compaction

    town = ClassroomTown(settings=ClassroomSettings())
    drawing = CityMapFigure(town, "rent")
    town.run_for(12)  # some firms exit
    drawing.update()

    def dots():
        ids = compaction.archive_of(town).ids("firms", town.firms.live).tolist()
        return dict(zip(ids, map(tuple, drawing.firms.get_offsets()), strict=True))

    before = dots()
    monkeypatch.setattr(compaction, "MIN_DEAD_ROWS", 0)
    compaction.compact(town)  # rows renumbered: every firm is drawn where it was
    drawing.update()
    after = dots()
    assert town.archive.archived("firms") > 0 and after.keys() == before.keys()
    assert all(np.allclose(before[i], after[i]) for i in before)
