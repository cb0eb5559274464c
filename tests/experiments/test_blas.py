"""clustersim.experiments.blas: processes that run models side by side use one BLAS thread."""

from __future__ import annotations

import os

from conftest import run_python, write_design

#: the BLAS threads numpy's OpenBLAS starts with in the probes (two, or one on a 1-core machine)
_THREADS = {"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": None}
_DEFAULT = str(min(2, os.cpu_count() or 1))
_COUNT = (
    "import threadpoolctl\n"
    "def blas():\n"
    "    found = {i['num_threads'] for i in threadpoolctl.threadpool_info()"
    " if i['user_api'] == 'blas'}\n"
    "    return ','.join(map(str, sorted(found))) or 'none'\n"
)


def test_a_sweep_worker_runs_with_one_blas_thread():
    # two workers' spinning BLAS threads took turns on two cores: 55 s a run instead of 13
    probe = (
        "import numpy\n" + _COUNT + "before = blas()\n"
        "from clustersim.experiments.execute import _start_worker\n"
        "_start_worker(False)\n"
        "print(before, blas())\n"
    )
    out = run_python(probe, **_THREADS)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [_DEFAULT, "1"]  # every BLAS library loaded (numpy's, scipy's)


def test_every_clustersim_job_runs_with_one_blas_thread(tmp_path):
    # a multirun's jobs run beside others; a single run gives the same bits as theirs
    for args in (
        ["-m", "steps=1", "city.population=5000", f"hydra.sweep.dir={tmp_path / 'm'}"],
        ["steps=1", "city.population=5000", f"hydra.run.dir={tmp_path / 'one'}"],
    ):
        probe = (
            "import numpy\n" + _COUNT + "from clustersim.experiments.launch import main\n"
            f"code = main({args!r})\n"
            "print(code, blas())\n"
        )
        out = run_python(probe, **_THREADS)
        assert out.returncode == 0, out.stderr
        assert out.stdout.split()[-2:] == ["0", "1"]


def test_the_command_process_keeps_its_own_blas_threads():
    # only workers and jobs are limited: importing clustersim changes nothing
    probe = "import numpy\n" + _COUNT + "import clustersim.experiments.cli\nprint(blas())\n"
    out = run_python(probe, **_THREADS)
    assert out.stdout.strip() == _DEFAULT, out.stderr


def test_a_sweep_run_in_the_calling_process_runs_with_one_blas_thread(tmp_path):
    # --n-jobs 1 runs in the command (or a notebook): a model sets one thread when it is
    # built and steps (clustersim.model.blas), the bits of a worker, and the process keeps it
    design = write_design(tmp_path, replicates=1, steps=1, arms={"none": ["plan=none"]})
    probe = (
        "import numpy\n" + _COUNT + "from clustersim.experiments import execute\n"
        "from clustersim.experiments.design import Design\n"
        "from clustersim.model.phases import production\n"
        "seen, real = set(), production.produce\n"
        "def spy(*args, **kwargs):\n"
        "    seen.add(blas())\n"
        "    return real(*args, **kwargs)\n"
        "production.produce = spy\n"
        f"execute.run_local(Design.load({str(design)!r}), {str(tmp_path / 'out')!r}, n_jobs=1,"
        " echo=lambda line: None)\n"
        "print('during', *sorted(seen))\n"
        "print('after', blas())\n"
    )
    out = run_python(probe, **_THREADS)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["during", "1", "after", "1"]
