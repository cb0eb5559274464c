"""The app's figures: the city map and the plots follow the town (no browser)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from clustersim.app.figures import (
    PLOTS,
    CityMapFigure,
    CityPlotsFigure,
    _y_range,
    layer_values,
    plot_title,
)
from clustersim.app.scenarios import SCENARIOS, ClassroomSettings, ClassroomTown
from clustersim.model.outcomes import outcome


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
    for layer in ("creative_density", "amenity", "accessibility"):
        assert np.allclose(CityMapFigure(town, layer).nodes.get_array(), layer_values(town, layer))
    town.run_for(3)
    drawing.update()
    assert len(drawing.firms.get_offsets()) == town.firms.alive.sum()
    assert "month 3" in drawing.title.get_text()


def test_plots_follow_the_records_and_the_baseline() -> None:
    town = ClassroomTown(settings=SCENARIOS["hub_and_festival"].settings)
    town.run_for(14)
    drawing = CityPlotsFigure(town)
    (_, line, ghost) = drawing.lines[0]
    assert list(line.get_ydata()) == [r["creative_employment"] for r in town.records]
    assert list(ghost.get_ydata()) == [r["creative_employment"] for r in town.baseline.records]
    (_, spend, _) = drawing.lines[3]
    total = sum(r["policy_spend"] for r in town.records) / 1e3
    assert spend.get_ydata()[-1] == pytest.approx(total)


def test_plot_axes_do_not_turn_noise_into_trends() -> None:
    assert _y_range((0.0, 1.0), np.array([316.0, 316.4]), "mean_rent") == pytest.approx(
        (284.58, 347.82)
    )
    assert _y_range((-0.05, 0.05), np.zeros(5), "policy_spend") == (0.0, 1.0)
    # limits stay while the data fit them, so the axes are not redrawn every month
    assert _y_range((270.0, 350.0), np.array([300.0, 312.0]), "mean_rent") == (270.0, 350.0)
    assert _y_range((270.0, 350.0), np.array([300.0, 360.0]), "mean_rent")[1] > 360.0


def test_redraw_time_of_the_default_town(record_property) -> None:
    """Records (never asserts) the server-side time of one step plus both redraws."""
    town = ClassroomTown(settings=SCENARIOS["small_town"].settings)
    drawings = [CityMapFigure(town, "rent"), CityPlotsFigure(town)]
    times = []
    for _ in range(5):
        start = time.perf_counter()
        town.step()
        for drawing in drawings:
            drawing.update()
            assert drawing.png().startswith(b"\x89PNG")
        times.append(time.perf_counter() - start)
    record_property("step_and_redraw_seconds_median", float(np.median(times)))
    print(f"step + redraw of the default town: median {np.median(times):.3f} s")


def test_plot_titles_are_the_declared_outcomes() -> None:
    town = ClassroomTown(settings=ClassroomSettings())
    drawing = CityPlotsFigure(town)
    titles = [ax.get_title() for ax, _, _ in drawing.lines]
    assert titles == [
        "Creative employment (jobs)",
        "Creative firms",
        "Mean rent (EUR/month)",
        "Policy spend, cumulative (thousand EUR)",
    ]
    for (key, _), title in zip(PLOTS, titles, strict=True):
        assert title.lower().startswith(outcome(key).label.lower())
    assert plot_title("net_migration") == "Net migration of creative workers, cumulative (people)"
