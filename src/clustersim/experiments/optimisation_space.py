"""A policy optimisation's settings: decisions, objectives, the budget, the search's size.

The ``optimisation:`` section of a design (``kind: optimisation``) names the model
(clustersim, or a registered toy model of :mod:`clustersim.experiments.toy_models`),
the decision variables (lever settings such as ``policy.creative_hub.intensity`` or
``policy.festival.start``, or model parameters, with their ranges: the keys
``parameters``, ``exclude``, ``ranges`` and ``relative_range`` mean what they mean in a
sensitivity design), the objectives (:data:`OBJECTIVES`), the municipal budget that
the plan's spend over the horizon must not exceed, and the size of the NSGA-II search
(``trials`` in generations of ``population``). ``choices`` adds decisions among named
options, such as where a lever acts (``policy.creative_hub.target: [centre,
most_vacant, highest_amenity]``). ``start_plans`` lists plans the first generation
tries as they are (each lever alone, the plan in force), before NSGA-II's random ones:
a plan names some or all decisions, the others are drawn.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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

__all__ = ["OBJECTIVES", "OptimisationSettings", "off_decisions", "parse_optimisation"]

OBJECTIVES = {
    "creative_jobs": ("maximize", "creative jobs created", "jobs"),
    "spend": ("minimize", "policy spend", "EUR"),
    "cost_per_job": ("minimize", "cost per creative job created", "EUR/job"),
    "displacement": ("minimize", "extra residents displaced", "people"),
}
"""Objectives: name -> (direction, words, unit). Jobs and displacement are counted
against the same runs without the levers (same seeds), at the month analysed; spend is
the municipal spend on all levers up to it; cost per job is spend over jobs created
(only plans that create jobs qualify when it is an objective)."""

KEYS = (
    "model",
    "parameters",
    "exclude",
    "ranges",
    "relative_range",
    "choices",
    "objectives",
    "budget",
    "trials",
    "population",
    "validation_replicates",
    "month",
    "seed",
    "start_plans",
)
"""The keys of a design's ``optimisation:`` section."""

#: A plan given by the design: (decision, value) pairs.
Plan = tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class OptimisationSettings:
    """A checked ``optimisation:`` section.

    Attributes:
        model: ``clustersim`` or a toy model's name.
        factors: the numeric decision variables, with their ranges.
        choices: decisions among named options: setting -> the options.
        objectives: names from :data:`OBJECTIVES`, in order.
        budget: most the plan may spend up to the month analysed (EUR).
        trials: plans tried in all (generations of ``population``; the last one holds
            what is left, so it may be smaller).
        population: points per NSGA-II generation (one batch of runs).
        validation_replicates: replicates at seeds of their own with which every plan
            of the Pareto set is run again (0: none).
        month: the month analysed (None: the last month).
        seed: seed of the search.
        start_plans: plans the first generation tries first, as (decision, value)
            pairs; the decisions a plan does not name are drawn.
    """

    model: str
    factors: tuple[Factor, ...]
    choices: tuple[tuple[str, tuple[Any, ...]], ...]
    objectives: tuple[str, ...]
    budget: float
    trials: int
    population: int
    validation_replicates: int
    month: int | None
    seed: int
    start_plans: tuple[Plan, ...] = ()

    @property
    def names(self) -> list[str]:
        """The decision variables' names: the numeric ones, then the choices."""
        return [f.name for f in self.factors] + [name for name, _ in self.choices]

    @property
    def is_toy(self) -> bool:
        """Whether a toy model is evaluated instead of clustersim."""
        return self.model != CLUSTERSIM

    @property
    def directions(self) -> list[str]:
        """Optuna's direction of each objective."""
        return [OBJECTIVES[o][0] for o in self.objectives]

    @property
    def generations(self) -> int:
        """Generations of ``population`` points that hold ``trials`` points."""
        return -(-self.trials // self.population)


def _objectives(raw: Mapping[str, Any]) -> tuple[str, ...]:
    names = raw.get("objectives", ["creative_jobs", "spend"])
    if isinstance(names, str) or not isinstance(names, list | tuple) or not names:
        raise ConfigError(
            f"optimisation.objectives must be a list of {', '.join(OBJECTIVES)}; got {names!r}"
        )
    for name in names:
        if name not in OBJECTIVES:
            raise ConfigError(
                f"optimisation.objectives must name {', '.join(OBJECTIVES)}; got {name!r}"
                f"{did_you_mean(str(name), list(OBJECTIVES))}"
            )
    return tuple(dict.fromkeys(str(n) for n in names))


def _budget(raw: Mapping[str, Any]) -> float:
    value = raw.get("budget")
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or not value > 0
    ):
        raise ConfigError(
            f"optimisation.budget must be the most the plan may spend, a number of EUR > 0; "
            f"got {value!r}"
        )
    return float(value)


