"""Entry point: run the scaling experiment (configs/experiment/scaling.yaml).

Usage: ``python experiments/scaling.py [--replicates N] [--out DIR] [--launcher NAME]
[overrides...]``, the same as ``clustersim-experiment run scaling ...``.
"""

from __future__ import annotations

import sys

from clustersim.experiments.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "scaling", *sys.argv[1:]]))
