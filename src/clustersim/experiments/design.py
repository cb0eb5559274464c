"""Experiment designs: sites x arms x replicates, and how to analyse them.

A design lives in ``configs/experiment/<name>.yaml``: *sites* (where: a city and its
overrides), *arms* (what is done there: a plan, levers, parameters; one arm is the
baseline), a number of *replicates* whose seeds are spawned from one root seed and
shared by every site and arm (common random numbers), and analysis settings. A
:class:`Design` turns into one :class:`~clustersim.experiments.runner.RunSpec` per run;
:mod:`clustersim.experiments.execute` runs them and :mod:`clustersim.experiments.cli`
is the command.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from clustersim.errors import ConfigError
from clustersim.experiments.design_checks import check_analysis, check_raw
from clustersim.experiments.design_sections import (
    SEARCHED,
    SECTION_KINDS,
    check_section,
    comparison_overrides,
    sample_points,
    section_changes,
)
from clustersim.experiments.runner import (
    RunSpec,
    compose_config,
    config_hash,
    replicate_seed,
    run_dir_name,
)
from clustersim.files import write_text_atomically
from clustersim.model.compose import config_dir, did_you_mean
from clustersim.model.outcomes import flow_names, outcome

__all__ = [
    "DEFAULT_ANALYSIS",
    "KINDS",
    "SLUG",
    "Arm",
    "Design",
    "Site",
    "available",
    "expected_run_dirs",
]

KINDS = ("comparison", "scaling", "policy_sweep", *SECTION_KINDS)
"""Kinds of experiment; each has its own analysis and report."""

SLUG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
"""A design's name (also its output folder ``results/<name>``): letters, digits, ``_``, ``-``."""


def _levels(*names: str) -> list[str]:
    """Names of declared outcomes (KeyError at import when one is not in the table)."""
    return [outcome(name).name for name in names]


def _flow(name: str, suffix: str) -> str:
    """A flow's derived column of the analysis (``<flow>_total``, ``<flow>_last_year``)."""
    if name not in flow_names():
        raise KeyError(f"{name!r} is not a declared flow; flows: {', '.join(flow_names())}")
    return f"{name}_{suffix}"


DEFAULT_ANALYSIS: dict[str, Any] = {
    "metrics": [
        *_levels(
            "creative_employment", "creative_firms", "location_quotient", "talents", "mean_rent"
        ),
        _flow("innovation", "total"),
    ],
    "band_metrics": _levels(
        "creative_employment", "location_quotient", "creative_firms", "mean_rent"
    ),
    "scaling_metrics": [
        *_levels("creative_employment", "creative_firms"),
        _flow("innovation", "last_year"),
    ],
    "takeoff_lq": 1.25,
    "takeoff_growth": 0.2,
    "ci": 0.95,
    "n_boot": 2000,
    "seed": 0,
}
"""Analysis settings a design starts from; its metric names are declared outcomes
(:mod:`clustersim.model.outcomes`) or a flow's whole-run or last-year total."""


@dataclass(frozen=True)
class Site:
    """Where runs happen: a city config and overrides (e.g. its population).

    Attributes:
        name: short key used in tables and paths.
        label: human-readable description.
        overrides: Hydra overrides selecting and sizing the city.
        labels: extra columns for this site's runs (e.g. ``population``).
    """

    name: str
    label: str
    overrides: tuple[str, ...]
    labels: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Arm:
    """What is done at a site: a plan, levers or parameter changes, as overrides.

    Attributes:
        name: short key used in tables (the baseline is usually ``none``).
        label: human-readable description.
        overrides: Hydra overrides, e.g. ``plan=creative_city``.
        labels: extra columns for this arm's runs (e.g. ``lever``, ``intensity``).
        values: parameter values set after the overrides (a sensitivity sample point).
    """

    name: str
    label: str
    overrides: tuple[str, ...]
    labels: dict[str, Any] = field(default_factory=dict)
    values: tuple[tuple[str, Any], ...] = ()


def _sites(raw: dict[str, Any]) -> dict[str, Site]:
    return {
        name: Site(
            name,
            str(spec.get("label", name)),
            tuple(spec.get("overrides", [])),
            dict(spec.get("labels", {}) or {}),
        )
        for name, spec in raw.items()
    }


