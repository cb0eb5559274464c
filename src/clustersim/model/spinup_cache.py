"""The spin-up cache: one ``.npz`` of plain arrays per config, seed, months, city graph and code.

A file is named by :func:`cache_key`, a SHA-256 over the config (without what
does not change the spin-up: ``steps``, ``seed``, ``policy``, the policy
budget ``institutions.municipality_budget`` and ``institutions.municipality_income``
(no policy spends during the spin-up and the budget is reset at month 0) and
``spin_up.cache``), the seed, the months, the city graph (nodes, edges and their
attributes, so a graph passed by a caller counts) and a fingerprint of the model
code (every ``.py`` file of ``clustersim/model/``, and the versions of numpy,
networkx and mesa). Files live in ``$CLUSTERSIM_CACHE_DIR`` or else in
``~/.cache/clustersim/spin-up``; they are written atomically and read with
``allow_pickle=False``. The state's arrays (about 120) are packed into two members,
their bytes and an index (:func:`pack`): numpy reads each member of an ``.npz`` at a
cost of its own, 6.6 ms a run of the 10k city for one member an array. A file that
cannot be read is ignored (and replaced by the next run), never an error. A process
computing a spin-up holds the lock ``<key>.lock`` beside its file, so others needing it
wait and then read it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import logging
import math
import os
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from mesa import Model

from clustersim.files import hold_lock, write_file_atomically
from clustersim.model.config import SimConfig, to_plain_dict

__all__ = [
    "CACHE_ENV",
    "FORMAT",
    "cache_dir",
    "cache_key",
    "cache_path",
    "code_fingerprint",
    "config_json",
    "graph_hash",
    "load",
    "locked",
    "pack",
    "save",
    "unpack",
]

_log = logging.getLogger(__name__)

CACHE_ENV = "CLUSTERSIM_CACHE_DIR"
"""Environment variable naming the folder of the spin-up cache."""

FORMAT = "clustersim-spin-up-2"
"""Version of the file layout; part of the key and stored in each file."""

_MODEL_DIR = Path(__file__).resolve().parent
_LIBRARIES = ("numpy", "networkx", "mesa")


def cache_dir() -> Path:
    """The cache folder: ``$CLUSTERSIM_CACHE_DIR``, else ``~/.cache/clustersim/spin-up``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "clustersim" / "spin-up"


def cache_path(key: str) -> Path:
    """The file of the cached spin-up with ``key``."""
    return cache_dir() / f"{key}.npz"


def config_json(cfg: SimConfig) -> str:
    """The config as canonical JSON, without what does not change the spin-up.

    Left out: ``steps``, ``seed``, ``policy``, ``spin_up.cache`` and the policy
    budget (``institutions.municipality_budget`` and ``municipality_income``).
    The seed enters the key on its own; policies start after month 0, and the
    budget, which only policies spend, is reset at month 0.
    """
    plain = to_plain_dict(cfg)
    for name in ("steps", "seed", "policy"):
        plain.pop(name, None)
    institutions = dict(plain.get("institutions") or {})
    for name in ("municipality_budget", "municipality_income"):
        institutions.pop(name, None)
    plain["institutions"] = institutions
    spin = dict(plain.get("spin_up") or {})
    spin.pop("cache", None)
    plain["spin_up"] = spin
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), default=str)


