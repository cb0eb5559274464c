"""The sentences of a sensitivity report: what drives each outcome, said as firmly as allowed.

Per outcome, the parameters that drive it and those that barely matter, no more firmly
than the bootstrap intervals and, with replicates, a test against seed noise allow, and
how large the seed noise is (:func:`outcome_sentences`). Shared with
:mod:`clustersim.experiments.sensitivity_report`, which lays the report out.
"""

from __future__ import annotations

import math

import pandas as pd

from clustersim.experiments.numbers import fmt_number, fmt_percent
from clustersim.experiments.sensitivity_space import NOISE_INDEX, NOISE_P, SensitivitySettings
from clustersim.model.outcomes import label

__all__ = [
    "CHANCE",
    "DRIVES",
    "NEGLIGIBLE",
    "noise_level",
    "outcome_label",
    "outcome_sentences",
    "wide_indices",
]

DRIVES = 0.1
"""Morris: a parameter drives an outcome when its mu* interval lies above this share of
the largest mu*; Sobol: when its ST interval lies above this share of the variance."""

NEGLIGIBLE = 0.05
"""Morris: a parameter barely matters when its whole mu* interval lies below this share
of the largest mu*; Sobol: when its whole ST interval lies below it."""

LISTED = 6
"""Parameters named in one sentence before "and N more"."""

OVER_ONE = 1.05
"""Sobol: first-order indices summing above this are sampling noise (they cannot exceed 1)."""

CHANCE = 0.05
"""Morris with replicates: the level of the sign-flip tests against seed noise that the
report counts (how many parameters fall below it, against how many chance gives)."""


def _names(names: list[str]) -> str:
    if len(names) <= LISTED:
        return ", ".join(names)
    return f"{', '.join(names[:LISTED])} and {len(names) - LISTED} more"


