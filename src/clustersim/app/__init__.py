"""The classroom app: a live creative city in the browser (Mesa SolaraViz).

``solara run clustersim.app`` serves :func:`Page`; ``clustersim-app`` is :func:`main`.
"""

from __future__ import annotations

from clustersim.app.page import Page, main

__all__ = ["Page", "main"]
