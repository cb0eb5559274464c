"""Entry point: run the town_vs_metropolis experiment (configs/experiment/town_vs_metropolis.yaml).

Usage: ``python experiments/town_vs_metropolis.py [--replicates N] [--out DIR] [--launcher NAME]
[overrides...]``, the same as ``clustersim-experiment run town_vs_metropolis ...``.
"""

from __future__ import annotations

import sys

from clustersim.experiments.cli import main

if __name__ == "__main__":
    if {"-h", "--help"} & set(sys.argv[1:]):
        print(
            "python experiments/town_vs_metropolis.py [options] [overrides ...] runs\n"
            "clustersim-experiment run town_vs_metropolis [options] [overrides ...]: the\n"
            "experiment's name is given; the options and overrides are the command's:\n"
        )
    sys.exit(main(["run", "town_vs_metropolis", *sys.argv[1:]]))
