"""Checkpoint loading never runs code unasked; MMEngine's own checkpoints load
without opt-in.

Every test that loads runs on this torch's loading path; those that take the
``load_path`` fixture also run through the restricted unpickler of torch < 2.5
(:mod:`mgpose_mm.engine.torch_compat`), so both paths are tested on any torch.
"""
import builtins
import io
import json
import os
import os.path as osp
import pickle
import runpy
import shutil
import subprocess
import sys
import types
import zipfile

import numpy as np
import pytest
import torch
import torch.nn as nn
from conftest import REPO_ROOT, TINY_CONFIG


class FileCreator:
    """Unpickling this runs ``open(path, "w")`` (pickled as ``io.open``): it
    creates ``path``."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return builtins.open, (self.path, 'w')


class HistoryBufferAttribute:
    """Unpickling this runs ``getattr(HistoryBuffer, name)``."""

    def __init__(self, name):
        self.name = name

    def __reduce__(self):
        from mmengine.logging import HistoryBuffer
        return getattr, (HistoryBuffer, self.name)


class FunctionStateInjector:
    """Unpickling this gets ``HistoryBuffer.mean`` through the allowed
    ``getattr`` and then BUILDs ``state`` into that function."""

    def __init__(self, state):
        self.state = state

    def __reduce__(self):
        from mmengine.logging import HistoryBuffer
        return getattr, (HistoryBuffer, 'mean'), self.state


@pytest.fixture(params=['torch_safe_globals', 'restricted_unpickler'])
def load_path(request, monkeypatch):
    """Load through torch's ``safe_globals`` (torch >= 2.5) or through the
    restricted unpickler (torch < 2.5, forced here on any torch)."""
    from mgpose_mm.engine import torch_compat
    native = torch_compat.HAS_SAFE_GLOBALS
    if request.param == 'torch_safe_globals' and not native:
        pytest.skip(f'torch {torch.__version__} has no '
                    'torch.serialization.safe_globals')
    monkeypatch.setattr(torch_compat, 'HAS_SAFE_GLOBALS',
                        request.param == 'torch_safe_globals')
    return request.param


def tiny_state_dict(seed=0):
    from mmengine.config import Config
    from mmpose.registry import MODELS

    import mgpose_mm  # noqa: F401
    torch.manual_seed(seed)
    return MODELS.build(Config.fromfile(TINY_CONFIG).model).state_dict()


@pytest.fixture(scope='module')
def weights(tmp_path_factory):
    folder = tmp_path_factory.mktemp('weights')
    state_dict = tiny_state_dict()
    torch.save({'state_dict': state_dict}, folder / 'tiny.pth')
    return folder, state_dict


def save_malicious(path, marker):
    torch.save(
        {
            'state_dict': tiny_state_dict(),
            'meta': {
                'note': FileCreator(marker)
            }
        }, path)
    assert not osp.exists(marker)
    return str(path)


def test_checkpoint_that_would_create_a_file_is_refused(tmp_path, load_path):
    from mgpose_mm.apis import init_video_pose_model
    from mgpose_mm.errors import UntrustedCheckpointError
    marker = tmp_path / 'created_by_unpickling'
    path = save_malicious(tmp_path / 'evil.pth', marker)
    with pytest.raises(UntrustedCheckpointError) as info:
        init_video_pose_model(TINY_CONFIG, path)
    message = str(info.value)
    assert '\n' not in message
    assert path in message and 'io.open' in message
    assert '--trust-checkpoint' in message
    assert not marker.exists()
    # also through MMEngine's own entry point (Runner.load_checkpoint,
    # Pretrained init_cfg)
    from mmengine.runner import load_checkpoint
    with pytest.raises(UntrustedCheckpointError):
        load_checkpoint(nn.Linear(1, 1), path)
    assert not marker.exists()


def test_opt_in_unpickles_with_a_warning(tmp_path, monkeypatch):
    import logging

    from mgpose_mm.apis import init_video_pose_model
    from mgpose_mm.engine import checkpoints_trusted, safe_checkpoint_io
    marker = tmp_path / 'created_by_unpickling'
    path = save_malicious(tmp_path / 'evil.pth', marker)
    warnings = []
    monkeypatch.setattr(
        safe_checkpoint_io,
        'print_log',
        lambda msg, logger=None, level=0: warnings.append(msg)
        if level == logging.WARNING else None)
    model = init_video_pose_model(TINY_CONFIG, path, trust_checkpoint=True)
    assert marker.exists()  # the opt-in did run the file's code, as asked
    assert len(warnings) == 2 and '--trust-checkpoint' in warnings[0]
    assert 'fully unpickling' in warnings[1] and 'io.open' in warnings[1]
    assert not checkpoints_trusted()  # the opt-in ends with the call
    torch.testing.assert_close(model.state_dict()['backbone.frame_embed'],
                               tiny_state_dict()['backbone.frame_embed'])


def test_getattr_is_allowed_only_for_history_buffer_statistics(
        tmp_path, load_path):
    from mgpose_mm.engine import safe_torch_load
    from mgpose_mm.errors import UntrustedCheckpointError
    torch.save({'ok': HistoryBufferAttribute('mean')}, tmp_path / 'ok.pth')
    from mmengine.logging import HistoryBuffer
    assert safe_torch_load(str(
        tmp_path / 'ok.pth'))['ok'] is HistoryBuffer.mean
    torch.save({'bad': HistoryBufferAttribute('update')}, tmp_path / 'bad.pth')
    with pytest.raises(UntrustedCheckpointError, match='bad.pth'):
        safe_torch_load(str(tmp_path / 'bad.pth'))


def test_state_built_into_a_function_is_refused(tmp_path, load_path):
    from mmengine.logging import HistoryBuffer

    from mgpose_mm.engine import safe_torch_load
    from mgpose_mm.errors import UntrustedCheckpointError
    path = str(tmp_path / 'build.pth')
    torch.save({'x': FunctionStateInjector({'injected': 1})}, path)
    with pytest.raises(UntrustedCheckpointError) as info:
        safe_torch_load(path)
    assert 'build.pth' in str(info.value) and '--trust-checkpoint' in str(
        info.value)
    assert not hasattr(HistoryBuffer.mean, 'injected')


def test_legacy_format_checkpoints(tmp_path, load_path):
    """``torch.save(..., _use_new_zipfile_serialization=False)`` files."""
    from mgpose_mm.engine import safe_torch_load
    from mgpose_mm.errors import UntrustedCheckpointError
    good = str(tmp_path / 'legacy.pth')
    weights = {'w': torch.arange(6.).reshape(2, 3)}
    torch.save(weights, good, _use_new_zipfile_serialization=False)
    torch.testing.assert_close(safe_torch_load(good)['w'], weights['w'])
    marker = tmp_path / 'created_by_unpickling'
    evil = str(tmp_path / 'legacy_evil.pth')
    torch.save({'note': FileCreator(marker)},
               evil,
               _use_new_zipfile_serialization=False)
    with pytest.raises(UntrustedCheckpointError, match='legacy_evil.pth'):
        safe_torch_load(evil)
    assert not marker.exists()


def test_not_a_checkpoint_is_a_clear_error(tmp_path, load_path):
    from mgpose_mm.engine import safe_torch_load
    from mgpose_mm.errors import InputFileError
    (tmp_path / 'notes.pth').write_text('not a checkpoint')
    with pytest.raises(InputFileError, match='notes.pth'):
        safe_torch_load(str(tmp_path / 'notes.pth'))
    with open(tmp_path / 'truncated.pth', 'wb') as f:
        f.write(open(_save_tensor(tmp_path), 'rb').read()[:200])
    with pytest.raises(InputFileError, match='truncated.pth'):
        safe_torch_load(str(tmp_path / 'truncated.pth'))


def _save_tensor(tmp_path):
    path = str(tmp_path / 'tensor.pth')
    torch.save({'w': torch.arange(1000.)}, path)
    return path


# ------------------------------------------------------------ MMEngine types
# NumPy types a dataset_meta may hold: every numeric dtype, a scalar
_NUMPY_DTYPES = ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16',
                 'uint32', 'uint64', 'float16', 'float32', 'float64',
                 'complex64', 'complex128')


class _ToyDataset(torch.utils.data.Dataset):
    metainfo = dict(
        sigmas=np.array([0.1, 0.2], np.float32),
        flip_indices=np.array([1, 0]),
        dataset_name='toy',
        arrays={name: np.zeros(2, name)
                for name in _NUMPY_DTYPES},
        scale=np.float32(0.5))

    def __len__(self):
        return 8

    def __getitem__(self, index):
        gen = torch.Generator().manual_seed(index)
        return dict(
            inputs=torch.randn(4, generator=gen),
            target=torch.randn(1, generator=gen))


def _toy_model():
    from mmengine.model import BaseModel

    class Toy(BaseModel):

        def __init__(self):
            super().__init__()
            self.linear, self.norm = nn.Linear(4, 1), nn.LayerNorm(1)

        def forward(self, inputs, target, mode='loss'):
            return dict(
                loss=((self.norm(self.linear(inputs)) - target)**2).mean())

    return Toy()


def _toy_runner(work_dir, max_epochs, **kwargs):
    from mmengine.runner import Runner
    return Runner(
        model=_toy_model(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=_ToyDataset(),
            batch_size=4,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(
            optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.1),
            clip_grad=dict(max_norm=1.0)),
        param_scheduler=[
            dict(
                type='LinearLR',
                begin=0,
                end=2,
                by_epoch=False,
                start_factor=0.1),
            dict(
                type='MultiStepLR',
                begin=0,
                end=max_epochs,
                milestones=[1],
                by_epoch=True),
            dict(
                type='CosineAnnealingLR',
                begin=0,
                end=max_epochs,
                T_max=max_epochs,
                by_epoch=True)
        ],
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        randomness=dict(seed=0),
        default_scope='mmpose',
        **kwargs)


@pytest.fixture(scope='module')
def runner_checkpoint(tmp_path_factory):
    """A checkpoint written by MMEngine's Runner (CheckpointHook): model, AdamW
    state, the three scheduler kinds of the configs, message hub, dataset_meta
    with NumPy arrays."""
    work_dir = tmp_path_factory.mktemp('runner')
    _toy_runner(work_dir, max_epochs=2).train()
    return str(work_dir / 'epoch_2.pth')


def _data_pkl(path):
    with zipfile.ZipFile(path) as archive:
        name, = [n for n in archive.namelist() if n.endswith('/data.pkl')]
        return archive.read(name)


def _needed_globals(data):
    """What a weights-only load of the pickle ``data`` needs beyond torch's
    defaults: the globals it names and the types it BUILDs state into (torch
    >= 2.5 checks both).

    The pickle is our own test checkpoint, unpickled with a recording
    unpickler.
    """
    from mgpose_mm.engine import mmengine_checkpoint_globals
    from mgpose_mm.engine.torch_compat import (global_name, python3_name,
                                               torch_default_globals)
    defaults = torch_default_globals()
    resolve = dict(defaults)
    for item in mmengine_checkpoint_globals():
        resolve[global_name(item)] = item[0] if isinstance(item,
                                                           tuple) else item
    needed = set()

    class Recorder(pickle._Unpickler):
        dispatch = dict(pickle._Unpickler.dispatch)

        def find_class(self, module, name):
            qualified = python3_name(module, name)
            needed.add(qualified)
            if qualified.startswith('torch.'):  # no tensor data is read
                return lambda *args, **kwargs: None
            return resolve[qualified]

        def persistent_load(self, pid):
            return None

        def load_build(self):
            if self.stack[-2] is not None:  # [..., target, state]
                needed.add(global_name(type(self.stack[-2])))
            pickle._Unpickler.load_build(self)

        dispatch[pickle.BUILD[0]] = load_build

    Recorder(io.BytesIO(data)).load()
    return needed - set(defaults)


def test_mmengine_checkpoint_needs_exactly_the_allow_list(runner_checkpoint):
    """The allow-list is what a Runner checkpoint needs, saved under NumPy 1.x
    (``numpy.core`` names) or NumPy 2 (``numpy._core``), nothing more."""
    from mgpose_mm.engine import mmengine_checkpoint_globals
    from mgpose_mm.engine.torch_compat import (allowed_global_names,
                                               unsafe_globals_in_checkpoint)
    data = _data_pkl(runner_checkpoint)
    numpy1, numpy2 = b'cnumpy.core.multiarray\n', b'cnumpy._core.multiarray\n'
    if numpy2 in data:
        other_numpy = data.replace(numpy2, numpy1)
    else:
        other_numpy = data.replace(numpy1, numpy2)
    assert other_numpy != data
    needed = _needed_globals(data) | _needed_globals(other_numpy)
    allowed = allowed_global_names(mmengine_checkpoint_globals())
    assert len(allowed) == len(set(allowed))
    assert needed == set(allowed)
    # this torch's own listing agrees on the globals of the file
    globals_ = set(unsafe_globals_in_checkpoint(runner_checkpoint))
    assert globals_ == {
        name
        for name in _needed_globals(data) if 'numpy.dtypes.' not in name
    }
    # what torch alone refuses (the reason for the allow-list)
    assert {
        'mmengine.logging.history_buffer.HistoryBuffer', 'builtins.getattr',
        'numpy.ndarray', 'numpy.dtype'
    } <= globals_
    with pytest.raises(pickle.UnpicklingError):
        torch.load(runner_checkpoint, weights_only=True)


def test_mmengine_checkpoint_loads_safely_and_completely(
        runner_checkpoint, load_path):
    from mmengine.runner.checkpoint import CheckpointLoader
    safe = CheckpointLoader.load_checkpoint(
        runner_checkpoint, map_location='cpu')
    full = torch.load(
        runner_checkpoint, map_location='cpu', weights_only=False)
    assert sorted(safe) == [
        'message_hub', 'meta', 'optimizer', 'param_schedulers', 'state_dict'
    ]
    np.testing.assert_array_equal(safe['meta']['dataset_meta']['sigmas'],
                                  np.array([0.1, 0.2], np.float32))
    history = safe['message_hub']['log_scalars']['train/lr']
    assert history.current(
    ) == full['message_hub']['log_scalars']['train/lr'].current()
    assert history.mean(2) == pytest.approx(
        full['message_hub']['log_scalars']['train/lr'].mean(2))
    assert safe['param_schedulers'] == full['param_schedulers']
    assert safe['optimizer']['param_groups'] == full['optimizer'][
        'param_groups']
    for key, value in full['state_dict'].items():
        torch.testing.assert_close(safe['state_dict'][key], value)


def test_pretrained_init_from_a_runner_checkpoint_without_opt_in(
        runner_checkpoint, load_path):
    from mmengine.model.weight_init import PretrainedInit
    full = torch.load(
        runner_checkpoint, map_location='cpu',
        weights_only=False)['state_dict']
    linear = nn.Linear(4, 1)
    PretrainedInit(checkpoint=runner_checkpoint, prefix='linear.')(linear)
    torch.testing.assert_close(
        linear.weight, full['linear.weight'], rtol=0, atol=0)
    torch.testing.assert_close(
        linear.bias, full['linear.bias'], rtol=0, atol=0)


def test_runner_resumes_without_opt_in(runner_checkpoint, tmp_path, load_path):
    runner = _toy_runner(
        tmp_path, max_epochs=3, resume=True, load_from=runner_checkpoint)
    runner.train()
    # 2 iterations per epoch, 2 epochs resumed
    assert runner.epoch == 3 and runner.iter == 6
    history = runner.message_hub.get_scalar('train/lr')
    assert len(history.data[0]) == 6  # the resumed lr history plus this epoch


@pytest.fixture()
def toy_malicious(tmp_path):
    """``(path, marker)``: a Runner-style checkpoint of the toy model whose
    unpickling would create ``marker``."""
    marker = tmp_path / 'created_by_unpickling'
    path = tmp_path / 'toy_evil.pth'
    torch.save(
        {
            'state_dict': _toy_model().state_dict(),
            'meta': {
                'note': FileCreator(marker)
            }
        }, path)
    return str(path), marker


def _assert_refused(info, name, marker):
    message = str(info.value)
    assert '\n' not in message and name in message
    assert 'io.open' in message and '--trust-checkpoint' in message
    assert not marker.exists()


@pytest.mark.parametrize('resume', [False, True], ids=['load_from', 'resume'])
def test_runner_refuses_code_through_load_from_and_resume(
        toy_malicious, tmp_path, load_path, resume):
    from mgpose_mm.errors import UntrustedCheckpointError
    path, marker = toy_malicious
    runner = _toy_runner(
        tmp_path / 'work', max_epochs=1, load_from=path, resume=resume)
    with pytest.raises(UntrustedCheckpointError) as info:
        runner.train()
    _assert_refused(info, 'toy_evil.pth', marker)


def test_init_cfg_refuses_code(toy_malicious, load_path):
    from mmengine.model.weight_init import PretrainedInit

    from mgpose_mm.errors import UntrustedCheckpointError
    path, marker = toy_malicious
    with pytest.raises(UntrustedCheckpointError) as info:
        PretrainedInit(checkpoint=path, prefix='linear.')(nn.Linear(4, 1))
    _assert_refused(info, 'toy_evil.pth', marker)


def test_onnx_exporter_refuses_code(tmp_path, load_path):
    from mgpose_mm.deployment import load_pose_model
    from mgpose_mm.errors import UntrustedCheckpointError
    marker = tmp_path / 'created_by_unpickling'
    path = save_malicious(tmp_path / 'evil.pth', marker)
    with pytest.raises(UntrustedCheckpointError) as info:
        load_pose_model(TINY_CONFIG, path)
    _assert_refused(info, 'evil.pth', marker)


def test_onnx_export_cli_refuses_code_in_one_line(tmp_path):
    marker = tmp_path / 'created_by_unpickling'
    path = save_malicious(tmp_path / 'evil.pth', marker)
    proc = subprocess.run([
        sys.executable, 'tools/deployment/pytorch2onnx.py', TINY_CONFIG, path,
        '--output-file',
        str(tmp_path / 'evil.onnx')
    ],
                          cwd=REPO_ROOT,
                          env=dict(os.environ, PYTHONPATH=REPO_ROOT),
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr, \
        proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith('pytorch2onnx.py: error: checkpoint '), last
    assert 'io.open' in last and '--trust-checkpoint' in last
    assert not marker.exists() and not (tmp_path / 'evil.onnx').exists()


# ------------------------------------------------------------------- http(s)
# (the http_server fixture is in conftest.py)
def test_http_checkpoints_load_safely(http_server, tmp_path, monkeypatch,
                                      weights):
    from mgpose_mm.apis import init_video_pose_model
    from mgpose_mm.errors import InputFileError, UntrustedCheckpointError
    folder, base_url = http_server
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    os.link(weights[0] / 'tiny.pth', folder / 'tiny.pth')
    model = init_video_pose_model(TINY_CONFIG, f'{base_url}/tiny.pth')
    for key, value in weights[1].items():
        torch.testing.assert_close(model.state_dict()[key], value)
    assert osp.isfile(tmp_path / 'torch_home' / 'hub' / 'checkpoints' /
                      'tiny.pth')

    marker = tmp_path / 'created_by_unpickling'
    save_malicious(folder / 'evil.pth', marker)
    with pytest.raises(
            UntrustedCheckpointError,
            match=r'http://127\.0\.0\.1:\d+/evil\.pth'):
        init_video_pose_model(TINY_CONFIG, f'{base_url}/evil.pth')
    assert not marker.exists()
    with pytest.raises(InputFileError, match='cannot download checkpoint'):
        init_video_pose_model(TINY_CONFIG, f'{base_url}/absent.pth')


def test_demo_with_http_checkpoint(http_server, tmp_path, monkeypatch,
                                   weights):
    from test_apis import figure_detections, figure_frames, write_video
    folder, base_url = http_server
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    os.link(weights[0] / 'tiny.pth', folder / 'tiny_demo.pth')
    frames, boxes = figure_frames(num_frames=3)
    video = str(tmp_path / '000007_clip.mp4')
    write_video(video, frames)
    dets = figure_detections(boxes)
    det_file = tmp_path / 'dets.json'
    det_file.write_text(json.dumps(dets))
    demo = runpy.run_path(
        osp.join(REPO_ROOT, 'demo', 'inferencer_demo.py'),
        run_name='inferencer_demo')
    out = str(tmp_path / 'out')
    latency = demo['main']([
        video, '--pose2d', TINY_CONFIG, '--pose2d-weights',
        f'{base_url}/tiny_demo.pth', '--det-results',
        str(det_file), '--pred-out-dir', out, '--device', 'cpu'
    ])
    written = json.load(open(osp.join(out, '000007_clip.json')))
    assert latency.count == 3 and [len(e['instances'])
                                   for e in written] == [2, 2, 2]
    assert osp.isfile(tmp_path / 'torch_home' / 'hub' / 'checkpoints' /
                      'tiny_demo.pth')


# ---------------------------------------------------------- MMEngine schemes
def _fake_pavi(folder):
    """A ``pavi`` package whose ``modelcloud.get(path)`` serves ``folder``."""

    class Model:

        def __init__(self, path):
            self.name = osp.basename(path)

        def download(self, destination):
            shutil.copyfile(folder / self.name, destination)

    pavi = types.ModuleType('pavi')
    pavi.modelcloud = types.SimpleNamespace(get=Model)
    return {'pavi': pavi}


def _fake_petrel_client(folder):
    """A ``petrel_client`` package whose client reads ``folder``."""

    class Client:

        def __init__(self, conf_path=None, enable_mc=True):
            pass

        def Get(self, filepath):
            return (folder / osp.basename(filepath)).read_bytes()

    package = types.ModuleType('petrel_client')
    package.client = types.ModuleType('petrel_client.client')
    package.client.Client = Client
    return {'petrel_client': package, 'petrel_client.client': package.client}


def _scheme_url(scheme, name, folder, base_url, tmp_path, monkeypatch):
    """Make ``folder / name`` reachable through ``scheme``; return its URL."""
    from mmengine.runner import checkpoint as mmengine_checkpoint
    if scheme == 'pavi':
        for module, fake in _fake_pavi(folder).items():
            monkeypatch.setitem(sys.modules, module, fake)
        return f'pavi://project/{name}'
    if scheme in ('s3', 'petrel'):
        for module, fake in _fake_petrel_client(folder).items():
            monkeypatch.setitem(sys.modules, module, fake)
        return f'{scheme}://bucket/{name}'
    if scheme in ('open-mmlab', 'openmmlab'):
        # MMEngine's model list in $MMENGINE_HOME: a local file and a URL
        home = tmp_path / 'mmengine_home'
        (home / 'checkpoints').mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / name, home / 'checkpoints' / name)
        (home / 'open_mmlab.json').write_text(
            json.dumps({
                'local_model': f'checkpoints/{name}',
                'url_model': f'{base_url}/{name}'
            }))
        monkeypatch.setenv('MMENGINE_HOME', str(home))
        model = 'local_model' if scheme == 'open-mmlab' else 'url_model'
        return f'{scheme}://{model}'
    # torchvision://, modelzoo:// and mmcls:// name models of fixed URLs
    getter = ('get_mmcls_models'
              if scheme == 'mmcls' else 'get_torchvision_models')
    monkeypatch.setattr(mmengine_checkpoint, getter,
                        lambda: {'model': f'{base_url}/{name}'})
    return f'{scheme}://model'


SCHEMES = ('pavi', 's3', 'petrel', 'open-mmlab', 'openmmlab', 'torchvision',
           'modelzoo', 'mmcls')


@pytest.mark.parametrize('scheme', SCHEMES)
def test_every_mmengine_scheme_loads_safely(scheme, http_server, tmp_path,
                                            monkeypatch, load_path):
    from mmengine.runner.checkpoint import CheckpointLoader

    from mgpose_mm.errors import UntrustedCheckpointError
    folder, base_url = http_server
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    weight = torch.arange(4.)
    torch.save({'state_dict': {'backbone.w': weight}}, folder / 'good.pth')
    url = _scheme_url(scheme, 'good.pth', folder, base_url, tmp_path,
                      monkeypatch)
    loaded = CheckpointLoader.load_checkpoint(url, map_location='cpu')
    key = 'w' if scheme == 'mmcls' else 'backbone.w'  # mmcls: backbone only
    torch.testing.assert_close(loaded['state_dict'][key], weight)

    marker = tmp_path / 'created_by_unpickling'
    save_malicious(folder / 'evil.pth', marker)
    url = _scheme_url(scheme, 'evil.pth', folder, base_url, tmp_path,
                      monkeypatch)
    with pytest.raises(UntrustedCheckpointError) as info:
        CheckpointLoader.load_checkpoint(url, map_location='cpu')
    _assert_refused(info, 'evil.pth', marker)


def test_every_registered_scheme_is_a_safe_loader():
    """Catches a scheme that a newer MMEngine adds and this package does not
    cover yet."""
    from mmengine.runner.checkpoint import CheckpointLoader

    from mgpose_mm.engine import safe_checkpoint_io
    safe = {loader for _, loader, _ in safe_checkpoint_io.CHECKPOINT_SCHEMES}
    for prefix, loader in CheckpointLoader._schemes.items():
        assert loader in safe, f'{prefix!r} is loaded by {loader}'


def test_mmengine_loaders_can_be_restored_and_reinstalled(tmp_path):
    from mmengine.runner import checkpoint as mmengine_checkpoint
    from mmengine.runner.checkpoint import CheckpointLoader

    from mgpose_mm.engine import (install_safe_checkpoint_io,
                                  load_from_safe_local,
                                  restore_mmengine_checkpoint_loaders)
    path = str(tmp_path / 'x.pth')
    try:
        restore_mmengine_checkpoint_loaders()
        assert CheckpointLoader._get_checkpoint_loader(
            path) is mmengine_checkpoint.load_from_local
        assert CheckpointLoader._get_checkpoint_loader(
            'https://host/x.pth') is mmengine_checkpoint.load_from_http
    finally:
        install_safe_checkpoint_io()
    assert CheckpointLoader._get_checkpoint_loader(
        path) is load_from_safe_local


def test_import_leaves_the_local_file_backend_alone(tmp_path):
    """Other codebases keep MMEngine's local backend; this package's configs
    select the atomic one for their checkpoints."""
    from mmengine.config import Config
    from mmengine.fileio import LocalBackend, get_file_backend
    from mmengine.registry import HOOKS

    import mgpose_mm  # noqa: F401
    from mgpose_mm.engine import AtomicLocalBackend
    assert type(get_file_backend(str(tmp_path))) is LocalBackend
    hook = HOOKS.build(Config.fromfile(TINY_CONFIG).default_hooks.checkpoint)
    backend = get_file_backend(str(tmp_path), backend_args=hook.backend_args)
    assert isinstance(backend, AtomicLocalBackend)
