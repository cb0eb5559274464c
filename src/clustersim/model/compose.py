"""Compose configs with Hydra: config folder, schema, checked overrides, ``load_config``.

This is the only module of the model layer that imports Hydra. Every override is
checked before it is applied, so a typo never vanishes and a name never leaves its
folder: a config group choice (``city=``, ``policy=``, ``plan=``, ``hydra/launcher=``)
must be a plain name of that group (no path); ``key=value``, ``++key=value`` and
``~key`` need an existing key (``++`` overrides, it never adds); ``+key=value`` adds
only to Hydra's open mappings (``+hydra.job.env_set.X=1``). Anything else is refused
with one line and a "did you mean" suggestion.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, ListConfig, OmegaConf, open_dict

from clustersim.errors import ConfigError, did_you_mean
from clustersim.model.config import SimConfig, friendly_omegaconf_error, from_dictconfig

if TYPE_CHECKING:
    from hydra.core.override_parser.types import Override

__all__ = [
    "MODEL_GROUPS",
    "Composer",
    "config_dir",
    "did_you_mean",
    "is_group",
    "load_config",
    "parse_override",
    "register_configs",
]

MODEL_GROUPS = ("city", "policy", "plan")
"""The model's config groups (folders of ``configs/``), chosen with ``group=name``."""

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
"""A config group choice: a file name of the group's folder, without ``.yaml``."""


def config_dir() -> Path:
    """Directory holding the Hydra configs (packaged copy first, then the repository's)."""
    here = Path(__file__).resolve().parents[1]
    for candidate in (here / "configs", here.parents[1] / "configs"):
        if (candidate / "config.yaml").is_file():
            return candidate
    raise ConfigError(f"clustersim configs not found (looked in {here / 'configs'})")


_REGISTERED = False


def register_configs() -> None:
    """Register the schema in Hydra's ConfigStore (idempotent)."""
    global _REGISTERED
    if _REGISTERED:
        return
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    cs.store(name="clustersim_schema", node=SimConfig)
    _REGISTERED = True


def is_group(key: str) -> bool:
    """Whether an override key chooses from a config group (``city``, ``hydra/launcher``...)."""
    return key in MODEL_GROUPS or key.startswith("hydra/")


def parse_override(text: str) -> Override:
    """One Hydra override (sweeps included), or ConfigError with one line saying why not."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        override = OverridesParser.create().parse_override(text)
    except HydraException as exc:
        lines = [line for line in str(exc).splitlines() if line and "hydra.cc" not in line]
        why = lines[-1] if lines else type(exc).__name__
        raise ConfigError(f"cannot read the override {text!r}: {why}") from None
    if not override.key_or_group:
        raise ConfigError(f"the override {text!r} names no key (write key=value)")
    if override.package is not None:
        raise ConfigError(f"{text!r}: @package overrides are not supported (write key=value)")
    return override


def _choices(override: Override) -> list[Any]:
    """The names a group override chooses (one, or a list such as ``policy=[a,b]``)."""
    value = override.value()
    return list(value) if isinstance(value, list) else [value]


def _looks_like_path(name: str) -> bool:
    return any(s in name for s in ("/", "\\", "..")) or name.startswith("~") or ":" in name


def _check_not_a_path(override: Override) -> None:
    """Refuse a group choice that is a path: names resolve only inside the group's folder."""
    group = override.key_or_group
    for name in _choices(override):
        if isinstance(name, str) and not _NAME.fullmatch(name) and _looks_like_path(name):
            folder = f"configs/{group}/" if group in MODEL_GROUPS else f"Hydra's {group} group"
            own = (
                "; your own GraphML file: city=graphml city.graphml=PATH" if group == "city" else ""
            )
            raise ConfigError(f"{group} takes a name from {folder}, not a path: got {name!r}{own}")


#: A config group's options by (config folder, group). Hydra lists them by reading the
#: folder and its ConfigStore anew at each call, a quarter of a composition's time (two
#: calls a composition); here they are read once a process (its plugins' launchers are
#: registered before the first composition), so a config file added to ``configs/`` is
#: known to a long-lived process (a notebook, the app's server) after a restart.
_GROUP_OPTIONS: dict[tuple[str, str], list[str]] = {}


