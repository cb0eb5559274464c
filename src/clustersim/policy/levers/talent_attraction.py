"""The talent attraction lever: relocation grants and artist residencies.

Evidence (docs/evidence.md, section Talent attraction and residencies): Paducah's artist relocation
programme, houses from $1 and
up to $2,500 per artist, brought ~40 newcomers in 2.5 years.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clustersim.params import MAX_UTILS, param
from clustersim.policy.lever import MAX_COST_MONTHLY, Lever, LeverSettings

__all__ = ["LEVER", "TalentAttraction", "TalentAttractionSettings"]


@dataclass
class TalentAttractionSettings(LeverSettings):
    """Talent attraction: relocation grants and artist residencies."""

    # <= 100 grants/month: about 65 times the Paducah programme
    grants_per_month: float = param(
        1.5,
        unit="grants/month",
        doc="grants offered per month (scaled by intensity)",
        source=(
            "Paducah artist relocation: ~40 newcomers in 2.5 years"
            " (docs/evidence.md, section Talent attraction and residencies)"
        ),
        ge=0,
        le=100.0,
    )
    # <= 1e6 EUR per talent: 400 times the Paducah grant
    grant: float = param(
        2_500.0,
        unit="EUR",
        doc="grant per relocating talent",
        source=(
            "Paducah artist relocation: houses from $1, up to $2,500 per artist"
            " (docs/evidence.md, section Talent attraction and residencies)"
        ),
        ge=0,
        le=1e6,
    )
    appeal: float = param(
        1.5,
        unit="utils",
        doc="pull of the grant and residency on a prospect's choice",
        ge=0,
        le=MAX_UTILS,
    )
    # <= 10 prospects per grant: each month's newcomers stay a bounded crowd
    prospects_per_grant: float = param(
        1.0,
        unit="-",
        doc="prospective talents considering the region per grant offered",
        ge=1,
        le=10.0,
    )
    recruits_for: str = param(
        "town",
        unit="-",
        doc=(
            "whom the programme recruits for: town = its prospects weigh only the nodes of "
            "the places that hold its targets (or not coming), as a town's programme "
            "recruits for the town; region = every node of the region, like the region's "
            "other newcomers (a regional campaign)"
        ),
        source=(
            "assumption: Paducah's programme offered houses and grants in Paducah, to "
            "artists who would move there (docs/evidence.md)"
        ),
        choices=("region", "town"),
    )
    cost_monthly: float = param(
        2_000.0,
        unit="EUR/month",
        doc="programme office",
        ge=0,
        le=MAX_COST_MONTHLY,
    )


class TalentAttraction(Lever):
    """Relocation grants and artist residencies: extra prospects who may choose the target.

    Each month prospective newcomers (``prospects_per_grant`` per grant on
    offer) weigh the nodes of the places that hold the targets (``recruits_for:
    town``; ``region``: every node of the region, like other newcomers), with
    an extra pull ``appeal`` at the target nodes (grant, cheap house or studio),
    or not coming. They enter
    the talent table with origin ``policy``; those who settle at a target node
    receive a grant (paid per arrival, up to the month's grants). Evidence
    (docs/evidence.md, section Talent attraction and residencies): Paducah's artist relocation
    programme, houses from $1 and up
    to $2,500 per artist, brought ~40 newcomers in 2.5 years: small absolute
    numbers, which the defaults reproduce.
    """

    Settings = TalentAttractionSettings
    label = "Talent attraction"
    summary = "Grants and residencies that bring creative workers."
    main = True
    order = 60

    def act(self) -> None:
        """Queue this month's prospects for the model's location choice."""
        s = self.settings
        grants = self.lever_rng.poisson(s.grants_per_month * self.intensity)
        if grants:
            self._grants_left = grants
            prospects = round(grants * s.prospects_per_grant)
            within = None
            if s.recruits_for == "town":
                place = self.model.place
                within = np.flatnonzero(np.isin(place, place[self.target_nodes])).tolist()
            self.model.attract_talents(prospects, self.target_nodes, s.appeal, self, within)

    def on_attracted(self, ids: np.ndarray) -> None:
        """Pay grants to those who came to a target node (up to the month's grants)."""
        t = self.model.talents
        at_target = ids[np.isin(t.home[ids], self.target_nodes)]
        for talent in at_target[: self._grants_left]:
            if self.status != "active" or not self.pay(
                self.settings.grant, "relocation grant", to="households"
            ):
                return
            t.grant[talent] += self.settings.grant
            self._grants_left -= 1


LEVER = TalentAttraction
