"""One BLAS thread in the processes that run models side by side.

numpy's OpenBLAS splits a matrix product above a size across a thread per core (the
reach products of a city of a few hundred nodes cross it), and its threads spin while
they wait for work. A run alone gains little from them, at twice the CPU: a metropolis
of 300,000 in 302 neighbourhoods took 13.5 s a run with the two threads of this 2-core
machine and 13.3 s with one; one of 1,000,000 in 1,002 neighbourhoods 26.3 ms a month
against 28.7-29.0. In a sweep of two worker processes on two cores the four threads took
turns on the cores: 55 s a run of the 302-node city instead of 13 (7 December 2026).

A model sets BLAS to one thread itself when it is built and steps
(:mod:`clustersim.model.blas`), so its bits do not depend on the process. The sweep's
worker processes and every job of the ``clustersim`` command set it from their start
(:func:`one_blas_thread`), before anything else in them computes, as should a process
pool of your own that runs models (``initializer=one_blas_thread``). (joblib's loky
workers, ``hydra/launcher=local_parallel``, get the cores divided by the jobs; the job's
own call makes it one.)
"""

from __future__ import annotations

from clustersim.model.blas import limit_process as one_blas_thread

__all__ = ["one_blas_thread"]
