"""Checkpoint I/O for MMEngine 0.10.x, installed when ``mgpose_mm`` is
imported.

1. **Loading never runs code from a checkpoint unless asked.** A checkpoint is a pickle; a full
   unpickle can run any code the file names. MMEngine 0.10.7 loads local files with
   ``torch.load`` and torch's default ``weights_only=True`` (torch >= 2.6), which rejects
   MMEngine's own checkpoints (mmengine issue #1655), and URLs with ``weights_only=False``
   (``torch.hub``), a full unpickle. Through MMEngine's ``CheckpointLoader.register_scheme``
   extension point we load local paths and ``http(s)://`` URLs (and ``torchvision://``,
   ``open-mmlab://``, ``mmcls://``, which resolve to URLs) with ``weights_only=True`` and
   torch's safe-globals allow-list extended by exactly the types an MMEngine checkpoint
   (saved by the Runner's ``CheckpointHook``: model, optimizer, parameter schedulers, message
   hub) carries: :func:`mmengine_checkpoint_globals`. So resume, ``load_from``, ``Pretrained``
   initialisation, ``tools/test.py`` and the demo need no full unpickle.

   Any other type raises :class:`~mgpose_mm.errors.UntrustedCheckpointError`: one line with the
   file, the type and the opt-in. The opt-in is explicit: ``--trust-checkpoint`` on the tools and
   the demo, ``trust_checkpoint=True`` in the API, or the :func:`trusted_checkpoints` context;
   under it such a file is fully unpickled and a warning is logged.
2. **No half-written checkpoints.** MMEngine writes checkpoints with the local file backend's
   ``put``, straight into the final file; a job killed mid-write leaves a truncated ``.pth`` that
   ``--resume`` then picks up. :class:`AtomicLocalBackend` writes to a temporary file in the same
   directory and renames it into place (atomic on POSIX), so a checkpoint file is either complete
   or absent.
"""
import logging
import os
import os.path as osp
import pickle
import re
import urllib.error
import zipfile
from contextlib import contextmanager
from typing import Iterator, List, Optional, Union
from urllib.parse import urlparse

import numpy as np
import torch
import torch.distributed as torch_dist
from mmengine.dist import get_dist_info
from mmengine.fileio import LocalBackend, register_backend
from mmengine.fileio.io import backend_instances
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader

from mgpose_mm.errors import InputFileError, UntrustedCheckpointError
from mgpose_mm.utils import AtomicFile

try:  # NumPy >= 2
    from numpy._core import multiarray as _np_multiarray
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core import multiarray as _np_multiarray

TRUST_OPTION = '--trust-checkpoint'
# HistoryBuffer pickles its statistics methods as getattr(HistoryBuffer, name)
_HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')
_BLOCKED_GLOBAL = re.compile(r'GLOBAL ([\w.]+)')
_UNSUPPORTED_OPERAND = re.compile(r'Unsupported operand \d+')
_UNBUILDABLE = re.compile(r"but got <class '([\w.]+)'>")
_NUMPY_DTYPES = ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16',
                 'uint32', 'uint64', 'float16', 'float32', 'float64',
                 'complex64', 'complex128')
_trust = {'enabled': False}


def _history_buffer_getattr(obj, name: str):
    """``getattr`` restricted to what an MMEngine checkpoint needs: the statistics methods of
    :class:`HistoryBuffer`. Registered under the name ``builtins.getattr``."""
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_METHODS:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'GLOBAL builtins.getattr is allowed only for the statistics '
        f'methods of HistoryBuffer, not getattr({obj!r}, {name!r})')


