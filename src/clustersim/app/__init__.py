"""The classroom app: a live creative city in the browser (Mesa SolaraViz).

``solara run clustersim.app`` serves :func:`Page`; ``clustersim-app`` is :func:`main`.
Modules: :mod:`~clustersim.app.scenarios` (settings -> model, lesson scenarios, no UI),
:mod:`~clustersim.app.figures` (the map and plots, matplotlib), :mod:`~clustersim.app.page`
(the Solara components) and :mod:`~clustersim.app.serve` (the command).
"""

from __future__ import annotations

from clustersim.app.page import Page
from clustersim.app.serve import main

__all__ = ["Page", "main"]