def _group_options(loader: Any, group: str) -> list[str]:
    """The options of ``group`` (empty for a group that does not exist), listed once."""
    key = (str(config_dir()), group)
    if key not in _GROUP_OPTIONS:
        options = list(loader.get_group_options(group))
        if not options:  # not a group: not kept, the error path lists the groups anyway
            return options
        _GROUP_OPTIONS[key] = options
    return _GROUP_OPTIONS[key]


def _check_choices(override: Override) -> None:
    """Refuse an unknown group, or a choice that is not one of the group's configs."""
    from hydra.core.global_hydra import GlobalHydra

    loader = GlobalHydra.instance().config_loader()
    group = override.key_or_group
    options = _group_options(loader, group)
    if not options:
        groups = [*MODEL_GROUPS, *(f"hydra/{g}" for g in loader.list_groups("hydra"))]
        raise ConfigError(f"{group} is not a config group{did_you_mean(group, groups)}")
    if override.is_delete():
        if group == "city":  # a plan or the levers may be removed; a city is chosen
            raise _not_removable(group)
        return
    for name in _choices(override):
        if not (isinstance(name, str) and _NAME.fullmatch(name) and name in options):
            raise ConfigError(
                f"{group} must be one of {', '.join(options)}; got {name!r}"
                f"{did_you_mean(str(name), options)}"
            )


def _friendly_hydra_error(exc: Exception, overrides: list[str]) -> ConfigError:
    """Turn Hydra/OmegaConf composition errors into one line naming field and allowed values."""
    from hydra.errors import MissingConfigException

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, MissingConfigException) or "Could not find" in text:
        for group in MODEL_GROUPS:
            if f"'{group}/" in text or f"{group}/" in text:
                options = sorted(p.stem for p in (config_dir() / group).glob("*.yaml"))
                chosen = next(
                    (o.split("=", 1)[1] for o in overrides if o.split("=", 1)[0] == group),
                    "?",
                )
                return ConfigError(f"{group} must be one of {', '.join(options)}; got {chosen!r}")
        return ConfigError(text)
    if text.startswith("Could not delete 'policy"):  # levers chosen by a plan or policy=[...]
        plans = [o.split("=", 1)[1] for o in overrides if o.startswith("plan=")]
        chosen = (
            f"the levers plan={plans[-1]} chooses"
            if plans and plans[-1] != "none"
            else "levers chosen in the same command (policy=...)"
        )
        return ConfigError(
            f"~policy cannot remove {chosen}: remove them one at a time (~policy.<lever>), "
            "or leave the choice out"
        )
    return friendly_omegaconf_error(exc)


def _compose_groups(groups: list[Override], *, keep_global_state: bool) -> DictConfig:
    """Hydra's composition of the config for these group choices, with its ``hydra`` node."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.initialize import get_gh_backup, restore_gh_from_backup

    backup = get_gh_backup() if keep_global_state else None  # None: no Hydra state yet
    register_configs()
    lines = [str(o.input_line) for o in groups]
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            for override in groups:
                _check_choices(override)
            return compose("config", overrides=lines, return_hydra_config=True)
    except ConfigError:
        raise
    except Exception as exc:  # Hydra and OmegaConf raise many types; all are user input errors
        raise _friendly_hydra_error(exc, lines) from None
    finally:
        if keep_global_state:
            restore_gh_from_backup(backup)


# ---------------------------------------------------------------- keys of a config
def _child(node: Any, part: str) -> Any:
    """The node under ``part`` of a container node, or None."""
    try:
        if isinstance(node, DictConfig) and not node._is_none() and not node._is_missing():
            return node._get_node(part) if part in node.keys() else None
        if isinstance(node, ListConfig) and part.isdigit() and not node._is_none():
            return node._get_node(int(part)) if int(part) < len(node) else None
    except Exception:  # an interpolated or otherwise odd container: not a place for a key
        return None
    return None


def _lookup(cfg: DictConfig, key: str) -> tuple[bool, Any]:
    """Whether ``key`` is in the config, and its parent node (None if that is missing too)."""
    *parents, last = key.split(".")
    node: Any = cfg
    for part in parents:
        node = _child(node, part)
        if node is None:
            return False, None
    return _child(node, last) is not None, node


def _paths(node: Any, prefix: str = "") -> Iterator[str]:
    """Every key of a config, dotted, containers and leaves alike."""
    if not isinstance(node, DictConfig) or node._is_none() or node._is_missing():
        return
    for key in node.keys():
        path = f"{prefix}{key}"
        yield path
        yield from _paths(node._get_node(key), f"{path}.")


@functools.cache
def _lever_settings() -> dict[str, tuple[str, ...]]:
    """Every lever's settings, as its file in ``configs/policy/`` lists them."""
    settings = {}
    for path in sorted((config_dir() / "policy").glob("*.yaml")):
        body = OmegaConf.load(path)
        if isinstance(body, DictConfig) and path.stem in body:
            settings[path.stem] = tuple(str(k) for k in body[path.stem].keys())
    return settings


