"""Checkpoint I/O fixes for MMEngine 0.10.x, installed when ``mgpose_mm`` is imported.

1. **Loading under torch >= 2.6.** MMEngine 0.10.7 calls ``torch.load`` without ``weights_only``;
   torch's new default (``weights_only=True``) rejects MMEngine's own checkpoints (message hub,
   NumPy arrays, config objects), so ``--resume`` and ``load_from`` fail (mmengine issue #1655).
   We register a loader for local paths through MMEngine's ``CheckpointLoader.register_scheme``
   extension point that first tries ``weights_only=True`` and falls back to a full unpickle,
   which is what torch < 2.6 always did. Only load checkpoints you trust, as with any pickle.
2. **No half-written checkpoints.** MMEngine writes checkpoints with the local file backend's
   ``put``, straight into the final file; a job killed mid-write leaves a truncated ``.pth`` that
   ``--resume`` then picks up. :class:`AtomicLocalBackend` writes to a temporary file in the same
   directory and renames it into place (atomic on POSIX), so a checkpoint file is either complete
   or absent.
"""
import os
import os.path as osp
import pickle
import tempfile
from typing import Union

import torch
from mmengine.fileio import LocalBackend, register_backend
from mmengine.fileio.io import backend_instances
from mmengine.runner.checkpoint import CheckpointLoader


def load_from_trusted_local(filename: str, map_location=None, logger=None):
    """Load a local checkpoint the way torch < 2.6 did (see module docstring)."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        return torch.load(filename, map_location=map_location, weights_only=False)


class AtomicLocalBackend(LocalBackend):
    """:class:`LocalBackend` whose ``put`` is atomic (temporary file + rename)."""

    def put(self, obj: bytes, filepath: Union[str, 'os.PathLike']) -> None:
        filepath = str(filepath)
        directory = osp.dirname(osp.abspath(filepath))
        os.makedirs(directory, exist_ok=True)
        fd, tmp_path = tempfile.mkstemp(prefix='.' + osp.basename(filepath) + '.', dir=directory)
        try:
            with os.fdopen(fd, 'wb') as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp_path, filepath)
        except BaseException:
            if osp.exists(tmp_path):
                os.remove(tmp_path)
            raise


def install_safe_checkpoint_io() -> None:
    """Register the loader and the atomic backend with MMEngine (idempotent)."""
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_trusted_local, force=True)
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
    # get_file_backend caches instances; drop plain local ones made before this registration.
    for key in [k for k, v in backend_instances.items() if type(v) is LocalBackend]:
        backend_instances.pop(key)


install_safe_checkpoint_io()
