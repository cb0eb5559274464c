"""The twelve creative sectors of Genoa's "Creative Cities" list and their traits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SECTORS", "SECTOR_NAMES", "Sector", "sector_arrays"]


@dataclass(frozen=True)
class Sector:
    """One creative sector.

    Attributes:
        key: machine name used in tables.
        label: display name.
        weight: share of creative employment at start (orders of magnitude from
            Eurostat cultural statistics; an assumption, not a census figure).
        local_share: share of revenue earned from local households rather than
            external markets (assumption: heritage, gastronomy and performing arts
            serve visitors and residents; software and publishing sell far away).
        digital: whether broadband raises the sector's reach (Czernich et al. 2011).
    """

    key: str
    label: str
    weight: float
    local_share: float
    digital: bool


SECTORS: tuple[Sector, ...] = (
    Sector("cultural_heritage", "Cultural heritage", 0.06, 0.7, False),
    Sector("architecture", "Architecture", 0.10, 0.5, False),
    Sector("music_performing_arts", "Music and performing arts", 0.08, 0.6, False),
    Sector("contemporary_art", "Contemporary art", 0.04, 0.5, False),
    Sector("film", "Film", 0.05, 0.3, True),
    Sector("software", "Software", 0.22, 0.2, True),
    Sector("publishing", "Publishing", 0.10, 0.3, True),
    Sector("advertising", "Advertising", 0.10, 0.4, True),
    Sector("tv_radio", "TV and radio", 0.04, 0.5, True),
    Sector("fashion", "Fashion", 0.06, 0.4, False),
    Sector("design", "Design", 0.08, 0.3, True),
    Sector("gastronomy", "Gastronomy (taste)", 0.07, 0.8, False),
)

SECTOR_NAMES: tuple[str, ...] = tuple(s.key for s in SECTORS)


def sector_arrays() -> dict[str, np.ndarray]:
    """Sector traits as numpy arrays indexed by sector code (0..11)."""
    weight = np.array([s.weight for s in SECTORS])
    return {
        "weight": weight / weight.sum(),
        "local_share": np.array([s.local_share for s in SECTORS]),
        "digital": np.array([s.digital for s in SECTORS]),
    }
