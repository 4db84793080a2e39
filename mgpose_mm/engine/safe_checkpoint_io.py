"""Checkpoint I/O for MMEngine 0.10.x, installed when ``mgpose_mm`` is
imported.

1. **Loading never runs code from a checkpoint unless asked.** A full unpickle
   can run any code the file names. MMEngine 0.10.7 loads local files with
   torch's default ``weights_only`` (``True`` from torch 2.6, which rejects
   MMEngine's own checkpoints, mmengine issue #1655) and URLs, ``pavi://``,
   ``s3://``, ``petrel://`` and local ``open-mmlab://`` files with a full
   unpickle. Every scheme of MMEngine (:data:`CHECKPOINT_SCHEMES`) is
   registered again (``CheckpointLoader.register_scheme``) with a loader that
   fetches the file as MMEngine does and loads torch's weights-only types plus
   those of a Runner checkpoint (:func:`mmengine_checkpoint_globals`), through
   a restricted unpickler on torch < 2.5
   (:mod:`mgpose_mm.engine.torch_compat`). Any other type raises
   :class:`~mgpose_mm.errors.UntrustedCheckpointError` (one line: the file, the
   type, the opt-in) unless ``--trust-checkpoint`` / ``trust_checkpoint=True``
   / :func:`trusted_checkpoints` asks for a full unpickle (with a warning).
   :func:`restore_mmengine_checkpoint_loaders` puts MMEngine's loaders back.
2. **No half-written checkpoints.** MMEngine's local backend writes straight
   into the final file, so a killed job leaves a truncated ``.pth`` that
   ``--resume`` picks up. :class:`AtomicLocalBackend` writes a temporary file
   and renames it into place. It is registered as :data:`ATOMIC_LOCAL_BACKEND`
   and used where a config selects it (this package's ``CheckpointHook``
   ``backend_args``); other codebases keep MMEngine's backend.
"""
import io
import logging
import os
import os.path as osp
import pickle
import re
import urllib.error
import zipfile
from contextlib import contextmanager
from tempfile import TemporaryDirectory
from typing import IO, Iterator, List, Optional, Union
from urllib.parse import urlparse

import numpy as np
import torch
import torch.distributed as torch_dist
from mmengine.dist import get_dist_info
from mmengine.fileio import LocalBackend, get_file_backend, register_backend
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader

from mgpose_mm.errors import InputFileError, UntrustedCheckpointError
from mgpose_mm.utils import AtomicFile, check_file
from .torch_compat import (allowed_global_names, unsafe_globals_in_checkpoint,
                           weights_only_load)

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
    """``getattr`` restricted to what an MMEngine checkpoint needs: the
    statistics methods of :class:`HistoryBuffer`.

    Registered under the name ``builtins.getattr``.
    """
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_METHODS:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'GLOBAL builtins.getattr is allowed only for the statistics '
        f'methods of HistoryBuffer, not getattr({obj!r}, {name!r})')


def mmengine_checkpoint_globals() -> List:
    """The types a checkpoint of MMEngine 0.10.7's Runner holds beyond what
    torch allows (tensors, numbers, lists, ``Counter``: the optimizer and
    scheduler states); the tests check that it needs exactly these:

    - the message hub's :class:`HistoryBuffer` and its statistics methods
      (through a restricted ``getattr``);
    - NumPy arrays, scalars and dtypes (``dataset_meta``, the message hub),
      under NumPy 2's ``numpy._core`` and NumPy 1.x's ``numpy.core`` names, so
      that a file saved under either loads under both, and the classes of the
      numeric and boolean dtypes (NumPy 2 pickles an array's dtype as its
      class), no object or string dtype.
    """
    globals_ = [
        HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr'),
        np.ndarray, np.dtype, _np_multiarray._reconstruct,
        _np_multiarray.scalar
    ]
    # NumPy 2 rebuilds an array's dtype with its class (numpy.dtypes.*DType)
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
            f'{TRUST_OPTION}: checkpoints that hold other Python objects '
            'than weights will be fully unpickled, which runs any code they '
            'contain. Use it only for files from a source you trust.',
            logger='current',
            level=logging.WARNING)
    try:
        yield
    finally:
        _trust['enabled'] = previous


