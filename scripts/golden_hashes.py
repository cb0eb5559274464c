"""Record (or check) content hashes of the result tables of a fixed set of runs.

The set (issue 8): small town, region, metropolis and a preset, without a plan and
with two plans, 36 months after a 24-month spin-up, two seeds. A restructuring of
the code must reproduce every hash; ``python scripts/golden_hashes.py --write``
records them anew after a deliberate change of results (say which and why in the
commit); ``--add`` records the cases new to the set and drops those no longer in it,
only when every case still in it holds; ``--print`` prints the hashes as JSON;
the set runs the numpy references (``CLUSTERSIM_KERNELS=numpy``); ``--kernels`` runs
every compiled kernel (``clustersim.model.kernels``) in every month instead, which must
give the same hashes.

The hashes are bitwise, and the last bits of floating-point results depend on the
CPU: numpy picks AVX-512 code for ``exp``, ``log`` and ``power`` where the CPU has
it, and its OpenBLAS picks matrix kernels by CPU. The set is recorded and checked
on the x86-64 AVX2 paths (:data:`GOLDEN_ENV`: numpy's AVX-512 code switched off,
OpenBLAS's Haswell kernels), which every x86-64 machine with AVX2 can take; the
script re-runs itself with that environment, because numpy reads it when it is
first imported. Bumping numpy can change these paths too: numpy is pinned in the
``dev`` extra, and a bump re-records the set deliberately.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import pandas as pd

#: numpy's and OpenBLAS's code paths the set is recorded on (see the module docstring)
GOLDEN_ENV = {
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    "OPENBLAS_CORETYPE": "Haswell",
}

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "data" / "golden_hashes.json"
CITIES = {
    "small_town": [],
    "region": [],
    "metropolis": ["city.population=300000"],
    "obidos": [],
}
PLANS = ("none", "creative_city", "talent_first")
#: a small town on its own has no university, so it refuses talent_first's partnership
#: (issue 10): it runs the Obidos plan instead
CITY_PLANS = {"small_town": ("none", "creative_city", "obidos")}
SEEDS = (0, 1)
STEPS = 36
#: a short spin-up, said explicitly so the set does not depend on the default
SPIN_UP = 24
TABLES = ("timeseries", "firms", "talents", "places", "policies", "ledger")


def table_hash(df: pd.DataFrame) -> str:
    """sha256 of a table's column names, dtypes and values (bitwise for floats)."""
    h = hashlib.sha256()
    for name in df.columns:
        col = df[name]
        h.update(f"{name}:{col.dtype}\n".encode())
        h.update(pd.util.hash_pandas_object(col, index=False).to_numpy().tobytes())
    return h.hexdigest()


def cases() -> list[tuple[str, str, int]]:
    """Every (city, plan, seed) of the golden set."""
    return [(c, p, s) for c in CITIES for p in CITY_PLANS.get(c, PLANS) for s in SEEDS]


def run_hashes(city: str, plan: str, seed: int) -> dict[str, str]:
    """Hashes of the tables of one run of the golden set."""
    import clustersim

    result = clustersim.simulate(
        city,
        steps=STEPS,
        seed=seed,
        # no spin-up cache: a cached end state computed on other CPU paths must not enter
        overrides=[*CITIES[city], f"plan={plan}", "spin_up.cache=false"],
        spin_up=SPIN_UP,
    )
    return {t: table_hash(getattr(result, t)) for t in TABLES}


def has_avx2() -> bool:
    """Whether this machine can take the AVX2 paths the set is recorded on (x86-64 Linux)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx2" in flags and " fma" in flags


def in_golden_env() -> bool:
    """Whether this process runs with :data:`GOLDEN_ENV`."""
    return all(os.environ.get(k) == v for k, v in GOLDEN_ENV.items())


def force_kernels() -> None:
    """Run every compiled kernel in every month (``--kernels``; they must not change a hash)."""
    from clustersim.model import kernels

    if not kernels.enabled():
        raise SystemExit("--kernels needs numba (pip install -e '.[fast]')")
    for name in dir(kernels):
        if name.endswith("_ENTRIES"):
            setattr(kernels, name, 0)


def main() -> int:
    """Check the golden set against the recorded hashes (or record them with --write)."""
    if not in_golden_env():
        if not has_avx2():
            print("golden hashes are recorded on x86-64 AVX2 paths; this machine has none")
            return 2
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **GOLDEN_ENV})
    if "--kernels" in sys.argv:
        force_kernels()
    else:  # the numpy references, whatever a process's history would choose
        os.environ["CLUSTERSIM_KERNELS"] = "numpy"
    out = {f"{c}/{p}/{s}": run_hashes(c, p, s) for c, p, s in cases()}
    if "--print" in sys.argv:
        print(json.dumps(out, sort_keys=True))
        return 0
    if "--add" in sys.argv:  # record cases new to the set; every recorded one must still hold
        recorded = json.loads(GOLDEN.read_text())
        bad = [k for k in out if k in recorded and out[k] != recorded[k]]
        if bad:
            print(f"not added: recorded cases differ: {bad}")
            return 1
        GOLDEN.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
        print(f"added {sorted(set(out) - set(recorded))}; left {sorted(set(recorded) - set(out))}")
        return 0
    if "--write" in sys.argv:
        GOLDEN.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
        print(f"wrote {GOLDEN}")
        return 0
    expected = json.loads(GOLDEN.read_text())
    bad = [k for k in out if out[k] != expected.get(k)]
    print("identical" if not bad else f"differ: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
