"""Freed memory kept for the next month's arrays, where the C library is glibc.

A month of a big city makes many temporary arrays of megabytes (a region of a million
talents: its talents' columns, its choosers x options blocks, each 8-24 MB), frees them
and makes them again the next month. glibc's ``malloc`` maps arrays above a threshold
straight from the kernel and gives memory at the top of its heap back once more than a
threshold of it is free; both start small (128 kB) and rise only as mapped arrays are
freed, so such a month gets many of its arrays as fresh pages, which the kernel zeroes
on first touch. Measured on 8 December 2026 (this project's 2-core AMD machine), a month
of bench_scale.py's region of a million talents took 14,000-18,000 page faults and
53-70 ms of system time with glibc's defaults, about 3,000 and 10 ms with the thresholds
below (30 months); the same 200-node city scaled to 359,000 talents 11,000 and 31 ms
against 250 and 2 ms, to 113,000 talents 3,600 and 13 ms against 110 and none, to
11,000 talents 790 and 3.6 ms against 17 and 0.4 ms (10 months each). The region's 120
months took 132.0 s instead of 138.0 s run after run, its peak memory 903 MiB against
892. (The 10k-talent metropolis of the speed targets, 86 nodes, takes almost no page
faults either way.)

:func:`keep_freed_memory` sets the thresholds once a process (``mallopt``) when a model
is built. What it changes for the whole process: arrays up to :data:`MMAP_THRESHOLD`
come from the heap, and up to :data:`TRIM_THRESHOLD` of free memory at the top of each
of its heaps (one per thread that allocates) stays with the process instead of going
back to the system; a freed array is taken again by the next ones (and by the next
model). Results do not change: only where memory comes from. Nothing is set where the C
library is not glibc (macOS, musl, Windows), or where the process's environment sets
glibc's own malloc settings (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``,
``MALLOC_TOP_PAD_``, ``MALLOC_MMAP_MAX_`` or ``glibc.malloc`` tunables in
``GLIBC_TUNABLES``): set one of them to keep glibc's behaviour, or your own.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys

__all__ = ["MMAP_THRESHOLD", "OWN_SETTINGS", "TRIM_THRESHOLD", "keep_freed_memory"]

#: Arrays up to this size come from the heap, not from a fresh mapping (bytes). glibc
#: before 2.35 accepts at most 32 MiB (then set instead).
MMAP_THRESHOLD = 64 * 1024 * 1024
#: Free memory at the top of a heap kept before any is given back (bytes).
TRIM_THRESHOLD = 1024 * 1024 * 1024
#: Environment variables with which the process sets glibc's malloc itself.
OWN_SETTINGS = (
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "MALLOC_MMAP_MAX_",
)

# glibc's malloc.h
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


@functools.cache
def keep_freed_memory() -> int:
    """Set glibc's mapping and trimming thresholds for this process, once.

    Returns:
        The mapping threshold set (bytes), or 0 where nothing was set (not glibc, or
        the environment sets glibc's malloc itself). Later calls return the first answer.
    """
    if not sys.platform.startswith("linux") or _set_by_environment():
        return 0
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError, TypeError):  # not glibc (musl has no mallopt)
        return 0
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    for threshold in (MMAP_THRESHOLD, 32 * 1024 * 1024):  # older glibc refuses above 32 MiB
        if mallopt(_M_MMAP_THRESHOLD, threshold):
            mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
            return threshold
    return 0


def _set_by_environment() -> bool:
    """Whether the environment sets glibc's malloc (its variables or its tunables)."""
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    return any(name in os.environ for name in OWN_SETTINGS) or "glibc.malloc." in tunables