def _choices(raw: Mapping[str, Any], model: str) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    choices = raw.get("choices") or {}
    if not isinstance(choices, Mapping):
        raise ConfigError(
            f"optimisation.choices must map lever settings to lists of options, got {choices!r}"
        )
    if choices and model != CLUSTERSIM:
        raise ConfigError("optimisation.choices apply to clustersim, not to toy models")
    from clustersim.policy.registry import LEVERS

    out = []
    for name, options in choices.items():
        parts = str(name).split(".")
        if len(parts) != 3 or parts[0] != "policy" or parts[1] not in LEVERS:
            raise ConfigError(
                f"optimisation.choices.{name}: choices are lever settings "
                "(policy.<lever>.<setting>, e.g. policy.creative_hub.target)"
            )
        if isinstance(options, str) or not isinstance(options, list | tuple) or len(options) < 2:
            raise ConfigError(
                f"optimisation.choices.{name} must list at least two options, got {options!r}"
            )
        for option in options:
            if not isinstance(option, str | int | float) or isinstance(option, bool):
                raise ConfigError(
                    f"optimisation.choices.{name}: each option must be one name or number, "
                    f"got {option!r} (a list of nodes cannot be an option)"
                )
        if len(set(options)) < len(options):
            raise ConfigError(f"optimisation.choices.{name} lists an option twice: {options!r}")
        out.append((str(name), tuple(options)))
    return tuple(out)


def off_decisions(plan: Mapping[str, Any]) -> set[str]:
    """The decisions of ``plan`` that belong to a lever it switches off (intensity 0).

    A lever at intensity 0 never starts, acts nor pays: its start month or target does
    not change the runs, so plans that differ only in those make the same runs.
    """
    off = set()
    for name in plan:
        parts = str(name).split(".")
        if len(parts) == 3 and parts[0] == "policy" and parts[2] != "intensity":
            if plan.get(f"policy.{parts[1]}.intensity") == 0:
                off.add(name)
    return off


def _start_plans(
    raw: Mapping[str, Any],
    factors: tuple[Factor, ...],
    choices: tuple[tuple[str, tuple[Any, ...]], ...],
    first: int,
) -> tuple[Plan, ...]:
    plans = raw.get("start_plans") or []
    if isinstance(plans, str | Mapping) or not isinstance(plans, list | tuple):
        raise ConfigError(
            "optimisation.start_plans must be a list of plans, each mapping decisions to "
            f"values (e.g. - {{policy.festival.intensity: 1}}); got {plans!r}"
        )
    if len(plans) > first:
        raise ConfigError(
            f"optimisation.start_plans lists {len(plans)} plans; the first generation tries "
            f"{first} (population, or trials if fewer), so at most {first}"
        )
    ranges = {f.name: f for f in factors}
    options = dict(choices)
    names = [*ranges, *options]
    out = []
    for i, plan in enumerate(plans):
        where = f"optimisation.start_plans[{i}]"
        if not isinstance(plan, Mapping) or not plan:
            raise ConfigError(f"{where} must map decisions to values, got {plan!r}")
        items = []
        for name, value in plan.items():
            if name in ranges:
                f = ranges[name]
                number = isinstance(value, numbers.Real) and not isinstance(value, bool)
                if not number or not math.isfinite(value) or not f.low <= value <= f.high:
                    raise ConfigError(
                        f"{where}.{name} must be a number from {f.low:g} to {f.high:g} (its "
                        f"range), got {value!r}"
                    )
                if f.integer and value != int(value):
                    raise ConfigError(f"{where}.{name} must be a whole number, got {value!r}")
                value = int(value) if f.integer else float(value)
            elif name in options:
                if value not in options[name]:
                    raise ConfigError(
                        f"{where}.{name} must be one of {', '.join(map(str, options[name]))}, "
                        f"got {value!r}"
                    )
            else:
                raise ConfigError(
                    f"{where}: {name} is not a decision of this search; its decisions: "
                    f"{', '.join(names)}{did_you_mean(str(name), names)}"
                )
            items.append((str(name), value))
        if tuple(items) in out:
            raise ConfigError(f"{where} repeats an earlier plan: {dict(items)}")
        out.append(tuple(items))
    return tuple(out)


def parse_optimisation(raw: Any) -> OptimisationSettings:
    """Check a design's ``optimisation:`` section.

    Raises:
        ConfigError: one line naming the field, the value and what is allowed.
    """
    model = section_model(raw, KEYS, "optimisation", "parameters:, objectives:, budget:, ...")
    if model != CLUSTERSIM:
        missing = [o for o in ("creative_jobs", "spend") if o not in TOY_MODELS[model].outcomes]
        if missing:
            raise ConfigError(
                f"optimisation.model {model} has no outcome {missing[0]}: optimisation toy "
                "models give creative_jobs and spend"
            )
    month = raw.get("month")
    if month is not None:
        month = whole_setting(raw, "month", 0, 1, "optimisation")
    factors = parse_factors(raw, model, "optimisation")
    choices = _choices(raw, model)
    both = [name for name, _ in choices if name in {f.name for f in factors}]
    if both:
        raise ConfigError(
            f"optimisation: {both[0]} is both in parameters (a range) and in choices (options); "
            "keep it in one"
        )
    population = whole_setting(raw, "population", 16, 2, "optimisation")
    trials = whole_setting(raw, "trials", 96, 1, "optimisation")
    return OptimisationSettings(
        model=model,
        factors=factors,
        choices=choices,
        objectives=_objectives(raw),
        budget=_budget(raw),
        trials=trials,
        population=population,
        validation_replicates=whole_setting(raw, "validation_replicates", 8, 0, "optimisation"),
        month=month,
        seed=whole_setting(raw, "seed", 0, 0, "optimisation"),
        start_plans=_start_plans(raw, factors, choices, min(population, trials)),
    )
