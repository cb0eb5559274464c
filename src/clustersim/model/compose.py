"""Compose configs with Hydra: the config folder, schema registration and ``load_config``.

This is the only module of the model layer that imports Hydra.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from clustersim.errors import ConfigError
from clustersim.model.config import SimConfig, friendly_omegaconf_error, from_dictconfig

__all__ = ["config_dir", "load_config", "register_configs"]


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


def _friendly_hydra_error(exc: Exception, overrides: list[str]) -> ConfigError:
    """Turn Hydra/OmegaConf composition errors into one line naming field and allowed values."""
    from hydra.errors import MissingConfigException

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, MissingConfigException) or "Could not find" in text:
        for group in ("city", "policy"):
            if f"'{group}/" in text or f"{group}/" in text:
                options = sorted(p.stem for p in (config_dir() / group).glob("*.yaml"))
                chosen = next(
                    (o.split("=", 1)[1] for o in overrides if o.split("=", 1)[0] == group),
                    "?",
                )
                return ConfigError(f"{group} must be one of {', '.join(options)}; got {chosen!r}")
        return ConfigError(text)
    return friendly_omegaconf_error(exc)


def load_config(
    city: str = "small_town",
    policy: str | None = None,
    *,
    steps: int | None = None,
    seed: int | None = None,
    overrides: list[str] | None = None,
    keep_global_state: bool = False,
) -> tuple[SimConfig, DictConfig]:
    """Compose the Hydra config for a city and policy, apply overrides, and validate it.

    Args:
        city: the city config (``configs/city/<city>.yaml``).
        policy: the policy config (``configs/policy/<policy>.yaml``; None or ``none``:
            the default, where a plan may still choose levers).
        steps: months to simulate (None: the config's).
        seed: the root seed (None: the config's).
        overrides: further Hydra overrides, applied in order.
        keep_global_state: restore Hydra's global state afterwards, so a config can be
            composed inside a running Hydra app (a multirun job) without disturbing it.
            Otherwise that state is cleared.

    Returns:
        The validated typed config and the resolved DictConfig it came from.

    Raises:
        ConfigError: with a one-line message when any value is invalid.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.initialize import get_gh_backup, restore_gh_from_backup

    backup = get_gh_backup() if keep_global_state else None  # None: no Hydra state yet
    register_configs()
    all_overrides = [f"city={city}"]
    if policy not in (None, "none"):  # "none" is the default; a plan may still choose levers
        all_overrides.append(f"policy={policy}")
    if steps is not None:
        all_overrides.append(f"steps={steps}")
    if seed is not None:
        all_overrides.append(f"seed={seed}")
    all_overrides += list(overrides or [])
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            dcfg = compose("config", overrides=all_overrides)
    except ConfigError:
        raise
    except Exception as exc:  # Hydra and OmegaConf raise many types; all are user input errors
        raise _friendly_hydra_error(exc, all_overrides) from None
    finally:
        if keep_global_state:
            restore_gh_from_backup(backup)
    return from_dictconfig(dcfg), dcfg
