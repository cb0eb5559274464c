"""The classroom app: a live creative city in the browser (Mesa SolaraViz).

``solara run clustersim.app`` serves :func:`Page`; ``clustersim-app`` is :func:`main`.
Modules: :mod:`~clustersim.app.scenarios` (settings -> model, lesson scenarios, no UI),
:mod:`~clustersim.app.readout` (gap to the baseline, cost per job, CSV downloads; no UI),
:mod:`~clustersim.app.figures` (the two looks, PNG frames, the plots) and
:mod:`~clustersim.app.citymap` (the map), both matplotlib; :mod:`~clustersim.app.panels`
(the page's cards) and :mod:`~clustersim.app.page` (the page and its layouts), Solara; and
:mod:`~clustersim.app.serve` (the command).
"""

from __future__ import annotations

from clustersim.app.page import Page
from clustersim.app.serve import main

__all__ = ["Page", "main"]