def _lever_hint(cfg: DictConfig, key: str) -> str | None:
    """How to switch a lever on when ``key`` is a setting of a lever that is off."""
    parts = key.split(".")
    levers = _lever_settings()
    if parts[0] != "policy" or len(parts) < 2 or parts[1] not in levers:
        return None
    lever = parts[1]
    if _lookup(cfg, f"policy.{lever}")[0] or (len(parts) > 2 and parts[2] not in levers[lever]):
        return None
    on = [str(k) for k in cfg.policy.keys()] if isinstance(cfg.get("policy"), DictConfig) else []
    switch = f"policy=[{','.join([*on, lever])}]"
    return f"{key} is a setting of the {lever} lever, which is off: switch it on with {switch}"


def _unknown_key(cfg: DictConfig, key: str, note: str = "") -> ConfigError:
    """The one-line error for a key the config does not have, with a suggestion."""
    hint = _lever_hint(cfg, key)
    if hint:
        return ConfigError(hint)
    hydra = key.split(".", 1)[0] == "hydra"
    if hydra:
        known = list(_paths(cfg.get("hydra"), "hydra."))
    else:
        job = (k for k in _paths(cfg) if k.split(".", 1)[0] != "hydra")
        levers = (f"policy.{lv}.{s}" for lv, ss in _lever_settings().items() for s in ss)
        known = [*MODEL_GROUPS, *job, *(f"policy.{lv}" for lv in _lever_settings()), *levers]
    parent = key.rpartition(".")[0]
    where = f" of {parent}" if parent and _lookup(cfg, parent)[0] else ""
    if hydra and key.startswith("hydra.launcher.") and "hydra" in cfg:
        where += f" (launcher {cfg.hydra.runtime.choices.get('hydra/launcher')})"
    what = "Hydra setting" if hydra else "parameter"
    note = f" ({note})" if note else ""
    suggestion = did_you_mean(key, known)
    if not suggestion and key.startswith("hydra.launcher."):
        suggestion = "; choose the launcher that has it first (hydra/launcher=NAME)"
    elif not suggestion:
        suggestion = f"; see them all with clustersim --cfg {'hydra' if hydra else 'job'}"
    return ConfigError(f"{key} is not a known {what}{where}{note}{suggestion}")


def _check_key(cfg: DictConfig, override: Override) -> None:
    """Refuse an override whose key is unknown, or that adds a key where none may be added."""
    key = override.key_or_group
    present, parent = _lookup(cfg, key)
    open_mapping = (
        (key.startswith("hydra.") or _numbered_lever(key))
        and isinstance(parent, DictConfig)
        and OmegaConf.get_type(parent) is dict
    )
    removable = key == "policy" or key.startswith("policy.")  # levers or their settings
    if override.is_delete() and present and not (removable or open_mapping):
        raise _not_removable(key)
    if override.is_add():
        if present:
            line = str(override.input_line)[1:]
            raise ConfigError(f"{key} is already in the config: write {line} (without +)")
        if not open_mapping:
            raise _unknown_key(
                cfg, key, "+ adds keys to Hydra's open settings and copies policy.<lever>_2 only"
            )
    elif not present and not (override.is_force_add() and open_mapping):
        note = "++ overrides a key, it cannot add one" if override.is_force_add() else ""
        raise _unknown_key(cfg, key, note)


def _not_removable(key: str) -> ConfigError:
    """The one-line error for ``~key`` on a parameter or group: only levers are removed."""
    return ConfigError(
        f"~{key}: ~ removes levers, a lever's setting or the plan only (~policy.<lever>, "
        f"~policy.<lever>.<setting>, ~policy, ~plan); {key} is set instead ({key}=...)"
    )


def _numbered_lever(key: str) -> bool:
    """Whether ``key`` is ``policy.<lever>_<n>``: a numbered copy of a lever (a second festival)."""
    parts = key.split(".")
    base, _, suffix = parts[-1].rpartition("_")
    return (
        len(parts) == 2 and parts[0] == "policy" and suffix.isdigit() and base in _lever_settings()
    )


