"""Interleaved (round-robin) timing of several forward passes in one process.

Every round runs each variant once, in a rotating order, so slow phases of the
machine (thermal throttling, other processes) hit all variants alike and ratios
stay fair.
"""
import statistics
import time
from contextlib import nullcontext
from typing import Callable, Dict, List, Optional

import torch

Runner = Callable[[], object]


def autocast_context(device: str, amp_dtype: Optional[str]):
    """``torch.autocast`` for ``device`` with ``amp_dtype``
    ('float16'/'bfloat16'), or a no-op."""
    if not amp_dtype:
        return nullcontext()
    return torch.autocast(
        device_type=torch.device(device).type, dtype=getattr(torch, amp_dtype))


def synchronizer(device: str) -> Callable[[], None]:
    """A function that waits for queued device work (CUDA) or does nothing.

    On CPU there is nothing to wait for.
    """
    if torch.device(device).type == 'cuda':
        return torch.cuda.synchronize
    return lambda: None


def forward_runner(fn: Callable[[], object], device: str,
                   amp_dtype: Optional[str]) -> Runner:
    """Wrap a forward call in ``torch.inference_mode`` and autocast; it is
    timed end to end."""

    def run():
        with torch.inference_mode(), autocast_context(device, amp_dtype):
            return fn()

    return run


def time_round_robin(runners: Dict[str, Runner],
                     warmup: int,
                     repeats: int,
                     synchronize: Callable[[], None] = lambda: None,
                     log: Optional[Callable[[str], None]] = None
                     ) -> Dict[str, List[float]]:
    """Time every runner, interleaved: ``warmup`` untimed, ``repeats`` timed.

    Args:
        runners (dict): Name -> zero-argument callable running one batch.
        warmup (int): Untimed rounds first (each runs every variant once).
        repeats (int): Timed rounds.
        synchronize (callable): Called before starting and after each run
            (CUDA sync).
        log (callable, optional): Progress messages.

    Returns:
        dict: Name -> list of ``repeats`` wall-clock durations in seconds.
    """
    if repeats < 1:
        raise ValueError(f'repeats must be >= 1, got {repeats}')
    names = list(runners)
    times: Dict[str, List[float]] = {name: [] for name in names}
    for round_index in range(warmup + repeats):
        timed = round_index >= warmup
        if log is not None:
            phase = (f'repeat {round_index - warmup + 1}/{repeats}'
                     if timed else f'warm-up {round_index + 1}/{warmup}')
            log(f'  {phase} over {len(names)} runners')
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            synchronize()
            start = time.perf_counter()
            runners[name]()
            synchronize()
            if timed:
                times[name].append(time.perf_counter() - start)
    return times


def median(values: List[float]) -> float:
    return statistics.median(values)
