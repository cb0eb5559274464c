"""One BLAS thread while a model is built or steps, whatever process it runs in.

numpy's BLAS (OpenBLAS in numpy's wheels) splits a matrix product above a size across a
thread per core, and the split adds in another order: a metropolis of 1,000,000 in 1,002
neighbourhoods gave incomes differing by 1e-16 (relative) from month 5 on with two threads
against one, which a long run can carry into a different draw. So a run's results would
depend on the cores of the machine and on what the process set before, and a city stepped
in a notebook or in the classroom app could differ from the same run made by a command.
:class:`one_thread` holds BLAS at one thread while :class:`CreativeClusterModel` is built
(its spin-up included) and while it steps, and gives numpy back its own count after: the
model's bits no longer depend on the process. The cost is 2-10 us a month (the 10k
city's month takes 6 ms); the speed given up is small (a 1,002-node month 26.3 ms with one
thread against 28.7-29.0 with two, on 2 cores; a 302-node run the same).

The limit is counted: nested blocks (the spin-up's months inside the constructor) and
models stepping in several threads of one process (the app's sessions) share it, and the
count is given back when the last of them leaves. ``threadpoolctl`` finds the BLAS
libraries loaded when the first model is built; one loaded later (scipy's own OpenBLAS,
imported afterwards) is not limited, and the model's products do not use it.

OpenBLAS takes a count set from a thread other than the process's main thread only while
the main thread has set none itself (measured with numpy's OpenBLAS 0.3.34): a model
stepped in a worker thread (the app's sessions) is limited reliably only when the process
holds one thread throughout. So the processes that run models beside others, or in threads,
call :func:`limit_process` at their start: the sweeps' worker processes, every job of the
``clustersim`` command and the classroom app's server.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["limit_process", "one_thread"]

_lock = threading.Lock()
_depth = 0
_libraries: list[Any] | None = None  # threadpoolctl's controllers of the BLAS libraries
_saved: list[int] = []  # their counts when the first holder came in


class one_thread:
    """``with one_thread():`` BLAS at one thread inside, the count before after the last.

    About 2 us when BLAS already runs one thread (a sweep's worker), 10 us otherwise.
    """

    __slots__ = ()

    def __enter__(self) -> None:
        global _depth, _libraries, _saved
        with _lock:
            if _depth == 0:
                if _libraries is None:
                    from threadpoolctl import ThreadpoolController

                    found = ThreadpoolController().lib_controllers
                    _libraries = [lib for lib in found if lib.user_api == "blas"]
                _saved = [lib.num_threads for lib in _libraries]
                for lib, count in zip(_libraries, _saved, strict=True):
                    if count != 1:
                        lib.set_num_threads(1)
            _depth += 1

    def __exit__(self, *exc: object) -> None:
        global _depth
        with _lock:
            _depth -= 1
            if _depth == 0:
                for lib, count in zip(_libraries or [], _saved, strict=True):
                    if count != 1:
                        lib.set_num_threads(count)


def limit_process() -> None:
    """Limit the BLAS libraries loaded (numpy's, scipy's) to one thread for this process.

    For the life of the process, inherited by processes it forks; call it from the main
    thread, before models run. Two sweep workers' spinning BLAS threads took turns on two
    cores (a 302-node city 55 s a run instead of 13, 7 December 2026).
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
