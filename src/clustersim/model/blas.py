"""One BLAS thread in a process that builds or steps a model, whatever thread does it.

numpy's BLAS (OpenBLAS in numpy's wheels) splits a matrix product above a size across a
thread per core, and the split adds in another order: a metropolis of 1,000,000 in 1,002
neighbourhoods gave incomes differing in the last bits within three months with two
threads against one, which a long run can carry into a different draw. So a run's results
would depend on the cores of the machine and on what the process set before, and a city
stepped in a notebook or in the classroom app could differ from the same run made by a
command. :func:`one_thread` sets every BLAS library numpy loaded to one thread when
:class:`CreativeClusterModel` is built and again when it steps (the count can have been
raised between months): a model's bits no longer depend on the process. The speed given
up is small (a 1,002-node month 28.7-29.0 ms with one thread against 26.3 with two, on 2
cores; a 302-node run the same); the check costs about 1 us a month.

The count is not given back after a month: OpenBLAS ignores a lower count set from a
thread other than the process's main thread once the main thread has set one itself
(numpy's OpenBLAS 0.3.34, measured), so a count restored by the main thread after its
own model's month would leave the next model stepped in another thread (Mesa's threaded
controllers, the app's sessions) at numpy's default. A process that builds a model keeps
one BLAS thread; ``threadpoolctl.threadpool_limits(n)`` raises it again for your own work.
Where the count cannot be lowered (a model built in a thread after the main thread set
several), :func:`one_thread` warns once, naming the remedy: :func:`limit_process` from
the main thread before models run, as the sweeps' workers, the ``clustersim`` command's
jobs and the app's server do.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import mesa

__all__ = ["limit_process", "one_thread"]

#: Where a warning's line is not taken from: clustersim's files and Mesa's (a model's
#: ``step`` is Mesa's wrapper calling ours), so that it names the caller's line.
_OWN_FILES = (
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,
    os.path.dirname(os.path.abspath(mesa.__file__)) + os.sep,
)
_libraries: list[Any] | None = None  # threadpoolctl's controllers of the BLAS libraries
_warned = False


def _blas() -> list[Any]:
    global _libraries
    if _libraries is None:
        from threadpoolctl import ThreadpoolController

        found = ThreadpoolController().lib_controllers
        _libraries = [lib for lib in found if lib.user_api == "blas"]
    return _libraries


def one_thread() -> None:
    """Set every BLAS library numpy loaded to one thread (kept after; warns if it can't)."""
    global _warned
    for lib in _blas():
        if lib.num_threads == 1:
            continue
        lib.set_num_threads(1)
        if lib.num_threads != 1 and not _warned:
            _warned = True
            warnings.warn(
                f"{lib.internal_api} {lib.filepath} keeps {lib.num_threads} threads, set by "
                "this process's main thread: a model stepped in this thread may differ in "
                "the last bits from the same run made by clustersim's commands; call "
                "clustersim.model.blas.limit_process() in the main thread before models run",
                RuntimeWarning,
                skip_file_prefixes=_OWN_FILES,  # the caller's line, not Mesa's step wrapper
            )


def limit_process() -> None:
    """Limit the BLAS libraries loaded (numpy's, scipy's) to one thread for this process.

    For the life of the process, inherited by processes it forks; call it from the main
    thread, before models run. Two sweep workers' spinning BLAS threads took turns on two
    cores (a 302-node city 55 s a run instead of 13, 7 December 2026).
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
