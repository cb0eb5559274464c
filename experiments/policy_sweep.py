"""Entry point: run the policy_sweep experiment (configs/experiment/policy_sweep.yaml).

Usage: ``python experiments/policy_sweep.py [--replicates N] [--out DIR] [--launcher NAME]
[overrides...]``, the same as ``clustersim-experiment run policy_sweep ...``.
"""

from __future__ import annotations

import sys

from clustersim.experiments.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "policy_sweep", *sys.argv[1:]]))