def _blocked_globals(source: Union[str, IO[bytes]],
                     error: Exception) -> List[str]:
    """Names of the globals of ``source`` outside the allow-list (at least the
    one in ``error``)."""
    allowed = set(allowed_global_names(mmengine_checkpoint_globals()))
    try:
        names = [
            n for n in unsafe_globals_in_checkpoint(source) if n not in allowed
        ]
    except Exception:  # not a zip checkpoint: only the error names the type
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


def _is_torch_file(source: Union[str, IO[bytes]]) -> bool:
    """A zip archive (torch.save's format) or a pickle (the legacy format;
    protocol >= 2 starts with PROTO)."""
    if isinstance(source, str):
        with open(source, 'rb') as f:
            return _is_torch_file(f)
    source.seek(0)
    is_zip = zipfile.is_zipfile(source)
    source.seek(0)
    first = source.read(1)
    source.seek(0)
    return is_zip or first == b'\x80'


def safe_torch_load(source: Union[str, IO[bytes]],
                    map_location=None,
                    name: Optional[str] = None):
    """``torch.load(source, weights_only=True)`` with
    :func:`mmengine_checkpoint_globals` allowed (on every supported torch, see
    :mod:`mgpose_mm.engine.torch_compat`).

    Args:
        source (str | file object): local checkpoint file, or a seekable
            binary file object holding one.
        map_location: as :func:`torch.load`.
        name (str, optional): how to name the checkpoint in messages (e.g.
            its URL). Defaults to ``source`` when it is a path.

    Raises:
        UntrustedCheckpointError: the file holds another type and no opt-in is
            active.
        InputFileError: the file is not a readable torch checkpoint.
    """
    name = name or str(source)
    try:
        return weights_only_load(source, map_location,
                                 mmengine_checkpoint_globals())
    except pickle.UnpicklingError as error:
        if not _is_torch_file(source):
            raise InputFileError(
                f'checkpoint {name} is not a torch checkpoint (neither a zip '
                'archive nor a pickle)') from None
        blocked = ', '.join(_blocked_globals(source, error))
        if not checkpoints_trusted():
            raise UntrustedCheckpointError(
                f'checkpoint {name} holds {blocked}, which is not among the '
                'types of weights and MMEngine checkpoints; unpickling it '
                'could run code from the file. If you trust the file, pass '
                f'{TRUST_OPTION} (Python API: trust_checkpoint=True).'
            ) from None
        print_log(
            f'{TRUST_OPTION}: fully unpickling {name}, which holds {blocked}',
            logger='current',
            level=logging.WARNING)
        if not isinstance(source, str):
            source.seek(0)
        return torch.load(
            source, map_location=map_location, weights_only=False)
    except RuntimeError as error:
        if 'PytorchStreamReader' in str(error) or 'zip archive' in str(error):
            raise InputFileError(
                f'checkpoint {name} is truncated or not a torch checkpoint: '
                f'{str(error).splitlines()[0]}') from None
        raise


def load_from_safe_local(filename: str, map_location=None):
    """CheckpointLoader scheme for local paths (see the module docstring)."""
    filename = osp.expanduser(filename)
    check_file(filename, 'checkpoint file')
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
            # writes a temporary file and moves it into place: no partial
            # file is left
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


def load_from_safe_pavi(filename: str, map_location=None):
    """CheckpointLoader scheme for ``pavi://`` (MMEngine's download through
    ``pavi.modelcloud``, then a safe load)."""
    try:
        from pavi import modelcloud
    except ImportError:
        raise ImportError(
            'Please install pavi to load checkpoint from modelcloud.'
        ) from None
    model = modelcloud.get(filename[len('pavi://'):])
    with TemporaryDirectory() as tmp_dir:
        downloaded_file = osp.join(tmp_dir, model.name)
        model.download(downloaded_file)
        return safe_torch_load(downloaded_file, map_location, name=filename)


def load_from_safe_ceph(filename: str, map_location=None, backend='petrel'):
    """CheckpointLoader scheme for ``s3://`` and ``petrel://`` (read through
    MMEngine's file backend, as MMEngine, then a safe load)."""
    file_backend = get_file_backend(
        filename, backend_args={'backend': backend})
    with io.BytesIO(file_backend.get(filename)) as buffer:
        return safe_torch_load(buffer, map_location, name=filename)


def load_from_safe_torchvision(filename: str, map_location=None):
    """CheckpointLoader scheme for ``torchvision://`` (and the deprecated
    ``modelzoo://``): the model's URL, loaded as ``http(s)://``."""
    if filename.startswith('modelzoo://'):
        print_log(
            'The URL scheme of "modelzoo://" is deprecated, please '
            'use "torchvision://" instead',
            logger='current',
            level=logging.WARNING)
    model_name = filename.split('://', 1)[1]
    return load_from_safe_http(
        mmengine_checkpoint.get_torchvision_models()[model_name], map_location)


