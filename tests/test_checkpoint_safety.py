"""Checkpoint loading never runs code unasked; MMEngine's own checkpoints load
without opt-in."""
import builtins
import json
import os
import os.path as osp
import pickle
import runpy

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


def test_checkpoint_that_would_create_a_file_is_refused(tmp_path):
    from mgpose_mm.apis import init_video_pose_model
    from mgpose_mm.errors import UntrustedCheckpointError
    marker = tmp_path / 'created_by_unpickling'
    path = save_malicious(tmp_path / 'evil.pth', marker)
    with pytest.raises(UntrustedCheckpointError) as info:
        init_video_pose_model(TINY_CONFIG, path)
    message = str(info.value)
    assert '\n' not in message
    assert path in message and 'io.open' in message and '--trust-checkpoint' in message
    assert not marker.exists()
    # also through MMEngine's own entry point (Runner.load_checkpoint, Pretrained init_cfg)
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


def test_getattr_is_allowed_only_for_history_buffer_statistics(tmp_path):
    from mgpose_mm.engine import safe_torch_load
    from mgpose_mm.errors import UntrustedCheckpointError
    torch.save({'ok': HistoryBufferAttribute('mean')}, tmp_path / 'ok.pth')
    from mmengine.logging import HistoryBuffer
    assert safe_torch_load(str(
        tmp_path / 'ok.pth'))['ok'] is HistoryBuffer.mean
    torch.save({'bad': HistoryBufferAttribute('update')}, tmp_path / 'bad.pth')
    with pytest.raises(UntrustedCheckpointError, match='bad.pth'):
        safe_torch_load(str(tmp_path / 'bad.pth'))


def test_not_a_checkpoint_is_a_clear_error(tmp_path):
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


# ----------------------------------------------------------------------------- MMEngine types
class _ToyDataset(torch.utils.data.Dataset):
    metainfo = dict(
        sigmas=np.array([0.1, 0.2], np.float32),
        flip_indices=np.array([1, 0]),
        dataset_name='toy')

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


def test_mmengine_checkpoint_needs_exactly_the_allow_list(runner_checkpoint):
    from mgpose_mm.engine import mmengine_checkpoint_globals
    needed = set(
        torch.serialization.get_unsafe_globals_in_checkpoint(
            runner_checkpoint))
    allowed = set()
    for item in mmengine_checkpoint_globals():
        obj, name = item if isinstance(item, tuple) else (item, None)
        allowed.add(name or f'{obj.__module__}.{obj.__name__}')
    assert needed <= allowed
    # what torch alone refuses (the reason for the allow-list)
    assert {
        'mmengine.logging.history_buffer.HistoryBuffer', 'builtins.getattr',
        'numpy.ndarray', 'numpy.dtype'
    } <= needed
    with pytest.raises(pickle.UnpicklingError):
        torch.load(runner_checkpoint, weights_only=True)


def test_mmengine_checkpoint_loads_safely_and_completely(runner_checkpoint):
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
        runner_checkpoint):
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


def test_runner_resumes_without_opt_in(runner_checkpoint, tmp_path):
    runner = _toy_runner(
        tmp_path, max_epochs=3, resume=True, load_from=runner_checkpoint)
    runner.train()
    assert runner.epoch == 3 and runner.iter == 6  # 2 iterations per epoch, 2 epochs resumed
    history = runner.message_hub.get_scalar('train/lr')
    assert len(history.data[0]) == 6  # the resumed lr history plus this epoch


# ----------------------------------------------------------------------------- http(s)
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
    from test_apis import figure_frames, write_video
    folder, base_url = http_server
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    os.link(weights[0] / 'tiny.pth', folder / 'tiny_demo.pth')
    frames, boxes = figure_frames(num_frames=3)
    video = str(tmp_path / '000007_clip.mp4')
    write_video(video, frames)
    dets = [
        dict(
            image_id=int(f'1000007{t:04d}'),
            category_id=1,
            score=0.95,
            bbox=[
                float(b[0]),
                float(b[1]),
                float(b[2] - b[0]),
                float(b[3] - b[1])
            ]) for t, frame_boxes in enumerate(boxes) for b in frame_boxes
    ]
    det_file = tmp_path / 'dets.json'
    det_file.write_text(json.dumps(dets))
    demo = runpy.run_path(
        osp.join(REPO_ROOT, 'demo', 'video_demo.py'), run_name='video_demo')
    summary = demo['main']([
        TINY_CONFIG, f'{base_url}/tiny_demo.pth', '--input', video,
        '--det-results',
        str(det_file), '--output-root',
        str(tmp_path / 'out'), '--save-predictions', '--device', 'cpu'
    ])
    assert summary['num_frames'] == 3 and summary['num_instances'] == 6
    assert osp.isfile(tmp_path / 'torch_home' / 'hub' / 'checkpoints' /
                      'tiny_demo.pth')
