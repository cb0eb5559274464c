"""A scenario-discovery design's settings: what is varied, what counts as success, PRIM's knobs.

The ``discovery:`` section of a design (``kind: discovery``) names the model
(clustersim, or a registered toy model of :mod:`clustersim.experiments.toy_models`),
the parameters and lever settings varied with their ranges (the keys ``parameters``,
``exclude``, ``ranges`` and ``relative_range`` mean what they mean in a sensitivity
design, :mod:`clustersim.experiments.sensitivity_space`), the size of the Latin
hypercube sample, and the runs of interest: ``outcome: take_off`` (the default for
clustersim: the focus cluster takes off by the month analysed, as the design's
``analysis.takeoff_lq`` and ``takeoff_growth`` define it) or an outcome with a
threshold (``above:`` or ``below:``) at ``month``: a declared outcome, or
``creative_growth`` (creative employment's growth since month 0, as a share). PRIM's
settings (``min_density``, ``peel_alpha``, ``mass_min``, ``boxes``) say which box is
reported (:mod:`clustersim.experiments.discovery`).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from clustersim.errors import ConfigError
from clustersim.experiments.sensitivity_space import (
    CLUSTERSIM,
    Factor,
    parse_factors,
    section_model,
    whole_setting,
)
from clustersim.experiments.toy_models import TOY_MODELS
from clustersim.model.compose import did_you_mean
from clustersim.model.outcomes import OUTCOME_NAMES

__all__ = ["GROWTH", "TAKE_OFF", "DiscoverySettings", "parse_discovery", "sample"]

TAKE_OFF = "take_off"
"""``discovery.outcome`` of runs whose focus cluster takes off (clustersim only)."""

GROWTH = "creative_growth"
"""``discovery.outcome``: growth of creative employment since month 0, as a share (clustersim;
take-off's second condition, ``analysis.takeoff_growth``)."""

KEYS = (
    "model",
    "samples",
    "parameters",
    "exclude",
    "ranges",
    "relative_range",
    "outcome",
    "above",
    "below",
    "month",
    "seed",
    "min_density",
    "peel_alpha",
    "mass_min",
    "boxes",
)
"""The keys of a design's ``discovery:`` section."""


@dataclass(frozen=True)
class DiscoverySettings:
    """A checked ``discovery:`` section.

    Attributes:
        model: ``clustersim`` or a toy model's name.
        samples: points of the Latin hypercube sample.
        factors: the parameters and lever settings varied, with their ranges.
        outcome: ``take_off`` or the outcome thresholded.
        above: runs with the outcome above this are of interest (or None).
        below: runs with the outcome below this are of interest (or None).
        month: the month analysed (None: the last month).
        seed: seed of the sample and of the feature scores.
        min_density: the box reported is the one of widest coverage whose density
            (share of its runs that are of interest) reaches this.
        peel_alpha: share of the runs PRIM peels off at each step.
        mass_min: smallest share of all runs a box may hold.
        boxes: most boxes searched for, one after another.
        sampling: how the inputs were sampled, in words (for the report).
    """

    model: str
    samples: int
    factors: tuple[Factor, ...]
    outcome: str
    above: float | None
    below: float | None
    month: int | None
    seed: int
    min_density: float
    peel_alpha: float
    mass_min: float
    boxes: int
    sampling: str = "a Latin hypercube"

    @property
    def names(self) -> list[str]:
        """The factors' names, in order."""
        return [f.name for f in self.factors]

    @property
    def is_toy(self) -> bool:
        """Whether a toy model is evaluated instead of clustersim."""
        return self.model != CLUSTERSIM

    @property
    def interest(self) -> str:
        """The runs of interest in words (``the cluster takes off``, ``y above 0.5``)."""
        if self.outcome == TAKE_OFF:
            return "the creative cluster takes off"
        more = "more" if self.above is not None else "less"
        threshold = self.above if self.above is not None else self.below
        if self.outcome == GROWTH:
            return f"creative employment grows by {more} than {threshold:.0%} from month 0"
        if self.is_toy:
            return f"{self.outcome} is {'above' if more == 'more' else 'below'} {threshold:g}"
        from clustersim.model.outcomes import label

        return f"{label(self.outcome)} is {'above' if more == 'more' else 'below'} {threshold:g}"

    def of_interest(self, values: np.ndarray) -> np.ndarray:
        """Which values of the thresholded outcome are of interest (NaN: not)."""
        values = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            if self.above is not None:
                return values > self.above
            return values < self.below


def _share(raw: Mapping[str, Any], key: str, default: float, high: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value <= high:
        raise ConfigError(f"discovery.{key} must be a number > 0 and <= {high:g}, got {value!r}")
    return float(value)


def _threshold(raw: Mapping[str, Any], key: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ConfigError(f"discovery.{key} must be a number, got {value!r}")
    return float(value)


def _outcome(raw: Mapping[str, Any], model: str) -> tuple[str, float | None, float | None]:
    toy = model != CLUSTERSIM
    known = list(TOY_MODELS[model].outcomes) if toy else [TAKE_OFF, GROWTH, *OUTCOME_NAMES[1:]]
    name = str(raw.get("outcome", known[0]))
    if name not in known:
        raise ConfigError(
            f"discovery.outcome must be one of {', '.join(known)}; got {name!r}"
            f"{did_you_mean(name, known)}"
        )
    above, below = _threshold(raw, "above"), _threshold(raw, "below")
    if name == TAKE_OFF:
        if above is not None or below is not None:
            raise ConfigError(
                "discovery.above and below apply to an outcome's value, not to take_off "
                "(its thresholds are analysis.takeoff_lq and takeoff_growth)"
            )
    elif (above is None) == (below is None):
        raise ConfigError(
            f"discovery.outcome {name} needs one threshold: above: <value> or below: <value> "
            "(clustersim-experiment discover: --above or --below)"
        )
    return name, above, below


def parse_discovery(raw: Any) -> DiscoverySettings:
    """Check a design's ``discovery:`` section.

    Raises:
        ConfigError: one line naming the field, the value and what is allowed.
    """
    model = section_model(raw, KEYS, "discovery", "parameters:, samples:, ...")
    month = raw.get("month")
    if month is not None:
        month = whole_setting(raw, "month", 0, 1, "discovery")
    outcome, above, below = _outcome(raw, model)
    return DiscoverySettings(
        model=model,
        samples=whole_setting(raw, "samples", 200, 2, "discovery"),
        factors=parse_factors(raw, model, "discovery"),
        outcome=outcome,
        above=above,
        below=below,
        month=month,
        seed=whole_setting(raw, "seed", 0, 0, "discovery"),
        min_density=_share(raw, "min_density", 0.8, 1.0),
        peel_alpha=_share(raw, "peel_alpha", 0.05, 0.5),
        mass_min=_share(raw, "mass_min", 0.05, 0.5),
        boxes=whole_setting(raw, "boxes", 1, 1, "discovery"),
    )


def sample(settings: DiscoverySettings) -> np.ndarray:
    """A Latin hypercube sample of the factors' ranges: ``samples`` rows (not rounded).

    Each factor's range is cut into ``samples`` equal strata and each stratum is
    sampled once (McKay, Beckman & Conover 1979), so every range is covered evenly
    even by a small sample; scipy draws it from ``seed``.
    """
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=len(settings.factors), rng=settings.seed).random(settings.samples)
    low = np.array([f.low for f in settings.factors])
    high = np.array([f.high for f in settings.factors])
    return low + unit * (high - low)
