"""The installed clustersim version (from the package metadata; pyproject.toml states it)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("clustersim")
except PackageNotFoundError:  # a source tree on sys.path without an install
    __version__ = "0+unknown"
