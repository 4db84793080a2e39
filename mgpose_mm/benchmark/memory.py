"""Peak memory, per model, of inference and of one training step.

A training step is one forward + backward.

Method (Linux):

- **CPU**: peak resident set size. Before each measured call the process
  frees what it can (``gc.collect`` + glibc ``malloc_trim``), reads its
  current RSS, and resets the kernel's peak-RSS counter (``VmHWM``) by writing
  ``5`` to ``/proc/self/clear_refs``; after the call it reads ``VmHWM``.
  Reported: ``cpu_rss_delta_mb`` = peak - RSS before (activations, workspaces
  and, in training, gradients; the weights and the input are already
  resident) and ``cpu_rss_peak_mb`` (absolute). Where ``clear_refs`` is not
  writable, ``ru_maxrss`` (a lifetime peak) is used instead.
- **CUDA**: ``torch.cuda.max_memory_allocated`` after
  ``reset_peak_memory_stats`` (absolute: weights + activations (+ gradients in
  training)), as MMPose/MMEngine log it.

By default every model is measured in its own child process
(``python -m mgpose_mm.benchmark.memory_worker``) so that allocator caches and
peaks of other models cannot leak into its numbers; ``isolation='inline'``
measures in the calling process (faster, for tests).
"""
import ctypes
import functools
import gc
import json
import resource
import subprocess
import sys
from typing import Callable, Dict, Optional, Sequence, Tuple

import torch

from .specs import ModelSpec, build_model, make_clips, model_inputs
from .timing import autocast_context

RESULT_MARKER = 'MGPOSE_MEMORY_RESULT '
MB = 2.0**20


def _proc_status_mb(field: str) -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024.0
    raise KeyError(f'{field} not in /proc/self/status')


def _reset_peak_rss() -> bool:
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def _release_memory() -> None:
    gc.collect()
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except OSError:
        pass


def _inference_pass(model, inputs, device: str,
                    amp_dtype: Optional[str]) -> None:
    with torch.inference_mode(), autocast_context(device, amp_dtype):
        model._forward(inputs)


def _training_pass(model, inputs, device: str,
                   amp_dtype: Optional[str]) -> None:
    """One forward + backward in train mode.

    The loss is a stand-in computed on the heatmaps.
    """
    model.train()
    with autocast_context(device, amp_dtype):
        heatmaps = model._forward(inputs)
    heatmaps.float().pow(2).mean().backward()


def peak_memory(fn: Callable[[], object],
                device: str) -> Dict[str, Optional[float]]:
    """Run ``fn`` once and return its peak memory in MiB.

    See the module docstring for the method.
    """
    cuda = torch.device(device).type == 'cuda'
    _release_memory()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    try:
        before = _proc_status_mb('VmRSS')
        resettable = _reset_peak_rss()
    except (OSError, KeyError):
        before, resettable = 0.0, False
    try:
        fn()
        if cuda:
            torch.cuda.synchronize()
    except torch.cuda.OutOfMemoryError:
        return dict(
            cpu_rss_peak_mb=None,
            cpu_rss_delta_mb=None,
            cuda_max_alloc_mb=None,
            oom=True)
    if resettable:
        peak = _proc_status_mb('VmHWM')
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return dict(
        cpu_rss_peak_mb=peak,
        cpu_rss_delta_mb=peak - before,
        cuda_max_alloc_mb=torch.cuda.max_memory_allocated() /
        MB if cuda else None,
        oom=False)


def measure_in_process(spec: ModelSpec, batch_sizes: Sequence[int],
                       train_batch_sizes: Sequence[int], device: str,
                       amp_dtype: Optional[str], clip_shape: Tuple[int, int,
                                                                   int],
                       key_frame_index: int) -> Dict[str, Dict[int, dict]]:
    """Build ``spec``'s model here and measure inference (and training) peaks
    per batch size.

    Args:
        clip_shape (tuple): (T, H, W) of the clips; single-frame models get
            the key frame.

    Returns:
        dict: ``{'infer': {batch: peaks}, 'train': {batch: peaks}}`` (see
        :func:`peak_memory`).
    """
    model = build_model(spec, device)
    num_frames, height, width = clip_shape
    result = dict(infer={}, train={})
    for batch in sorted(set(batch_sizes) | set(train_batch_sizes)):
        inputs = model_inputs(
            model, make_clips(batch, num_frames, (height, width), device),
            key_frame_index)
        if batch in batch_sizes:
            result['infer'][batch] = peak_memory(
                functools.partial(_inference_pass, model, inputs, device,
                                  amp_dtype), device)
        if batch in train_batch_sizes:
            result['train'][batch] = peak_memory(
                functools.partial(_training_pass, model, inputs, device,
                                  amp_dtype), device)
            model.zero_grad(set_to_none=True)
            model.eval()
        del inputs
    return result


def measure_memory(spec: ModelSpec,
                   batch_sizes: Sequence[int],
                   train_batch_sizes: Sequence[int],
                   device: str,
                   amp_dtype: Optional[str],
                   clip_shape: Tuple[int, int, int],
                   key_frame_index: int,
                   isolation: str = 'subprocess'
                   ) -> Dict[str, Dict[int, dict]]:
    """:func:`measure_in_process`, by default in a fresh child process.

    ``isolation='subprocess'`` (the default) measures in a child process,
    ``isolation='inline'`` in this one.
    """
    args = dict(
        spec=spec.to_dict(),
        batch_sizes=list(batch_sizes),
        train_batch_sizes=list(train_batch_sizes),
        device=device,
        amp_dtype=amp_dtype,
        clip_shape=list(clip_shape),
        key_frame_index=key_frame_index)
    if isolation == 'inline':
        return measure_in_process(spec, batch_sizes,
                                  train_batch_sizes, device, amp_dtype,
                                  tuple(clip_shape), key_frame_index)
    if isolation != 'subprocess':
        raise ValueError("memory isolation must be 'subprocess' or 'inline', "
                         f'got {isolation!r}')
    proc = subprocess.run(
        [
            sys.executable, '-m', 'mgpose_mm.benchmark.memory_worker',
            json.dumps(args)
        ],
        capture_output=True,
        text=True,
    )
    lines = [
        line for line in proc.stdout.splitlines()
        if line.startswith(RESULT_MARKER)
    ]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f'memory worker for {spec.key} failed '
                           f'(exit code {proc.returncode}):\n'
                           f'{proc.stderr[-3000:]}')
    raw = json.loads(lines[-1][len(RESULT_MARKER):])
    return {
        mode: {int(batch): peaks
               for batch, peaks in by_batch.items()}
        for mode, by_batch in raw.items()
    }
