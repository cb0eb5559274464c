"""Months of two or more clustersim source trees stepped side by side in one process.

A speed change of a few percent is lost in this shared machine's noise when the code
before and after run one after the other (successive runs of the same code differ by
3-5 %). Here each tree's ``clustersim`` is imported into the same process as a copy of
its own (the modules of the last tree are set aside before the next is imported), one
model of each is built, and their months are interleaved: month 1 of every tree, then
month 2 in the reverse order, and so on. A change of load then slows every tree alike,
and the ratio of their times is the figure to read (1-2 % differences are repeatable).

The models draw the same city with the same seed, so a change meant to keep results
bit for bit must end in the same state: the script compares each tree's recorded
outcomes (``model.records``) and talent and firm tables with the first tree's, and says
``same results`` or which differ. Each tree uses its own spin-up cache entries (the
cache's key holds the model's code), so a tree seen for the first time spins up first
(untimed). The process runs on one pinned core with one BLAS thread. A tree's code
that imports a module of its own only during a month (none does without a policy plan)
would get the last tree's: compare runs without a plan.

Usage::

    git worktree add /tmp/cs-old HEAD~1
    python benchmarks/bench_ab.py /tmp/cs-old . [--months 119] [--population 556000]
                                                [--city metropolis] [--numpy]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import hashlib  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402


def source_dir(tree: str) -> Path:
    """The folder holding a tree's ``clustersim`` package (a checkout, or its ``src``)."""
    root = Path(tree).resolve()
    for candidate in (root / "src", root):
        if (candidate / "clustersim" / "__init__.py").is_file():
            return candidate
    raise SystemExit(f"bench_ab: tree {tree!r} holds no clustersim package (in src/ or at its top)")


def _forget_clustersim() -> None:
    for name in [n for n in sys.modules if n == "clustersim" or n.startswith("clustersim.")]:
        del sys.modules[name]


def build(src: Path, args: argparse.Namespace) -> Any:
    """A model of the tree at ``src``, after its first month (imported as a copy of its own)."""
    _forget_clustersim()
    sys.path.insert(0, str(src))
    try:
        import clustersim
        from clustersim.model import kernels

        if not Path(clustersim.__file__).resolve().is_relative_to(src):
            raise SystemExit(f"bench_ab: {src} imported clustersim from {clustersim.__file__}")
        if not args.numpy and hasattr(kernels, "prefer"):  # older trees: as they are
            kernels.prefer()
        kwargs = {} if args.population is None else {"population": args.population}
        try:
            model = clustersim.CreativeClusterModel(rng=args.seed, city=args.city, **kwargs)
        except Exception as exc:  # a bad city or population: say it in one line
            raise SystemExit(f"bench_ab: {src}: {exc}") from None
        model.step()
    finally:
        sys.path.remove(str(src))
    return model


def fingerprint(model: Any) -> str:
    """A hash of the model's recorded outcomes and its talent and firm tables."""
    import pandas as pd

    h = hashlib.sha256()
    for table in (pd.DataFrame(model.records), model.talent_table(), model.firm_table()):
        h.update(pd.util.hash_pandas_object(table, index=True).to_numpy().tobytes())
    return h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    """Step the trees' models side by side; print ms a month and whether results agree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+", help="checkouts (or src folders) to compare")
    parser.add_argument("--city", default="metropolis", help="a city kind or preset")
    parser.add_argument(
        "--population",
        type=int,
        help="inhabitants (default: 556,000 for the metropolis, "
        "the 10k-talent city of the speed targets; else the city's own)",
    )
    parser.add_argument("--months", type=int, default=119, help="timed months after month 1")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--numpy", action="store_true", help="the numpy references only (CLUSTERSIM_KERNELS=numpy)"
    )
    args = parser.parse_args(argv)
    if len(args.trees) < 2:
        parser.error(f"trees: {len(args.trees)} given, at least 2 to compare")
    if args.population is None and args.city == "metropolis":
        args.population = 556_000
    if args.months < 1:
        parser.error(f"--months: {args.months}, at least 1")
    if args.numpy:  # every tree reads it when imported: no kernel in any month
        os.environ["CLUSTERSIM_KERNELS"] = "numpy"
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    sources = [source_dir(tree) for tree in args.trees]
    if len(set(sources)) < len(sources):
        parser.error(f"trees: {args.trees} name one source folder twice (copy it to compare)")
    models = {src: build(src, args) for src in sources}
    seconds = dict.fromkeys(models, 0.0)
    for month in range(args.months):
        for src in sources if month % 2 == 0 else sources[::-1]:
            start = time.perf_counter()
            models[src].step()
            seconds[src] += time.perf_counter() - start
    base = sources[0]
    prints = {src: fingerprint(m) for src, m in models.items()}
    size = "" if args.population is None else f", {args.population:,} inhabitants"
    print(f"{args.city}{size}, seed {args.seed}, {args.months} months")
    for src in sources:
        ms = seconds[src] / args.months * 1e3
        ratio = seconds[src] / seconds[base]
        same = "same results" if prints[src] == prints[base] else "RESULTS DIFFER"
        print(f"  {src!s:40s} {ms:7.3f} ms a month  {ratio:6.3f} of the first  {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