def mmengine_checkpoint_globals() -> List:
    """The types a checkpoint written by MMEngine 0.10.7's Runner holds beyond
    tensors and builtins (found with
    ``torch.serialization.get_unsafe_globals_in_checkpoint`` on a checkpoint
    with model, optimizer, parameter schedulers and message hub, see the
    tests):

    - the message hub's :class:`HistoryBuffer` and its statistics methods (through a restricted
      ``getattr``);
    - NumPy arrays, scalars and dtypes (``dataset_meta``, the message hub's ``eta`` and
      histories), also under NumPy 1.x's ``numpy.core`` names of files saved with NumPy 1.x.
      A ``tools/train.py`` checkpoint of the tiny config needs the dtype classes of uint8,
      int64, float32 and float64; all numeric and boolean dtype classes are allowed (they only
      describe data), no object or string dtype.

    Optimizer and scheduler states are tensors, numbers, lists and ``Counter``, which torch allows.
    """
    globals_ = [
        HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr'),
        np.ndarray, np.dtype, _np_multiarray._reconstruct,
        _np_multiarray.scalar
    ]
    # an array's dtype is rebuilt with its dtype class (e.g. numpy.dtypes.Float32DType)
    globals_ += [type(np.dtype(name)) for name in _NUMPY_DTYPES]
    for name in ('_reconstruct', 'scalar'):
        for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
            qualified = f'{module}.{name}'
            obj = getattr(_np_multiarray, name)
            if qualified != f'{obj.__module__}.{obj.__name__}':
                globals_.append((obj, qualified))
    return globals_


def checkpoints_trusted() -> bool:
    """Whether checkpoints outside the allow-list may be fully unpickled
    now."""
    return _trust['enabled']


@contextmanager
def trusted_checkpoints(enabled: bool = True) -> Iterator[None]:
    """Within this context (when ``enabled``), checkpoints holding types
    outside the allow-list are fully unpickled, with a warning, instead of
    rejected.

    ``enabled=False`` changes nothing (an enclosing trusted context stays
    trusted).
    """
    previous = _trust['enabled']
    _trust['enabled'] = previous or bool(enabled)
    if enabled and not previous:
        print_log(
            f'{TRUST_OPTION}: checkpoints that hold other Python objects than weights will '
            'be fully unpickled, which runs any code they contain. Use it only for files '
            'from a source you trust.',
            logger='current',
            level=logging.WARNING)
    try:
        yield
    finally:
        _trust['enabled'] = previous


def _blocked_globals(path: str, error: Exception) -> List[str]:
    """Names of the globals of ``path`` outside the allow-list (at least the
    one in ``error``)."""
    allowed = set()
    for item in mmengine_checkpoint_globals():
        obj, name = item if isinstance(item, tuple) else (item, None)
        allowed.add(name or f'{obj.__module__}.{obj.__name__}')
    try:
        names = [
            n
            for n in torch.serialization.get_unsafe_globals_in_checkpoint(path)
            if n not in allowed
        ]
    except Exception:  # not a zip checkpoint: only the error message names the type
        names = []
    if not names:
        names = (_BLOCKED_GLOBAL.findall(str(error))
                 or _UNBUILDABLE.findall(str(error)))[:1]
    if not names:
        operand = _UNSUPPORTED_OPERAND.search(str(error))
        names = [
            f'pickle instructions outside the allow-list ({operand.group(0)})'
            if operand else 'an object outside the allow-list'
        ]
    return names


def _is_torch_file(path: str) -> bool:
    """A zip archive (torch.save's format) or a pickle (the legacy format)."""
    if zipfile.is_zipfile(path):
        return True
    with open(path, 'rb') as f:
        return f.read(1) == b'\x80'  # pickle protocol >= 2 starts with PROTO