def graph_hash(graph: nx.Graph) -> str:
    """SHA-256 of a city graph: its attributes, nodes and edges with their attributes."""
    nodes = sorted((repr(n), sorted(d.items())) for n, d in graph.nodes(data=True))
    edges = sorted(
        (sorted((repr(u), repr(v))), sorted(d.items())) for u, v, d in graph.edges(data=True)
    )
    text = json.dumps([sorted(graph.graph.items()), nodes, edges], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def code_fingerprint() -> str:
    """SHA-256 of every ``.py`` file under ``clustersim/model/`` and the model's libraries.

    Computed once per process (like the experiments' model fingerprint, which the
    model layer may not import).
    """
    digest = hashlib.sha256()
    for path in sorted(_MODEL_DIR.rglob("*.py")):
        source = path.read_bytes().replace(b"\r\n", b"\n")
        digest.update(f"{path.relative_to(_MODEL_DIR).as_posix()} {len(source)}\n".encode())
        digest.update(source)
    for library in _LIBRARIES:
        digest.update(f"{library}=={importlib.import_module(library).__version__}\n".encode())
    return digest.hexdigest()


def cache_key(model: Model, seed: int, months: int) -> str:
    """The key of a model's spin-up: config, seed, months, city graph and model code."""
    parts = {
        "format": FORMAT,
        "config": config_json(model.params),
        "seed": int(seed),
        "months": int(months),
        "graph": graph_hash(model.graph),
        "code": code_fingerprint(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the lock of the cache file ``path`` (waiting for another process's spin-up).

    Where no lock can be taken (a read-only folder), go on without one.
    """
    with ExitStack() as stack:
        try:
            stack.enter_context(hold_lock(path.with_name(f"{path.stem}.lock")))
        except OSError as exc:
            _log.warning("no lock for the spin-up cache %s: %s", path, exc)
        yield


def save(path: Path, arrays: dict[str, np.ndarray]) -> Path | None:
    """Write ``arrays`` to ``path`` atomically (uncompressed ``.npz``, packed); None when it cannot.

    A cache that cannot be written (read-only home, full disk) only costs the
    next run its spin-up: it is logged, not raised.
    """
    body = {"format": np.array(FORMAT), **pack(arrays)}

    def writer(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            np.savez(handle, allow_pickle=False, **body)

    try:
        return write_file_atomically(path, writer)
    except OSError as exc:
        _log.warning("could not write the spin-up cache %s: %s", path, exc)
        return None


#: What reading a damaged or foreign file may raise (a huge shape in a member's header, an
#: index nested too deep for JSON...): all mean a file to ignore.
_UNREADABLE = (
    OSError,
    ValueError,
    TypeError,
    EOFError,
    KeyError,
    zipfile.BadZipFile,
    MemoryError,
    RecursionError,
)


def load(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of the cache file ``path``, or None when it is missing or unreadable."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            members = {name: data[name] for name in data.files}
        if str(members.pop("format", "")) != FORMAT:
            _log.warning("ignoring spin-up cache %s of another format", path)
            return None
        return unpack(members)
    except _UNREADABLE as exc:
        _log.warning("ignoring unreadable spin-up cache %s: %s", path, exc)
        return None


#: Kinds of dtype a packed array may have: booleans, numbers, times and text (no objects,
#: no records: what :func:`spinup.snapshot` stores).
_PLAIN_KINDS = "biufcmMSU"


def pack(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays as two: their bytes end to end, and an index (:func:`unpack`).

    ``bytes`` (uint8) holds each array's values in C order, one after the other;
    ``index`` is JSON text: per array its name, dtype, shape, offset and length in bytes.

    Raises:
        TypeError: an array holds Python objects or records (it cannot be stored plainly).

    Examples:
        >>> packed = pack({"a": np.arange(3), "b": np.array(2.5), "c": np.ones((2, 2))})
        >>> sorted(packed)
        ['bytes', 'index']
        >>> unpack(packed)["c"].tolist()
        [[1.0, 1.0], [1.0, 1.0]]
    """
    values = {name: np.asarray(value) for name, value in arrays.items()}
    index, offset = [], 0
    for name, value in values.items():
        if not _plain(value.dtype):
            raise TypeError(f"{name} of dtype {value.dtype}: the spin-up cannot store it")
        index.append([name, value.dtype.str, list(value.shape), offset, value.nbytes])
        offset += value.nbytes
    data = np.empty(offset, dtype=np.uint8)
    for (_, _, _, start, length), value in zip(index, values.values(), strict=True):
        data[start : start + length] = np.ascontiguousarray(value).reshape(-1).view(np.uint8)
    return {"index": np.array(json.dumps(index)), "bytes": data}


def unpack(members: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays :func:`pack` packed (each a copy of its own, writeable).

    Every entry of the index is checked before anything is allocated.

    Raises:
        KeyError, TypeError, ValueError: ``members`` are not what :func:`pack` writes.
    """
    data = members["bytes"]
    if data.dtype != np.uint8 or data.ndim != 1:
        raise ValueError(f"packed bytes of dtype {data.dtype} and {data.ndim} dimensions")
    index = json.loads(str(members["index"]))
    if not isinstance(index, list):
        raise ValueError("the packed index is not a list")
    out: dict[str, np.ndarray] = {}
    for entry in index:
        name, dtype, shape = _checked_entry(entry, len(data))
        offset, length = entry[3], entry[4]
        value = np.empty(shape, dtype=dtype)
        value.reshape(-1).view(np.uint8)[:] = data[offset : offset + length]
        out[name] = value
    return out


def _checked_entry(entry: Any, n_bytes: int) -> tuple[str, np.dtype, tuple[int, ...]]:
    """An index entry's name, dtype and shape, once it is known to describe its bytes.

    Raises:
        TypeError, ValueError: a field of the wrong type, a dtype that is not plain, or a
            shape, offset or length that does not fit the ``n_bytes`` bytes.
    """
    if not (isinstance(entry, list) and len(entry) == 5):
        raise ValueError(f"packed index entry {entry!r:.80}")
    name, dtype, shape, offset, length = entry
    numbers = [*shape, offset, length] if isinstance(shape, list) else None
    if not (isinstance(name, str) and isinstance(dtype, str) and numbers is not None):
        raise TypeError(f"packed index entry {entry!r:.80}")
    if not all(type(n) is int and n >= 0 for n in numbers):
        raise ValueError(f"packed array {name!r}: shape, offset and length must be counts")
    dtype = np.dtype(dtype)
    if not _plain(dtype):
        raise ValueError(f"packed array {name!r} of dtype {dtype}")
    if dtype.itemsize * math.prod(shape) != length or offset + length > n_bytes:
        raise ValueError(f"packed array {name!r} does not fit its bytes")
    return name, dtype, tuple(shape)


def _plain(dtype: np.dtype) -> bool:
    """Whether ``dtype`` holds plain values (a kind of :data:`_PLAIN_KINDS`, no fields)."""
    return dtype.kind in _PLAIN_KINDS and dtype.fields is None and dtype.subdtype is None
