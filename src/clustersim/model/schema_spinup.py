"""Parameter group of the spin-up: how many months the model runs before month 0, and its cache.

Declared with :func:`~clustersim.params.param` like the other groups of
:mod:`~clustersim.model.schema`, which re-exports :class:`SpinUpParams`. The
spin-up itself is :mod:`clustersim.model.spinup`.
"""

from __future__ import annotations

from dataclasses import dataclass

from clustersim.errors import ConfigError
from clustersim.params import MAX_MONTHS, param

__all__ = ["SpinUpParams"]


@dataclass
class SpinUpParams:
    """Spin-up: months run without policy so that month 0 is the model's own long-run state."""

    months: int = param(
        1200,
        unit="months",
        doc=(
            "months the model runs without policy before month 0, so that month 0 is the "
            "model's own long-run state (0: no spin-up, month 0 is the drawn initial state)"
        ),
        source="-",
        ge=0,
        le=MAX_MONTHS,
    )
    cache: bool = param(
        True,
        unit="-",
        doc=(
            "reuse the cached end state of a spin-up of the same config, seed and model code "
            "(results are the same either way)"
        ),
        source="-",
    )

    def __post_init__(self) -> None:
        """Refuse a ``cache`` that is not true or false (numbers are checked by ``validate``)."""
        if not isinstance(self.cache, bool):
            raise ConfigError(f"spin_up.cache must be true or false, got {self.cache!r}")