def _arms(raw: dict[str, Any]) -> dict[str, Arm]:
    arms = {}
    for name, spec in raw.items():
        if isinstance(spec, list | tuple):
            spec = {"overrides": list(spec)}
        values = spec.get("values") or {}
        if not isinstance(values, dict):
            raise ConfigError(f"arms.{name}.values must map parameters to values, got {values!r}")
        arms[name] = Arm(
            name,
            str(spec.get("label", name)),
            tuple(spec.get("overrides", [])),
            dict(spec.get("labels", {}) or {}),
            tuple(values.items()),
        )
    return arms


def _grid_arms(grid: dict[str, Any]) -> dict[str, Arm]:
    """Arms ``<lever>_<intensity in %>`` for every lever at every intensity."""
    arms = {}
    for lever, intensity in itertools.product(grid["levers"], grid["intensities"]):
        intensity = float(intensity)
        name = f"{lever}_{round(intensity * 100)}"
        arms[name] = Arm(
            name,
            f"{lever.replace('_', ' ')} at intensity {intensity:g}",
            (
                f"policy=[{lever}]",
                f"policy.{lever}.intensity={intensity:g}",
                *grid.get("overrides", []),
            ),
            {"lever": lever, "intensity": intensity},
        )
    return arms


def _point_arms(kind: str, raw: dict[str, Any] | None) -> dict[str, Arm]:
    """One arm per distinct sample point of a sampled design (none for a toy model).

    With ``sensitivity.against``, the comparison runs are arms too: the points' model
    parameters with the ``against`` overrides (see ``sensitivity_space.comparison_arms``).
    """
    from clustersim.experiments.sensitivity_space import comparison_arms

    points = sample_points(kind, raw)
    arms = {name: Arm(name, f"sample point {name}", (), {}, values) for name, values in points}
    against = comparison_overrides(kind, raw)
    if against:
        for name, values in comparison_arms(points)[0].items():
            first = name.split("_")[0]
            label = f"comparison runs ({', '.join(against)}) at the model parameters of {first}"
            arms[name] = Arm(name, label, against, {}, values)
    return arms


def _arm_mapping(arm: Arm) -> dict[str, Any]:
    """An arm as plain data; parameter values only when it sets some."""
    mapping: dict[str, Any] = {
        "label": arm.label,
        "overrides": list(arm.overrides),
        "labels": arm.labels,
    }
    if arm.values:
        mapping["values"] = dict(arm.values)
    return mapping


