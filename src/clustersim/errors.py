"""Errors that clustersim reports to users as one clear line."""

from __future__ import annotations

__all__ = ["CityGraphError", "ClusterSimError", "ConfigError"]


class ClusterSimError(Exception):
    """Base class for errors shown to users as a single line (no traceback)."""


class ConfigError(ClusterSimError, ValueError):
    """A configuration value is invalid; the message names the field, value and what is allowed."""


class CityGraphError(ClusterSimError, ValueError):
    """A city graph (generated or loaded from GraphML) is missing or has invalid attributes."""
