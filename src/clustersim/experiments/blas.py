"""One BLAS thread in the processes that run models side by side.

numpy's OpenBLAS splits a matrix product above a size across a thread per core (the
reach products of a city of a few hundred nodes cross it), and its threads spin while
they wait for work. A run alone gains little from them, at twice the CPU: a metropolis
of 300,000 in 302 neighbourhoods took 13.5 s a run with the two threads of this 2-core
machine and 13.3 s with one; one of 1,000,000 in 1,002 neighbourhoods 26.3 ms a month
against 28.7-29.0. In a sweep of two worker processes on two cores the four threads took
turns on the cores: 55 s a run of the 302-node city instead of 13 (7 December 2026).

The thread count also reaches the results' last bits: a product split over threads adds
in another order. The 302-node city gave identical tables over 120 months with one and
two threads, the 1,002-node one incomes differing by 1e-16 (relative) from month 5 on,
which a long run can carry into a different draw. The 10k city of the benchmarks (86
nodes) never threaded; a matrix-vector product of 150 x 150 did. So the sweep's
worker processes and every job of the ``clustersim`` command, a single run included, run
with one BLAS thread (:func:`one_blas_thread`): a run gives the same bits alone, in a
sweep and on a machine with more cores. A model run in your own process (a notebook)
keeps numpy's default: set ``OPENBLAS_NUM_THREADS=1`` before importing numpy, or call
:func:`one_blas_thread`, to get the commands' bits for a city of more nodes.

(joblib's loky workers, ``hydra/launcher=local_parallel``, get the cores divided by the
jobs, one thread only when there are as many jobs as cores; the job's own call makes it
one.) A process pool of your own that runs models should call :func:`one_blas_thread` in
its workers' initializer.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

__all__ = ["one_blas_thread", "one_blas_thread_while"]


def one_blas_thread() -> None:
    """Limit the BLAS libraries numpy (and scipy) loaded to one thread, for this process.

    The limit stays for the life of the process and is inherited by processes it forks.
    The callers are worker processes and the ``clustersim`` command's jobs; a session that
    calls :func:`clustersim.experiments.launch.main` in its own process (a notebook, a
    test) is limited too.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def one_blas_thread_while() -> AbstractContextManager:
    """One BLAS thread inside a ``with`` block, numpy's own count again after it.

    For runs made in the calling process (a sweep with one worker, from a notebook too),
    so that they give the bits of a sweep's worker processes.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")
