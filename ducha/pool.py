"""Process pools for the batch stages (``simulate``, ``scan``).

Workers are forked from one forkserver, never from the caller: forking a
parent whose OpenCV or BLAS threads hold locks can deadlock the children.
The server imports the stages' modules once. Each worker would otherwise
import them itself (about 2 s on this machine), so every pool after the
first in a process now starts in milliseconds.

A worker takes the umask of the caller at the time the pool is made, not
that of the forkserver (fixed when it first started): files it writes
(evidence images) are then as private as the caller's (see
``ducha.workspace.private_umask``).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

# pypdfium2 is imported lazily by ocr.pages (the CLI need not load it), so it is named too.
PRELOADED_MODULES = ("ducha.scan", "ducha.simulate", "pypdfium2")


def _start_worker(umask: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    os.umask(umask)
    if initializer is not None:
        initializer(*initargs)


def _current_umask() -> int:
    umask = os.umask(0o077)
    os.umask(umask)
    return umask


def process_pool(workers: int, initializer: Callable[..., None] | None = None,
                 initargs: tuple[Any, ...] = ()) -> ProcessPoolExecutor:
    # The server only imports; one BLAS thread there means no idle BLAS threads exist at a fork.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    context = multiprocessing.get_context("forkserver")
    # Has no effect once the server runs, so every pool of the process asks for the same modules.
    context.set_forkserver_preload(list(PRELOADED_MODULES))
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start_worker,
        initargs=(_current_umask(), initializer, initargs),
    )
