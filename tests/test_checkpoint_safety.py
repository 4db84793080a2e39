"""Checkpoint loading never runs code unasked; MMEngine's own checkpoints load
without opt-in.

Tests that take ``load_path`` run on this torch's loading path and on the
restricted unpickler of torch < 2.5 (:mod:`mgpose_mm.engine.torch_compat`).
"""
import builtins
import io
import logging
import os.path as osp
import pickle
import runpy
import zipfile

import numpy as np
import pytest
import torch
import torch.nn as nn
from conftest import REPO_ROOT, TINY_CONFIG
from mmengine.config import Config
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.logging import HistoryBuffer
from mmengine.model.weight_init import PretrainedInit
from mmengine.registry import HOOKS
from mmengine.runner import Runner
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.testing.runner_test_case import ToyDataset, ToyModel
from mmpose.registry import MODELS

from mgpose_mm.engine import (AtomicLocalBackend, checkpoints_trusted,
                              install_safe_checkpoint_io, load_from_safe_local,
                              mmengine_checkpoint_globals,
                              restore_mmengine_checkpoint_loaders,
                              safe_checkpoint_io, safe_torch_load,
                              torch_compat)
from mgpose_mm.engine.safe_checkpoint_io import _NUMPY_DTYPES
from mgpose_mm.engine.torch_compat import (allowed_global_names, global_name,
                                           python3_name, torch_default_globals,
                                           unsafe_globals_in_checkpoint)
from mgpose_mm.errors import InputFileError, UntrustedCheckpointError


class Reduce:
    """Unpickling it BUILDs ``state`` (if any) into ``func(*args)``."""

    def __init__(self, func, *args, state=None):
        self.reduced = (func, args) + ((state, ) if state else ())

    def __reduce__(self):
        return self.reduced


def file_creator(path):
    """Unpickling it runs ``open(path, 'w')`` (pickled as ``io.open``)."""
    return Reduce(builtins.open, str(path), 'w')


@pytest.fixture(params=['torch_safe_globals', 'restricted_unpickler'])
def load_path(request, monkeypatch):
    """Load as torch >= 2.5 (``safe_globals``) or torch < 2.5 (restricted
    unpickler, forced here on any torch)."""
    native = request.param == 'torch_safe_globals'
    if native and not torch_compat.HAS_SAFE_GLOBALS:
        pytest.skip(f'torch {torch.__version__} has no safe_globals')
    monkeypatch.setattr(torch_compat, 'HAS_SAFE_GLOBALS', native)


def tiny_state_dict():
    torch.manual_seed(0)
    return MODELS.build(Config.fromfile(TINY_CONFIG).model).state_dict()


def save_malicious(path, marker):
    """Save a checkpoint whose unpickling would create ``marker``."""
    torch.save(dict(state_dict={}, meta=dict(note=file_creator(marker))), path)
    return str(path)


@pytest.fixture()
def evil(tmp_path):
    marker = tmp_path / 'created_by_unpickling'
    return save_malicious(tmp_path / 'evil.pth', marker), marker


def assert_refused(info, name, marker):
    message = str(info.value)
    assert '\n' not in message and name in message, message
    assert 'io.open' in message and '--trust-checkpoint' in message
    assert not marker.exists()


def test_opt_in_unpickles_with_a_warning(tmp_path, monkeypatch):
    from mgpose_mm.apis import init_video_pose_model
    marker, path = tmp_path / 'created', str(tmp_path / 'evil.pth')
    weights = tiny_state_dict()
    torch.save({'state_dict': weights, 'note': file_creator(marker)}, path)
    logged = []
    monkeypatch.setattr(safe_checkpoint_io, 'print_log',
                        lambda *args, **kwargs: logged.append((args, kwargs)))
    model = init_video_pose_model(TINY_CONFIG, path, trust_checkpoint=True)
    warnings = [a[0] for a, kw in logged if kw['level'] == logging.WARNING]
    assert marker.exists()  # the opt-in did run the file's code, as asked
    assert len(warnings) == 2 and '--trust-checkpoint' in warnings[0]
    assert 'fully unpickling' in warnings[1] and 'io.open' in warnings[1]
    assert not checkpoints_trusted()  # the opt-in ends with the call
    torch.testing.assert_close(model.state_dict()['backbone.frame_embed'],
                               weights['backbone.frame_embed'])


WEIGHTS = torch.arange(6.).reshape(2, 3)


@pytest.mark.parametrize(
    'make, legacy, expected',
    [(lambda marker: Reduce(getattr, HistoryBuffer, 'mean'), False,
      HistoryBuffer.mean),
     (lambda marker: Reduce(getattr, HistoryBuffer, 'update'), False, None),
     (lambda marker: Reduce(
         getattr, HistoryBuffer, 'mean', state={'injected': 1}), False, None),
     (lambda marker: WEIGHTS, True, WEIGHTS), (file_creator, True, None),
     (None, False, 'text'), (None, False, 'truncated')],
    ids=[
        'getattr_history_buffer_mean', 'getattr_other', 'build_into_function',
        'legacy_weights', 'legacy_code', 'text_file', 'truncated_file'
    ])