@dataclass(frozen=True)
class Design:
    """A whole experiment: sites x arms x replicates, plus how to analyse it.

    Attributes:
        name: experiment key (file name in ``configs/experiment/``).
        kind: ``comparison``, ``scaling``, ``policy_sweep``, ``sensitivity`` or
            ``calibration``.
        title: report title.
        description: what the experiment asks, for the report.
        root_seed: root of the replicate seeds.
        replicates: replicates per site and arm.
        steps: months per run.
        baseline: the arm others are compared against.
        sites: where.
        arms: what.
        common: overrides applied to every run (before site and arm overrides).
        n_jobs: parallel worker processes for the local launcher.
        analysis: analysis settings (see ``DEFAULT_ANALYSIS``).
        section: the section of a design of a kind in
            :data:`~clustersim.experiments.design_sections.SECTION_KINDS`, written under
            the kind's name (``sensitivity:``, ``calibration:``, ``discovery:``,
            ``optimisation:``). A sampled kind's arms are its sample points; a searched
            kind's runs are made batch by batch as its search goes, so it has no arms.
    """

    name: str
    kind: str
    title: str
    description: str
    root_seed: int
    replicates: int
    steps: int
    baseline: str
    sites: dict[str, Site]
    arms: dict[str, Arm]
    common: tuple[str, ...] = ()
    n_jobs: int = 2
    analysis: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_ANALYSIS))
    section: dict[str, Any] | None = None

    @property
    def sensitivity(self) -> dict[str, Any] | None:
        """A sensitivity design's ``sensitivity:`` section (None for other kinds)."""
        return self.section if self.kind == "sensitivity" else None

    @property
    def calibration(self) -> dict[str, Any] | None:
        """A calibration design's ``calibration:`` section (None for other kinds)."""
        return self.section if self.kind == "calibration" else None

    @property
    def discovery(self) -> dict[str, Any] | None:
        """A discovery design's ``discovery:`` section (None for other kinds)."""
        return self.section if self.kind == "discovery" else None

    @property
    def optimisation(self) -> dict[str, Any] | None:
        """An optimisation design's ``optimisation:`` section (None for other kinds)."""
        return self.section if self.kind == "optimisation" else None

    # ------------------------------------------------------------ loading
    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> Design:
        """Build and check a design from a plain mapping (a loaded YAML file).

        Raises:
            ConfigError: one line, when a field is missing, of the wrong kind or invalid.
        """
        if not isinstance(raw, dict):
            raise ConfigError("a design is a mapping (name:, kind:, sites:, arms: ...)")
        if raw.get("name") in (None, ""):
            raise ConfigError("a design needs a name: (letters, digits, _ and -)")
        check_raw(raw, SECTION_KINDS)
        try:
            design = cls._from_mapping(dict(raw))
        except ConfigError:
            raise
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"the design is not valid: {type(exc).__name__}: {exc}") from None
        design.check()
        return design

    @classmethod
    def _from_mapping(cls, raw: dict[str, Any]) -> Design:
        arms = _arms(raw.get("arms", {}) or {})
        if raw.get("grid"):
            arms.update(_grid_arms(raw["grid"]))
        section = None
        kind = raw.get("kind")
        if kind in SECTION_KINDS:
            if arms:
                what = "made by its search" if kind in SEARCHED else "its sample points"
                raise ConfigError(
                    f"a {kind} design's runs are {what} ({kind}:); drop arms: and grid:"
                )
            section = raw.get(kind) or {}
            if not isinstance(section, dict):
                raise ConfigError(
                    f"{kind}: must be a mapping of settings ({kind}: {{...}}), got {section!r}"
                )
            section = dict(section)
            arms = _point_arms(kind, section)
        analysis = dict(DEFAULT_ANALYSIS)
        analysis.update(raw.get("analysis", {}) or {})
        return cls(
            name=str(raw["name"]),
            kind=str(raw.get("kind", "comparison")),
            title=str(raw.get("title", raw["name"])),
            description=str(raw.get("description", "")).strip(),
            root_seed=int(raw.get("root_seed", 0)),
            replicates=int(raw.get("replicates", 1)),
            steps=int(raw.get("steps", 120)),
            baseline=str(raw.get("baseline", "none")),
            sites=_sites(raw.get("sites", {}) or {}),
            arms=arms,
            common=tuple(raw.get("common", []) or []),
            n_jobs=int(raw.get("n_jobs", 2)),
            analysis=analysis,
            section=section,
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> Design:
        """Load a design from a YAML file (a design file of one's own: ``--design FILE``).

        Raises:
            ConfigError: one line, when the file is missing, not YAML or not a valid design.
        """
        import yaml
        from omegaconf.errors import OmegaConfBaseException

        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"no design file at {path}")
        try:
            raw = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
        except yaml.MarkedYAMLError as exc:
            line = f" at line {exc.problem_mark.line + 1}" if exc.problem_mark else ""
            raise ConfigError(f"{path} is not valid YAML: {exc.problem}{line}") from None
        except (yaml.YAMLError, OmegaConfBaseException, UnicodeDecodeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(f"{path} is not a valid design file: {first}") from None
        return cls.from_mapping(raw)  # type: ignore[arg-type]

    @classmethod
    def named(cls, name: str) -> Design:
        """Load ``configs/experiment/<name>.yaml``: a plain name, looked up in that folder only.

        A design file of one's own is loaded with :meth:`load` (``--design FILE``).
        """
        if not SLUG.fullmatch(name):
            raise ConfigError(
                f"experiment names are plain names from configs/experiment/ "
                f"({', '.join(available())}), not paths; got {name!r} "
                "(your own design file: --design FILE)"
            )
        path = config_dir() / "experiment" / f"{name}.yaml"
        if not path.is_file():
            raise ConfigError(
                f"experiment must be one of {', '.join(available())}; got {name!r}"
                f"{did_you_mean(name, available())}"
            )
        return cls.load(path)

    def check(self) -> None:
        """Raise ConfigError with one line when the design is inconsistent."""
        if not SLUG.fullmatch(self.name):
            raise ConfigError(
                "name must hold only letters, digits, _ and - (it names the output folder "
                f"results/<name>); got {self.name!r}"
            )
        if self.kind not in KINDS:
            raise ConfigError(f"experiment kind must be one of {', '.join(KINDS)}; got {self.kind}")
        if self.replicates < 1:
            raise ConfigError(f"replicates must be >= 1, got {self.replicates}")
        if self.steps < 1:
            raise ConfigError(f"steps must be >= 1, got {self.steps}")
        if self.root_seed < 0:
            raise ConfigError(f"root_seed must be >= 0, got {self.root_seed}")
        check_analysis(self.analysis)
        if self.kind in SECTION_KINDS:
            check_section(self)
            return
        if not self.sites or not self.arms:
            raise ConfigError(f"experiment {self.name} needs at least one site and one arm")
        if self.kind != "scaling" and self.baseline not in self.arms:
            raise ConfigError(
                f"baseline must be one of the arms ({', '.join(self.arms)}); got {self.baseline}"
            )
        for name in [*self.sites, *self.arms]:
            if not name.replace("_", "").replace("-", "").isalnum():
                raise ConfigError(f"site and arm names may hold letters, digits, _ and -: {name!r}")

    def to_mapping(self) -> dict[str, Any]:
        """The design as plain data (what :meth:`save` writes)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "title": self.title,
            "description": self.description,
            "root_seed": self.root_seed,
            "replicates": self.replicates,
            "steps": self.steps,
            "baseline": self.baseline,
            "n_jobs": self.n_jobs,
            "common": list(self.common),
            "sites": {
                s.name: {"label": s.label, "overrides": list(s.overrides), "labels": s.labels}
                for s in self.sites.values()
            },
            "arms": {a.name: _arm_mapping(a) for a in self.arms.values()},
            "analysis": self.analysis,
        } | ({"arms": {}, self.kind: dict(self.section or {})} if self.section is not None else {})

    def to_yaml(self) -> str:
        """The design as YAML text."""
        return OmegaConf.to_yaml(OmegaConf.create(self.to_mapping()))

    def save(self, path: str | os.PathLike) -> Path:
        """Write the design as YAML (atomically)."""
        return write_text_atomically(path, self.to_yaml())

    def with_changes(
        self,
        *,
        replicates: int | None = None,
        steps: int | None = None,
        root_seed: int | None = None,
        n_jobs: int | None = None,
        overrides: Sequence[str] = (),
        sites: Sequence[str] | None = None,
        arms: Sequence[str] | None = None,
        samples: int | None = None,
    ) -> Design:
        """A copy with other sizes, extra overrides for every run, or a subset of sites/arms.

        ``samples`` sets the sample size of a sensitivity or discovery design (and draws
        the sample again) or the trials of a calibration or optimisation design
        (:func:`~clustersim.experiments.design_sections.section_changes`); a section
        whose ``month`` is past a shorter ``steps`` analyses the last month.
        """
        changes: dict[str, Any] = section_changes(self, samples, steps, arms)
        if "section" in changes:  # a sampled kind draws its sample again
            changes["arms"] = _point_arms(self.kind, changes["section"])
        if replicates is not None:
            changes["replicates"] = replicates
        if steps is not None:
            changes["steps"] = steps
        if root_seed is not None:
            changes["root_seed"] = root_seed
        if n_jobs is not None:
            changes["n_jobs"] = n_jobs
        if overrides:
            changes["common"] = (*self.common, *overrides)
        if sites:
            unknown = set(sites) - set(self.sites)
            if unknown:
                raise ConfigError(
                    f"unknown site {sorted(unknown)[0]!r}; sites: {', '.join(self.sites)}"
                )
            changes["sites"] = {k: v for k, v in self.sites.items() if k in sites}
        if arms:
            unknown = set(arms) - set(self.arms)
            if unknown:
                raise ConfigError(
                    f"unknown arm {sorted(unknown)[0]!r}; arms: {', '.join(self.arms)}"
                )
            keep = set(arms) | ({self.baseline} if self.kind != "scaling" else set())
            changes["arms"] = {k: v for k, v in self.arms.items() if k in keep}
        design = replace(self, **changes)
        design.check()
        return design

    # ------------------------------------------------------------ runs
    def spec(
        self, site: str, arm: str, replicate: int, *, extra_overrides: Sequence[str] = ()
    ) -> RunSpec:
        """The run of ``replicate`` of ``arm`` at ``site``; its seed is shared by all arms."""
        s, a = self.sites[site], self.arms[arm]
        labels = {"experiment": self.name, "site": site, "arm": arm, "replicate": replicate}
        labels.update(s.labels)
        labels.update(a.labels)
        overrides = (*self.common, *s.overrides, *a.overrides, *extra_overrides)
        return RunSpec(
            overrides=overrides,
            seed=replicate_seed(self.root_seed, replicate),
            labels=labels,
            steps=self.steps,
            values=a.values,
        )

    def specs(self) -> list[RunSpec]:
        """Every run, replicate-major so partial results cover all arms early."""
        return [
            self.spec(site, arm, r)
            for r in range(self.replicates)
            for site in self.sites
            for arm in self.arms
        ]

    @property
    def n_runs(self) -> int:
        """Number of runs in the design."""
        return self.replicates * len(self.sites) * len(self.arms)


def available() -> list[str]:
    """Names of the experiment designs shipped in ``configs/experiment/``."""
    return sorted(p.stem for p in (config_dir() / "experiment").glob("*.yaml"))


def expected_run_dirs(design: Design, runs_dir: Path) -> list[Path]:
    """Run directory of every run in the design (composes each site x arm once).

    Raises:
        ConfigError: when two arms at one site resolve to the same model config
            (their runs would be one and the same), or a config is invalid.
    """
    dirs = []
    seen: dict[tuple[str, int], str] = {}
    _check_comparisons(design)
    for spec in design.specs():
        who = f"{spec.labels['site']}/{spec.labels['arm']}"
        try:
            cfg = compose_config(
                spec.overrides, seed=spec.seed, steps=spec.steps, values=spec.values
            )
        except ConfigError as exc:
            raise ConfigError(f"{who}: {exc}") from None
        h = config_hash(cfg)
        other = seen.setdefault((h, spec.seed), who)
        if other != who:
            raise ConfigError(
                f"{other} and {who} resolve to the same model config; drop one of them"
            )
        dirs.append(runs_dir / run_dir_name(h, spec.seed))
    return dirs


def _check_comparisons(design: Design) -> None:
    """Refuse ``sensitivity.against`` overrides that do not remove what the site does.

    The comparison runs take no lever settings (see ``sensitivity_space.comparison_arms``):
    a lever whose settings are varied must be off in them, or the difference would be
    the lever at the sampled settings less the lever at its defaults. Composing the first
    point and its comparison once tells (the levers on depend on the overrides only).
    """
    against = comparison_overrides(design.kind, design.section)
    if not against:
        return
    from clustersim.experiments.sensitivity_space import is_comparison

    field = f"sensitivity.against [{', '.join(against)}]"
    site = next(iter(design.sites))
    point = next(a for a in design.arms if not is_comparison(a))
    other = next(a for a in design.arms if is_comparison(a))
    own, spec = design.spec(site, point, 0), design.spec(site, other, 0)
    try:
        cfg = compose_config(spec.overrides, seed=spec.seed, steps=spec.steps, values=spec.values)
    except ConfigError as exc:  # e.g. a lever's setting in the site's overrides, lever off
        raise ConfigError(
            f"{field}: the comparison runs take the site's overrides too, and do not compose: {exc}"
        ) from None
    varied = {str(n).split(".")[1] for n, _ in design.arms[point].values if n.startswith("policy.")}
    kept = sorted(varied & set(cfg.policy))
    if kept:
        raise ConfigError(
            f"{field} leaves the lever(s) {', '.join(kept)} on, whose settings are varied: "
            "switch the site's levers on with a plan (plan=...), which plan=none removes, or "
            "give overrides that switch them off"
        )
    mine = compose_config(own.overrides, seed=own.seed, steps=own.steps, values=spec.values)
    if config_hash(mine) == config_hash(cfg):
        raise ConfigError(
            f"{field} changes nothing at site {site}: its runs would be the sample points' "
            "own (does the site have a plan or levers to compare with none?)"
        )
