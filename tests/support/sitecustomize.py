"""Commands launched by the test session start from the drawn state, like the tests themselves.

Python imports ``sitecustomize`` at start-up from ``sys.path``; ``tests/conftest.py``
puts this folder on ``PYTHONPATH`` and sets ``CLUSTERSIM_TESTS_DRAWN_START=1`` for
the commands the tests launch, so that their configs (and run hashes) match the
test process's, where ``spin_up.months`` defaults to 0 (see ``tests/conftest.py``).
"""

from __future__ import annotations

import os

if os.environ.get("CLUSTERSIM_TESTS_DRAWN_START") == "1":
    try:
        from clustersim.model.schema_spinup import SpinUpParams
    except ImportError:  # a launched program that is not clustersim's
        pass
    else:
        SpinUpParams.__dataclass_fields__["months"].default = 0
        _defaults = list(SpinUpParams.__init__.__defaults__)
        _defaults[0] = 0
        SpinUpParams.__init__.__defaults__ = tuple(_defaults)