def test_safe_torch_load(make, legacy, expected, tmp_path, load_path):
    """``getattr`` is allowed only for HistoryBuffer's statistics, no state is
    BUILT into a function, the legacy (non-zip) format is covered, and a file
    that is no checkpoint is an :class:`InputFileError` naming it."""
    path, marker = tmp_path / 'saved.pth', tmp_path / 'created'
    torch.save({'x': make(marker) if make else WEIGHTS},
               path,
               _use_new_zipfile_serialization=not legacy)
    if isinstance(expected, str):
        path.write_bytes(path.read_bytes()[:200] if expected ==
                         'truncated' else b'notes')
        with pytest.raises(InputFileError, match='saved.pth'):
            safe_torch_load(str(path))
    elif expected is not None:
        loaded = safe_torch_load(str(path))['x']
        assert loaded is expected or torch.equal(loaded, expected)
    else:
        with pytest.raises(UntrustedCheckpointError) as info:
            safe_torch_load(str(path))
        assert 'saved.pth' in str(info.value)
        assert '--trust-checkpoint' in str(info.value)
    assert not hasattr(HistoryBuffer.mean, 'injected') and not marker.exists()


# ------------------------------------------------------------ MMEngine types
class _ToyDataset(ToyDataset):
    # NumPy types a dataset_meta may hold: every numeric dtype, a scalar
    METAINFO = dict(
        sigmas=np.array([0.1, 0.2], np.float32),
        arrays={name: np.zeros(2, name)
                for name in _NUMPY_DTYPES},
        scale=np.float32(0.5))


def _toy_runner(work_dir, max_epochs, **kwargs):
    schedulers = [
        dict(type='LinearLR', end=2, by_epoch=False, start_factor=0.1),
        dict(type='MultiStepLR', end=max_epochs, milestones=[1]),
        dict(type='CosineAnnealingLR', end=max_epochs, T_max=max_epochs)
    ]
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=_ToyDataset(),
            batch_size=6,  # 2 iterations per epoch
            sampler=dict(type='DefaultSampler'),
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(
            optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.1),
            clip_grad=dict(max_norm=1.0)),
        param_scheduler=schedulers,
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        randomness=dict(seed=0),
        default_scope='mmpose',
        **kwargs)


@pytest.fixture(scope='module')
def runner_checkpoint(tmp_path_factory):
    """A checkpoint of MMEngine's Runner: model, AdamW, the configs' three
    scheduler kinds, message hub, dataset_meta with NumPy arrays."""
    work_dir = tmp_path_factory.mktemp('runner')
    _toy_runner(work_dir, max_epochs=2).train()
    return str(work_dir / 'epoch_2.pth')


def _needed_globals(data):
    """What a weights-only load of our own test pickle ``data`` needs beyond
    torch's defaults: the globals it names and the types it BUILDs state into
    (torch >= 2.5 checks both), recorded while unpickling it."""
    resolve = {  # the NumPy aliases of the allow-list (e.g. NumPy 1.x names)
        global_name(item): item[0] if isinstance(item, tuple) else item
        for item in mmengine_checkpoint_globals()
    }
    needed = set()

    class Recorder(pickle._Unpickler):
        dispatch = dict(pickle._Unpickler.dispatch)

        def find_class(self, module, name):
            qualified = python3_name(module, name)
            needed.add(qualified)
            if qualified.startswith('torch.'):  # no tensor data is read
                return lambda *args, **kwargs: None
            return resolve.get(qualified) or super().find_class(module, name)

        def persistent_load(self, pid):
            return None

        def load_build(self):
            if self.stack[-2] is not None:  # [..., target, state]
                needed.add(global_name(type(self.stack[-2])))
            pickle._Unpickler.load_build(self)

        dispatch[pickle.BUILD[0]] = load_build

    Recorder(io.BytesIO(data)).load()
    return needed - set(torch_default_globals())


def test_mmengine_checkpoint_needs_exactly_the_allow_list(runner_checkpoint):
    """The allow-list is what a Runner checkpoint needs, saved under NumPy 1.x
    (``numpy.core`` names) or NumPy 2 (``numpy._core``), nothing more."""
    with zipfile.ZipFile(runner_checkpoint) as archive:
        name, = [n for n in archive.namelist() if n.endswith('/data.pkl')]
        data = archive.read(name)
    numpy1, numpy2 = b'cnumpy.core.multiarray\n', b'cnumpy._core.multiarray\n'
    swap = (numpy2, numpy1) if numpy2 in data else (numpy1, numpy2)
    other_numpy = data.replace(*swap)
    assert other_numpy != data
    allowed = allowed_global_names(mmengine_checkpoint_globals())
    assert len(allowed) == len(set(allowed))
    assert _needed_globals(data) | _needed_globals(other_numpy) == set(allowed)
    # this torch's own listing agrees on the globals of the file
    globals_ = set(unsafe_globals_in_checkpoint(runner_checkpoint))
    needed = _needed_globals(data)
    assert globals_ == {n for n in needed if 'numpy.dtypes.' not in n}
    # what torch alone refuses (the reason for the allow-list)
    assert {
        'mmengine.logging.history_buffer.HistoryBuffer', 'builtins.getattr',
        'numpy.ndarray', 'numpy.dtype'
    } <= globals_
    with pytest.raises(pickle.UnpicklingError):
        torch.load(runner_checkpoint, weights_only=True)


