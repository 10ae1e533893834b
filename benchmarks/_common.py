"""Helpers shared by the benchmark scripts (run as ``python benchmarks/<name>.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best_of(n: int, fn: Callable[..., Any], *args: Any, **kw: Any) -> tuple[float, Any]:
    """Shortest wall time of ``n`` runs (the machine may be shared) and the result."""
    best, out = float("inf"), None
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn(*args, **kw)
        best = min(best, time.perf_counter() - t0)
    return best, out