def load_from_safe_openmmlab(filename: str, map_location=None):
    """CheckpointLoader scheme for ``open-mmlab://`` / ``openmmlab://``: the
    URL or the file under ``$MMENGINE_HOME`` that MMEngine's model list names,
    loaded safely."""
    prefix, model_name = filename.split('://', 1)
    prefix += '://'
    deprecated = mmengine_checkpoint.get_deprecated_model_names()
    if model_name in deprecated:
        print_log(
            f'{prefix}{model_name} is deprecated in favor '
            f'of {prefix}{deprecated[model_name]}',
            logger='current',
            level=logging.WARNING)
        model_name = deprecated[model_name]
    model_url = mmengine_checkpoint.get_external_models()[model_name]
    if model_url.startswith(('http://', 'https://')):
        return load_from_safe_http(model_url, map_location)
    local = osp.join(mmengine_checkpoint._get_mmengine_home(), model_url)
    if not osp.isfile(local):
        raise FileNotFoundError(f'{local} can not be found.')
    return safe_torch_load(local, map_location, name=f'{filename} ({local})')


def load_from_safe_mmcls(filename: str, map_location=None):
    """CheckpointLoader scheme for ``mmcls://``: the model's URL, loaded as
    ``http(s)://``, backbone weights renamed as MMEngine does."""
    model_url = mmengine_checkpoint.get_mmcls_models()[
        filename[len('mmcls://'):]]
    checkpoint = load_from_safe_http(model_url, map_location)
    return mmengine_checkpoint._process_mmcls_checkpoint(checkpoint)


#: every checkpoint scheme of MMEngine 0.10: (prefixes, safe loader, the
#: name of MMEngine's own loader in ``mmengine.runner.checkpoint``)
CHECKPOINT_SCHEMES = (
    ('', load_from_safe_local, 'load_from_local'),
    (('http://', 'https://'), load_from_safe_http, 'load_from_http'),
    ('pavi://', load_from_safe_pavi, 'load_from_pavi'),
    ((r'(\S+\:)?s3://', r'(\S+\:)?petrel://'), load_from_safe_ceph,
     'load_from_ceph'),
    (('modelzoo://', 'torchvision://'), load_from_safe_torchvision,
     'load_from_torchvision'),
    (('open-mmlab://', 'openmmlab://'), load_from_safe_openmmlab,
     'load_from_openmmlab'),
    ('mmcls://', load_from_safe_mmcls, 'load_from_mmcls'),
)
#: name of :class:`AtomicLocalBackend` in MMEngine's file backends; select it
#: with ``backend_args=dict(backend=ATOMIC_LOCAL_BACKEND)`` (e.g. in the
#: CheckpointHook)
ATOMIC_LOCAL_BACKEND = 'mgpose_atomic_local'


class AtomicLocalBackend(LocalBackend):
    """:class:`LocalBackend` whose ``put`` is atomic
    (:class:`~mgpose_mm.utils.AtomicFile`)."""

    def put(self, obj: bytes, filepath: Union[str, 'os.PathLike']) -> None:
        with AtomicFile(filepath) as target, open(target.tmp_path, 'wb') as f:
            f.write(obj)
            f.flush()
            os.fsync(f.fileno())


def install_safe_checkpoint_io() -> None:
    """Register the safe loaders for every MMEngine checkpoint scheme and the
    atomic local backend under its own name (idempotent)."""
    for prefixes, loader, _ in CHECKPOINT_SCHEMES:
        CheckpointLoader.register_scheme(
            prefixes=prefixes, loader=loader, force=True)
    register_backend(ATOMIC_LOCAL_BACKEND, AtomicLocalBackend, force=True)


def restore_mmengine_checkpoint_loaders() -> None:
    """Opt out: register MMEngine's own loaders again for every scheme (which
    fully unpickle checkpoints).

    :func:`install_safe_checkpoint_io` undoes
    it.
    """
    for prefixes, _, mmengine_loader in CHECKPOINT_SCHEMES:
        CheckpointLoader.register_scheme(
            prefixes=prefixes,
            loader=getattr(mmengine_checkpoint, mmengine_loader),
            force=True)


install_safe_checkpoint_io()
