"""Kill a forked writer with SIGKILL while it is inside the code under test.

Shared by the crash tests of the mask store (``save`` and ``write_annotation``).
"""

from __future__ import annotations

import os
import select
import signal
import time
from collections.abc import Callable


def kill_during(work: Callable[[Callable[[], None]], None], delay: float) -> bool:
    """Fork a child running ``work(started)``; SIGKILL it ``delay`` s after ``started()``.

    ``work`` prepares what it needs, calls ``started()`` right before the code under test
    and then runs it. Returns True when the child got through ``work`` before the kill.
    """
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(rfd)
        try:
            work(lambda: _announce(wfd, b"s"))
            os.write(wfd, b"d")
            os._exit(0)
        except BaseException:
            os._exit(3)
    os.close(wfd)
    try:
        assert select.select([rfd], [], [], 30)[0], "writer never started"
        assert os.read(rfd, 1) == b"s"
        time.sleep(delay)
        finished = bool(select.select([rfd], [], [], 0)[0]) and os.read(rfd, 1) == b"d"
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    finally:
        os.close(rfd)
    return finished


def _announce(wfd: int, flag: bytes) -> None:  # pragma: no cover - child
    os.write(wfd, flag)
