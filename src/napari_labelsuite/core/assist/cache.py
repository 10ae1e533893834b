"""An on-disk cache of image embeddings, one file per tile, checked by signature.

Each tile file holds the encoder outputs and the signature they were computed under
(tile data hash, model hash, tiling, input size, format version). A file whose signature
differs, or that cannot be read, is reported through ``notify`` and recomputed, never used.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "CACHE_ENV",
    "EmbeddingCache",
    "EmbeddingCacheWarning",
    "default_cache_dir",
    "signature",
]

#: environment variable naming the default cache folder
CACHE_ENV = "LABELSUITE_EMBEDDING_CACHE"
FORMAT_VERSION = 1


class EmbeddingCacheWarning(UserWarning):
    """A cached embedding did not match or could not be read; it was recomputed."""


def default_cache_dir() -> Path:
    """``$LABELSUITE_EMBEDDING_CACHE``, else ``~/.cache/napari-labelsuite/embeddings``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "napari-labelsuite" / "embeddings"


def signature(**parts: Any) -> str:
    """A stable hex digest of JSON-serialisable parts."""
    text = json.dumps({"version": FORMAT_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()


def data_hash(array: np.ndarray) -> str:
    """Digest of an array's values, shape and dtype."""
    h = hashlib.blake2b(digest_size=20)
    arr = np.ascontiguousarray(array)
    h.update(str((arr.shape, arr.dtype.str)).encode())
    h.update(arr.tobytes())
    return h.hexdigest()


def _warn(message: str) -> None:
    warnings.warn(message, EmbeddingCacheWarning, stacklevel=3)


class EmbeddingCache:
    """Tile embeddings under ``root/<dataset key>/<tile key>.npz``.

    Parameters
    ----------
    root : path, optional
        The cache folder (default :func:`default_cache_dir`).
    notify : callable, optional
        Called with a message when a file is mismatched or corrupt (default: a
        :class:`EmbeddingCacheWarning`).
    """

    def __init__(self, root: Any = None, notify: Callable[[str], None] | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        self.notify = notify or _warn

    def path(self, dataset: str, tile: str) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in dataset)
        return self.root / safe / f"{tile}.npz"

    def load(self, dataset: str, tile: str, sig: str) -> dict[str, np.ndarray] | None:
        """The arrays stored for ``tile`` if their signature is ``sig``; else None."""
        p = self.path(dataset, tile)
        if not p.exists():
            return None
        try:
            with np.load(p, allow_pickle=False) as z:
                stored = str(z["__signature__"])
                arrays = {k: z[k] for k in z.files if k != "__signature__"}
        except Exception as exc:  # any unreadable file is recomputed, whatever the cause
            self.notify(f"embedding cache file {p} is unreadable ({exc}); recomputing it")
            return None
        if stored != sig:
            self.notify(
                f"embedding cache file {p} was made for other data, model or tiling; "
                "recomputing it"
            )
            return None
        if not arrays:
            self.notify(f"embedding cache file {p} holds no embedding; recomputing it")
            return None
        return arrays

    def save(self, dataset: str, tile: str, sig: str, arrays: dict[str, np.ndarray]) -> Path:
        """Store ``arrays`` for ``tile`` (written to a temporary file, then renamed)."""
        p = self.path(dataset, tile)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(p.name + ".partial.npz")
        payload: dict[str, Any] = {"__signature__": np.asarray(sig), **arrays}
        np.savez(tmp, **payload)
        os.replace(tmp, p)
        return p
