"""One module per policy lever; importing this package registers every lever module in it.

A lever module ``<name>.py`` holds the lever's settings dataclass, its
:class:`~clustersim.policy.lever.Lever` subclass (behaviour, evidence in the
docstring, label for the app) and the line ``LEVER = TheClass``. Dropping such
a module here registers the lever under the module's name, the name configs
use (``configs/policy/<name>.yaml``): there is no central list to edit.
Modules whose names start with ``_`` are helpers, not levers.

``LEVERS`` (name -> class) is the registry's dictionary,
:data:`clustersim.policy.registry.LEVERS`, re-exported here.
"""

from __future__ import annotations

from clustersim.policy.registry import LEVERS, register_package

__all__ = ["LEVERS"]

register_package(__name__, __path__)