def test_mmengine_checkpoint_loads_safely_and_completely(
        runner_checkpoint, tmp_path, load_path):
    """Through ``CheckpointLoader``, ``Pretrained`` init and ``resume``,
    without opt-in."""
    safe = CheckpointLoader.load_checkpoint(runner_checkpoint)
    full = torch.load(runner_checkpoint, weights_only=False)
    assert sorted(safe) == sorted(full) == [
        'message_hub', 'meta', 'optimizer', 'param_schedulers', 'state_dict'
    ]
    np.testing.assert_array_equal(safe['meta']['dataset_meta']['sigmas'],
                                  np.array([0.1, 0.2], np.float32))
    safe_lr = safe['message_hub']['log_scalars']['train/lr']
    full_lr = full['message_hub']['log_scalars']['train/lr']
    assert safe_lr.current() == full_lr.current()
    assert safe_lr.mean(2) == pytest.approx(full_lr.mean(2))
    assert safe['param_schedulers'] == full['param_schedulers']
    assert safe['optimizer']['param_groups'] == full['optimizer'][
        'param_groups']
    for key, value in full['state_dict'].items():
        torch.testing.assert_close(safe['state_dict'][key], value)

    linear = nn.Linear(2, 2)
    PretrainedInit(checkpoint=runner_checkpoint, prefix='linear1.')(linear)
    torch.testing.assert_close(
        linear.weight, full['state_dict']['linear1.weight'], rtol=0, atol=0)

    runner = _toy_runner(
        tmp_path, max_epochs=3, resume=True, load_from=runner_checkpoint)
    runner.train()
    # 2 iterations per epoch, 2 epochs resumed
    assert runner.epoch == 3 and runner.iter == 6
    # the resumed lr history plus this epoch
    assert len(runner.message_hub.get_scalar('train/lr').data[0]) == 6


@pytest.mark.parametrize('entry', [
    'init_video_pose_model', 'load_checkpoint', 'init_cfg', 'pytorch2onnx',
    'runner_load_from', 'runner_resume'
])
def test_every_entry_point_refuses_code(entry, evil, tmp_path, load_path):
    """The inference API, MMEngine's ``load_checkpoint`` and ``Pretrained``
    init, the ONNX export tool (no file written) and the Runner (``load_from``,
    ``resume``) refuse the file in one line and run none of its code."""
    path, marker = evil
    with pytest.raises(UntrustedCheckpointError) as info:
        if entry == 'init_video_pose_model':
            from mgpose_mm.apis import init_video_pose_model
            init_video_pose_model(TINY_CONFIG, path)
        elif entry == 'load_checkpoint':
            mmengine_checkpoint.load_checkpoint(nn.Linear(1, 1), path)
        elif entry == 'init_cfg':
            PretrainedInit(checkpoint=path, prefix='linear.')(nn.Linear(4, 1))
        elif entry == 'pytorch2onnx':
            tool = runpy.run_path(
                osp.join(REPO_ROOT, 'tools/deployment/pytorch2onnx.py'),
                run_name='pytorch2onnx')
            tool['main'](
                [TINY_CONFIG, path, '--output-file', f'{tmp_path}/evil.onnx'])
        else:
            _toy_runner(
                tmp_path / 'work',
                max_epochs=1,
                load_from=path,
                resume=entry == 'runner_resume').train()
    assert_refused(info, path, marker)
    assert not osp.exists(tmp_path / 'evil.onnx')


def test_what_the_import_changes(tmp_path):
    """Every scheme has a safe loader (a newer MMEngine may add one);
    MMEngine's loaders can be restored; MMEngine's local file backend stays,
    and this package's configs select the atomic one."""
    safe = {loader for _, loader, _ in safe_checkpoint_io.CHECKPOINT_SCHEMES}
    for prefix, loader in CheckpointLoader._schemes.items():
        assert loader in safe, f'{prefix!r} is loaded by {loader}'
    loader_of = CheckpointLoader._get_checkpoint_loader
    try:
        restore_mmengine_checkpoint_loaders()
        assert loader_of('x.pth') is mmengine_checkpoint.load_from_local
        assert loader_of(
            'https://h/x.pth') is mmengine_checkpoint.load_from_http
    finally:
        install_safe_checkpoint_io()
    assert loader_of('x.pth') is load_from_safe_local
    assert type(get_file_backend(str(tmp_path))) is LocalBackend
    hook = HOOKS.build(Config.fromfile(TINY_CONFIG).default_hooks.checkpoint)
    backend = get_file_backend(str(tmp_path), backend_args=hook.backend_args)
    assert isinstance(backend, AtomicLocalBackend)
