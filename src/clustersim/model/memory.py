"""Freed memory kept for the next month's arrays, where the C library is glibc.

A month of a big city makes many temporary arrays of megabytes (a region of a million
talents: its talents' columns, its choosers x options blocks, each 8-24 MB), frees them
and makes them again the next month. glibc's ``malloc`` maps arrays above a threshold
straight from the kernel and gives memory at the top of its heap back once more than a
threshold of it is free; both thresholds are small by default (128 kB, raised as mapped
arrays are freed, to at most 32 MB), so such a month gets most of its arrays as fresh
pages, which the kernel zeroes on first touch. Measured on bench_scale.py's region of a
million talents (30 months, 7 December 2026, this project's 2-core AMD machine): 420,000
to 550,000 page faults and 1.6-2.1 s of system time, 6-8 % of the run; with the
thresholds below, 90,000 page faults, 0.3 s; the 120-month region 125.4 s instead of
134.0 s, peak memory 909 against 895 MiB. A 10k-talent city's arrays are too small to
be mapped: its months take no page faults either way.

:func:`keep_freed_memory` sets them once a process (``mallopt``) when a model is built.
What it changes for the process: arrays up to :data:`MMAP_THRESHOLD` come from the heap,
and up to :data:`TRIM_THRESHOLD` of free heap stays with the process instead of going
back to the system (it is reused by the next arrays, and by the next model). Results do
not change: only where memory comes from. Elsewhere (macOS, musl) nothing is set.
"""

from __future__ import annotations

import ctypes
import functools

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "keep_freed_memory"]

#: Arrays up to this size come from the heap, not from a fresh mapping (bytes).
MMAP_THRESHOLD = 64 * 1024 * 1024
#: Free memory at the top of the heap kept before any is given back (bytes).
TRIM_THRESHOLD = 1024 * 1024 * 1024

# glibc's malloc.h
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


@functools.cache
def keep_freed_memory() -> bool:
    """Set glibc's mapping and trimming thresholds for this process; whether they were set.

    Done once a process (later calls return the first answer). False where the C
    library has no ``mallopt`` or refuses the values.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):  # not glibc
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
