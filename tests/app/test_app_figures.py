"""The app's plots follow the town, in both looks (no browser; the map: test_citymap.py)."""

from __future__ import annotations

import io
import time

import numpy as np
import PIL.Image
import pytest

from clustersim.app.citymap import CityMapFigure
from clustersim.app.figures import DEFAULT_LOOK, LOOKS, PLOTS, CityPlotsFigure, _y_range, plot_title
from clustersim.app.scenarios import SCENARIOS, ClassroomSettings, ClassroomTown
from clustersim.model.outcomes import outcome


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
    look = LOOKS[DEFAULT_LOOK]  # the page's default layout: the projector's large figures
    drawings = [CityMapFigure(town, "rent", look), CityPlotsFigure(town, look)]
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


def test_the_projector_plots_are_twice_the_compact_ones_with_larger_text() -> None:
    town = ClassroomTown(settings=SCENARIOS["hub_and_festival"].settings)
    compact, projector = (CityPlotsFigure(town, LOOKS[key]) for key in ("compact", "projector"))
    for drawing in (compact, projector):
        png = PIL.Image.open(io.BytesIO(drawing.png()))
        assert png.size == drawing.look.pixels("plots")
    # today's compact plots are about 170 px wide each; the projector's at least twice that
    widths = {
        name: [ax.get_window_extent().width for ax, _, _ in drawing.lines]
        for name, drawing in (("compact", compact), ("projector", projector))
    }
    assert 150 < min(widths["compact"]) < 240
    assert min(widths["projector"]) >= 2 * 170
    for ax, _, _ in projector.lines:
        assert ax.title.get_fontsize() >= 14
        assert all(t.get_fontsize() >= 12 for t in ax.get_yticklabels())
    legend = projector.figure.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == [
        "this town (with its levers)",
        "the same town without levers",
    ]
    assert legend.get_texts()[0].get_fontsize() >= 11
    # the projector's long titles break before their unit, so they stay within their plot
    assert projector.lines[3][0].get_title() == "Policy spend, cumulative\n(thousand EUR)"