def wide_indices(table: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """One outcome's indices, one row per parameter, ``<index>``, ``<index>_lower`` ..."""
    sub = table[table["outcome"] == outcome]
    wide = sub.pivot(index="parameter", columns="index", values=["value", "lower", "upper"])
    out = pd.DataFrame(index=wide.index)
    for index in sub["index"].unique():
        out[index] = wide["value"][index]
        out[f"{index}_lower"] = wide["lower"][index]
        out[f"{index}_upper"] = wide["upper"][index]
    return out


def _name(outcome_name: str, effect: bool = False) -> str:
    """An outcome's plain name (without its unit); the plan's effect on it with ``effect``."""
    from clustersim.model.outcomes import OUTCOME_NAMES, outcome

    name = outcome(outcome_name).label if outcome_name in OUTCOME_NAMES else outcome_name
    return f"the plan's effect on {name}" if effect else name


def outcome_label(outcome_name: str, effect: bool = False) -> str:
    """An outcome's label with its unit; the plan's effect on it with ``effect``."""
    return f"effect on {label(outcome_name)}" if effect else label(outcome_name)


def _amount(value: float, unit: str) -> str:
    """A change in an outcome: shares in percentage points, others as numbers in their unit."""
    if unit == "share":
        return f"{fmt_number(100 * value)} percentage points"
    return f"{fmt_number(value)} {unit}".rstrip()


def noise_level(wide: pd.DataFrame) -> float:
    """The mu* a parameter must clear to stand out of seed noise (NaN: not measured).

    The 95th percentile of the noise mu* of the parameters whose steps change the runs:
    each parameter's own is measured from few steps and so is itself noisy, and a
    parameter that clears most of them is not one that chance alone explains.
    """
    if NOISE_INDEX not in wide:
        return math.nan
    changing = wide[NOISE_INDEX][wide[NOISE_INDEX] > 0]
    return float(changing.quantile(0.95)) if len(changing) else math.nan


def _morris_sentences(wide: pd.DataFrame, name: str, unit: str) -> list[str]:
    top = float(wide["mu_star"].max())
    if not top > 0:
        return [f"No parameter changed {name} over the ranges sampled."]
    wide = wide.sort_values("mu_star", ascending=False)
    clear = wide[wide["mu_star_lower"] >= DRIVES * top]
    noise = noise_level(wide)
    drives = clear if math.isnan(noise) else clear[clear["mu_star_lower"] > noise]
    barely = wide[wide["mu_star_upper"] < NEGLIGIBLE * top]
    said = []
    for p, r in drives.head(LISTED).iterrows():
        way = ""
        if r["mu_star"] > 0 and abs(r["mu"]) >= r["mu_star"] * (1 - 1e-9):
            way = (
                f"; raising it {'raised' if r['mu'] > 0 else 'lowered'} {name} at every step tried"
            )
        bent = "; its effect depends on the other parameters" if r["sigma"] > r["mu_star"] else ""
        said.append(
            f"{p}: across its range it moves {name} by about {_amount(r['mu_star'], unit)} "
            f"(interval {_amount(r['mu_star_lower'], unit)} to "
            f"{_amount(r['mu_star_upper'], unit)}){way}{bent}."
        )
    lead = (
        f"**{name[:1].upper()}{name[1:]}** is driven most by {_names(list(drives.index))}."
        if len(drives)
        else _chance_sentence(wide, name, unit)
        if len(clear)  # seed noise, not the others, kept them from standing clear
        else f"**{name[:1].upper()}{name[1:]}**: no parameter stands clear of the others "
        f"(no mu* interval lies above {fmt_percent(DRIVES)} of the largest)."
    )
    rest = [
        f"{len(barely)} of {len(wide)} parameters barely matter for it (their whole mu* "
        f"interval is below {fmt_percent(NEGLIGIBLE)} of the largest): "
        f"{_names(list(barely.index))}."
        if len(barely)
        else f"No parameter can be said to barely matter for it (no mu* interval lies wholly "
        f"below {fmt_percent(NEGLIGIBLE)} of the largest)."
    ]
    return [lead, *said, *rest]


def _chance_sentence(wide: pd.DataFrame, name: str, unit: str) -> str:
    """Morris where no parameter's mu* clears seed noise: the ranking is chance."""
    largest = ", ".join(f"{p} ({_amount(r['mu_star'], unit)})" for p, r in wide.head(3).iterrows())
    noise = wide[NOISE_INDEX][wide[NOISE_INDEX] > 0]  # those whose steps change the runs
    low, high = _amount(noise.quantile(0.05), unit), _amount(noise.quantile(0.95), unit)
    tested = int(wide[NOISE_P].notna().sum()) if NOISE_P in wide else 0
    below = int((wide[NOISE_P] < CHANCE).sum()) if NOISE_P in wide else 0
    return (
        f"**{name[:1].upper()}{name[1:]}**: no parameter stands clear of chance. The replicates "
        f"of each Morris step tell how much of its effect is seed noise: noise alone would give "
        f"the parameters that change the runs a mu* of {low} to {high} (5th to 95th "
        f"percentile), and no mu* interval lies wholly above {high}. A sign-flip test of "
        f"each parameter's steps finds {below} of {tested} below {fmt_percent(CHANCE)}, "
        f"where chance alone gives about {fmt_number(CHANCE * tested)}. The largest mu* are "
        f"{largest}; the ranking below mostly measures chance: add replicates (--replicates) "
        "to tell the parameters apart."
    )


def _sobol_sentences(wide: pd.DataFrame, name: str) -> list[str]:
    if wide["ST"].isna().all():
        return [f"{name[:1].upper()}{name[1:]} did not vary over the sample: no indices."]
    wide = wide.sort_values("ST", ascending=False)
    drives = wide[wide["ST_lower"] >= DRIVES]
    barely = wide[wide["ST_upper"] < NEGLIGIBLE]
    said = [
        f"{p}: at least {fmt_percent(max(r['ST_lower'], 0))} of the variance of {name} "
        f"involves it (ST {fmt_number(r['ST'])}, interval {fmt_number(r['ST_lower'])} to "
        f"{fmt_number(r['ST_upper'])}); alone it explains {fmt_number(r['S1'])} (S1)."
        for p, r in drives.head(LISTED).iterrows()
    ]
    lead = (
        f"**{name[:1].upper()}{name[1:]}** is driven most by {_names(list(drives.index))}."
        if len(drives)
        else f"**{name[:1].upper()}{name[1:]}**: no parameter's ST interval lies above "
        f"{fmt_percent(DRIVES)}."
    )
    first = float(wide["S1"].clip(lower=0).sum())
    tail = [
        f"{len(barely)} of {len(wide)} parameters barely matter for it (ST interval wholly "
        f"below {fmt_percent(NEGLIGIBLE)}): {_names(list(barely.index))}."
        if len(barely)
        else "No parameter can be said to barely matter for it.",
        f"First-order effects add up to {fmt_number(first)}: "
        + (
            "the rest of the variance comes from parameters acting together."
            if first < 0.8
            else "the parameters act mostly one at a time."
            if first <= OVER_ONE
            else "more than the whole variance, which only sampling noise gives: the sample "
            "is too small to tell how the parameters act together (more samples: --samples)."
        ),
    ]
    return [lead, *said, *tail]


def _noise_sentence(noise: pd.Series, name: str) -> str:
    share = float(noise["share"])
    if int(noise["replicates"]) < 2:
        return (
            f"Seed noise in {name} could not be measured: one replicate (run with "
            "--replicates 2 or more)."
        )
    if math.isnan(share):
        return f"{name[:1].upper()}{name[1:]} did not vary, so it has no seed noise to measure."
    size = (
        "small: the indices reflect the parameters"
        if share < 0.1
        else "large: the indices partly measure chance; add replicates"
        if share > 0.5
        else "moderate: read small differences between indices with care"
    )
    return (
        f"Seed noise: at fixed parameters, replicates of {name} differ by "
        f"{fmt_percent(share)} of its total variance ({size})."
    )


def outcome_sentences(
    table: pd.DataFrame, noise: pd.DataFrame, settings: SensitivitySettings
) -> list[str]:
    """The "What this means" paragraphs: per outcome, drivers, negligible ones, seed noise."""
    out = []
    for outcome in settings.outcomes:
        name = _name(outcome, bool(settings.against))
        if not (table["outcome"] == outcome).any():
            said = f"{name}: not analysed, runs are missing (see the note above)."
            out.append(said[:1].upper() + said[1:])
            continue
        wide = wide_indices(table, outcome)
        rows = noise[noise["outcome"] == outcome]
        if settings.method == "morris":
            out += _morris_sentences(wide, name, _unit(outcome))
        else:
            out += _sobol_sentences(wide, name)
        if len(rows):
            out.append(_noise_sentence(rows.iloc[0], name))
    return out


def _unit(outcome: str) -> str:
    from clustersim.experiments.numbers import unit_of

    return unit_of(outcome)