def safe_torch_load(path: str, map_location=None, name: Optional[str] = None):
    """``torch.load(path, weights_only=True)`` with
    :func:`mmengine_checkpoint_globals` allowed.

    Args:
        path (str): local checkpoint file.
        map_location: as :func:`torch.load`.
        name (str, optional): how to name the checkpoint in messages (e.g. its URL).

    Raises:
        UntrustedCheckpointError: the file holds another type and no opt-in is active.
        InputFileError: the file is not a readable torch checkpoint.
    """
    name = name or path
    try:
        with torch.serialization.safe_globals(mmengine_checkpoint_globals()):
            return torch.load(
                path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        if not _is_torch_file(path):
            raise InputFileError(
                f'checkpoint {name} is not a torch checkpoint (neither a zip '
                'archive nor a pickle)') from None
        blocked = ', '.join(_blocked_globals(path, error))
        if not checkpoints_trusted():
            raise UntrustedCheckpointError(
                f'checkpoint {name} holds {blocked}, which is not among the types of weights '
                'and MMEngine checkpoints; unpickling it could run code from the file. If you '
                f'trust the file, pass {TRUST_OPTION} (Python API: trust_checkpoint=True).'
            ) from None
        print_log(
            f'{TRUST_OPTION}: fully unpickling {name}, which holds {blocked}',
            logger='current',
            level=logging.WARNING)
        return torch.load(path, map_location=map_location, weights_only=False)
    except RuntimeError as error:
        if 'PytorchStreamReader' in str(error) or 'zip archive' in str(error):
            raise InputFileError(
                f'checkpoint {name} is truncated or not a torch checkpoint: '
                f'{str(error).splitlines()[0]}') from None
        raise


def load_from_safe_local(filename: str, map_location=None):
    """CheckpointLoader scheme for local paths (see the module docstring)."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file not found: {filename}')
    return safe_torch_load(filename, map_location)


def download_checkpoint(url: str, model_dir: Optional[str] = None) -> str:
    """Download ``url`` into ``model_dir`` (default: ``<torch hub
    dir>/checkpoints``, as ``torch.hub``) unless a file of that name is already
    there; returns the local path."""
    model_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    cached = osp.join(model_dir, osp.basename(urlparse(url).path))
    if not osp.isfile(cached):
        print_log(f'Downloading {url} to {cached}', logger='current')
        try:
            # writes a temporary file and moves it into place: no partial file is left
            torch.hub.download_url_to_file(url, cached, progress=False)
        except (urllib.error.URLError, OSError) as error:
            raise InputFileError(
                f'cannot download checkpoint {url}: {error}') from None
    return cached


def load_from_safe_http(filename: str,
                        map_location=None,
                        model_dir: Optional[str] = None):
    """CheckpointLoader scheme for ``http(s)://`` URLs: download once (local
    rank 0 first in a distributed run, as MMEngine), then load the file as a
    local one."""
    rank, world_size = get_dist_info()
    if rank == 0:
        path = download_checkpoint(filename, model_dir)
    if world_size > 1:
        torch_dist.barrier()
        if rank > 0:
            path = download_checkpoint(filename, model_dir)
    return safe_torch_load(path, map_location, name=filename)


class AtomicLocalBackend(LocalBackend):
    """:class:`LocalBackend` whose ``put`` is atomic (:class:`~mgpose_mm.utils.AtomicFile`)."""

    def put(self, obj: bytes, filepath: Union[str, 'os.PathLike']) -> None:
        with AtomicFile(filepath) as target, open(target.tmp_path, 'wb') as f:
            f.write(obj)
            f.flush()
            os.fsync(f.fileno())


def install_safe_checkpoint_io() -> None:
    """Register the loaders and the atomic backend with MMEngine
    (idempotent)."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_safe_local, force=True)
    CheckpointLoader.register_scheme(
        prefixes=('http://', 'https://'),
        loader=load_from_safe_http,
        force=True)
    # torchvision://, open-mmlab:// and mmcls:// call this module function for their URLs
    mmengine_checkpoint.load_from_http = load_from_safe_http
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
    # get_file_backend caches instances; drop plain local ones made before this registration.
    for key in [
            k for k, v in backend_instances.items() if type(v) is LocalBackend
    ]:
        backend_instances.pop(key)


install_safe_checkpoint_io()