def _apply(cfg: DictConfig, overrides: Sequence[Override]) -> None:
    """Apply key overrides in order, as Hydra applies them after composing the groups."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    for override in overrides:
        _check_key(cfg, override)
        try:
            ConfigLoaderImpl._apply_overrides_to_config([override], cfg)
        except Exception as exc:  # a value the key's type refuses, a failed delete...
            raise friendly_omegaconf_error(exc) from None


class Composer:
    """Composes override lists into configs, checking every override first.

    Each distinct choice of config groups is composed by Hydra once; the key
    overrides are then applied to a copy, so the runs of a sweep are checked quickly.

    Args:
        keep_global_state: restore Hydra's global state after composing, so a config
            can be composed inside a running Hydra app (a multirun job).
    """

    def __init__(self, *, keep_global_state: bool = False) -> None:
        self._keep = keep_global_state
        self._bases: dict[tuple[str, ...], DictConfig] = {}

    def compose(self, overrides: Sequence[str], *, cache: bool = True) -> DictConfig:
        """The config the overrides describe, with its ``hydra`` node (validate it yourself).

        Raises:
            ConfigError: one line, when an override is malformed, a sweep, a path given
                for a config name, or names an unknown group, choice or key.
        """
        parsed = [parse_override(o) for o in overrides]
        for override in parsed:
            if override.is_sweep_override():
                raise ConfigError(
                    f"{override.input_line} is a sweep: run it with --multirun (-m), "
                    "or write a list as key=[a,b]"
                )
        groups = [o for o in parsed if is_group(o.key_or_group)]
        for override in groups:
            _check_not_a_path(override)
        signature = tuple(str(o.input_line) for o in groups)
        base = self._bases.get(signature)
        if base is None:
            base = _compose_groups(groups, keep_global_state=self._keep)
            if not cache:
                _apply(base, [o for o in parsed if not is_group(o.key_or_group)])
                return base
            self._bases[signature] = base
        cfg = copy.deepcopy(base)
        _apply(cfg, [o for o in parsed if not is_group(o.key_or_group)])
        return cfg

    def apply(self, cfg: DictConfig, overrides: Sequence[str]) -> None:
        """Apply key overrides (no group choice, no sweep) to a composed config, checked."""
        parsed = [parse_override(o) for o in overrides]
        for override in parsed:
            if is_group(override.key_or_group) or override.is_sweep_override():
                raise ConfigError(f"{override.input_line}: only key=value overrides apply here")
        _apply(cfg, parsed)


def load_config(
    city: str = "small_town",
    policy: str | None = None,
    *,
    steps: int | None = None,
    seed: int | None = None,
    overrides: list[str] | None = None,
    keep_global_state: bool = False,
    check: bool = True,
) -> tuple[SimConfig, DictConfig]:
    """Compose the Hydra config for a city and policy, apply overrides, and validate it.

    Args:
        city: the city config (``configs/city/<city>.yaml``).
        policy: the policy config (``configs/policy/<policy>.yaml``; None or ``none``:
            the default, where a plan may still choose levers).
        steps: months to simulate (None: the config's).
        seed: the root seed (None: the config's).
        overrides: further Hydra overrides, applied in order (checked first: see the
            module docstring).
        keep_global_state: restore Hydra's global state afterwards, so a config can be
            composed inside a running Hydra app (a multirun job) without disturbing it.
            Otherwise that state is cleared.
        check: check every value's range (False: only the overrides and the types, for
            a caller that sets more values and then calls ``validate`` itself).

    Returns:
        The validated typed config and the resolved DictConfig it came from.

    Raises:
        ConfigError: with a one-line message when any override or value is invalid.
    """
    all_overrides = [f"city={city}"]
    if policy not in (None, "none"):  # "none" is the default; a plan may still choose levers
        all_overrides.append(f"policy={policy}")
    if steps is not None:
        all_overrides.append(f"steps={steps}")
    if seed is not None:
        all_overrides.append(f"seed={seed}")
    all_overrides += list(overrides or [])
    dcfg = Composer(keep_global_state=keep_global_state).compose(all_overrides, cache=False)
    with open_dict(dcfg):
        del dcfg["hydra"]
    return from_dictconfig(dcfg, check=check), dcfg
