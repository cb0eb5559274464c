"""The kinds of design that carry a section of their own: what their section gives the design.

A ``sensitivity`` or ``discovery`` design's runs are the points of a sample its section
draws (one arm per point); a ``calibration`` or ``optimisation`` design's runs are made
by its search, batch by batch, so it has no arms of its own. Each kind's section is
checked by its own module (``*_space``); here is only what the design needs from it:
the arms, the checks against the design's sites and steps, and what ``--samples`` and
``--steps`` change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from clustersim.errors import ConfigError

Design = Any
"""A :class:`~clustersim.experiments.design.Design` (which imports this module)."""

__all__ = [
    "SAMPLED",
    "SAMPLES_KEY",
    "SEARCHED",
    "SECTION_KINDS",
    "check_section",
    "is_toy",
    "sample_points",
    "section_changes",
]

SAMPLED = ("sensitivity", "discovery")
"""Kinds whose runs are the points of a sample drawn from their section (one arm each)."""

SEARCHED = ("calibration", "optimisation")
"""Kinds whose runs are made by a search, batch by batch (no arms of their own)."""

SECTION_KINDS = (*SAMPLED, *SEARCHED)
"""Kinds of design that carry a section named after the kind."""

SAMPLES_KEY = {
    "sensitivity": "samples",
    "discovery": "samples",
    "calibration": "trials",
    "optimisation": "trials",
}
"""The setting ``--samples N`` sets in each kind's section."""


def _settings(kind: str, raw: Mapping[str, Any] | None) -> Any:
    """The kind's checked section."""
    if kind == "sensitivity":
        from clustersim.experiments.sensitivity_space import parse_settings

        return parse_settings(raw)
    if kind == "discovery":
        from clustersim.experiments.discovery_space import parse_discovery

        return parse_discovery(raw)
    if kind == "calibration":
        from clustersim.experiments.calibration_space import parse_calibration

        return parse_calibration(raw)
    from clustersim.experiments.optimisation_space import parse_optimisation

    return parse_optimisation(raw)


def is_toy(kind: str, raw: Mapping[str, Any] | None) -> bool:
    """Whether a design of ``kind`` with section ``raw`` evaluates a registered toy model."""
    return kind in SECTION_KINDS and _settings(kind, raw).is_toy


def comparison_overrides(kind: str, raw: Mapping[str, Any] | None) -> tuple[str, ...]:
    """A sensitivity design's ``against`` overrides (empty: the outcomes are levels)."""
    if kind != "sensitivity":
        return ()
    return _settings(kind, raw).against


def sample_points(kind: str, raw: Mapping[str, Any] | None) -> list[tuple[str, tuple]]:
    """The arms of a sampled kind: ``[(point name, ((parameter, value), ...)), ...]``.

    Empty for a toy model (evaluated in the process) or a searched kind.
    """
    if kind not in SAMPLED:
        return []
    settings = _settings(kind, raw)
    if settings.is_toy:
        return []
    from clustersim.experiments.sensitivity_space import point_arms

    if kind == "sensitivity":
        from clustersim.experiments.sensitivity_space import sample
    else:
        from clustersim.experiments.discovery_space import sample
    points, _ = point_arms(settings, sample(settings))
    return points


def check_section(design: Design) -> None:
    """Check a design's section against its sites and steps (one line on failure)."""
    kind = design.kind
    settings = _settings(kind, design.section)
    if settings.is_toy:
        return
    if len(design.sites) != 1:
        verb = {"calibration": "fits", "optimisation": "optimises"}.get(kind, "analyses")
        raise ConfigError(
            f"a {kind} design {verb} one site (sites:); got {len(design.sites)}"
            f" ({', '.join(design.sites) or 'none'})"
        )
    month = getattr(settings, "month", None)
    if month is not None and month > design.steps:
        raise ConfigError(f"{kind}.month must be <= steps ({design.steps}), got {month}")
    if kind == "calibration":
        from clustersim.experiments.moments import MOMENTS

        for name in settings.fit:
            if MOMENTS[name].months > design.steps:
                raise ConfigError(
                    f"calibration.fit: {name} needs runs of at least {MOMENTS[name].months} "
                    f"months, the design runs {design.steps} (steps); run longer or fit other "
                    "moments"
                )


def section_changes(
    design: Design, samples: int | None, steps: int | None, arms: Sequence[str] | None
) -> dict[str, Any]:
    """What ``--samples``, ``--steps`` and ``--arm`` change in a design with a section.

    ``samples`` sets the kind's :data:`SAMPLES_KEY`; a month past a shorter ``steps``
    becomes the last month. The design draws a sampled kind's sample again (new arms).
    """
    kind = design.kind
    if kind not in SECTION_KINDS:
        if samples is not None:
            raise ConfigError(
                f"--samples applies to {', '.join(SECTION_KINDS)} designs; "
                f"{design.name} is a {kind}"
            )
        return {}
    if arms:
        what = "their arms are samples" if kind in SAMPLED else "they have none"
        raise ConfigError(f"--arm does not apply to {kind} designs ({what})")
    raw = dict(design.section or {})
    if samples is not None:
        raw[SAMPLES_KEY[kind]] = samples
    month = raw.get("month")
    if steps is not None and isinstance(month, int) and month > steps:
        raw["month"] = steps
    if raw == design.section:
        return {}
    return {"section": raw}
