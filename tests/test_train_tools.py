"""tools/train.py and tools/test.py with MMEngine's runner: distributed,
resume, atomic checkpoints."""
import glob
import json
import math
import os
import os.path as osp
import re
import subprocess
import sys
import time

import pytest
from conftest import REPO_ROOT, TINY_CONFIG

NUM_TRAIN_SAMPLES_KEY = 'train_samples'


def small_run_options(data, work_dir, max_epochs, batch_size=4):
    root = data['root']
    detections = f'{root}annotations/posetrack18_val_human_detections.json'
    return [
        '--work-dir',
        str(work_dir),
        '--cfg-options',
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.bbox_file={detections}',
        f'test_dataloader.dataset.bbox_file={detections}',
        f'val_evaluator.ann_file={root}annotations/posetrack18_val.json',
        f'test_evaluator.ann_file={root}annotations/posetrack18_val.json',
        f'train_dataloader.batch_size={batch_size}',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        f'train_cfg.max_epochs={max_epochs}',
        'train_cfg.val_interval=1',
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.checkpoint.save_best=None',
        'param_scheduler.0.end=4',
        f'param_scheduler.1.end={max_epochs}',
        f'param_scheduler.1.T_max={max_epochs}',
        'env_cfg.dist_cfg.backend=gloo',
        'randomness.seed=0',
    ]


def run_tool(args, env_extra=None, timeout=600):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO_ROOT)
    env.update(env_extra or {})
    proc = subprocess.run(
        args,
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def logged_train_steps(work_dir, run=-1):
    """(iteration, lr) of every logged training step of one run (default: the
    latest) in work_dir."""
    runs = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    steps = []
    with open(runs[run]) as f:
        for line in f:
            record = json.loads(line)
            if 'lr' in record and 'loss' in record:
                steps.append((record['iter'], record['lr']))
    return steps


def test_two_process_gloo_training_writes_one_checkpoint(small_data, tmp_path):
    work_dir = tmp_path / 'dist'
    batch_size = 2
    out = run_tool([
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
        '--master_port=29531', 'tools/train.py', TINY_CONFIG, '--launcher',
        'pytorch', *small_run_options(
            small_data, work_dir, max_epochs=1, batch_size=batch_size)
    ])
    assert sorted(os.listdir(work_dir)).count('epoch_1.pth') == 1
    assert not [
        p for p in os.listdir(work_dir) if p.startswith('.epoch_1.pth')
    ], 'temporary file left'
    # each rank takes half of the samples per epoch
    iters = math.ceil(small_data[NUM_TRAIN_SAMPLES_KEY] / (2 * batch_size))
    assert f'Epoch(train) [1][{iters}/{iters}]' in out
    # evaluation gathered from both ranks covers every labelled validation
    # frame
    frames = re.search(r'PoseTrack AP all \((\d+) frames\)', out)
    assert frames and int(frames.group(1)) == small_data['val_frames']


def test_resume_continues_iteration_count_and_lr(small_data, tmp_path):
    """A run killed after its first checkpoint and resumed logs the same (iter,
    lr) as a straight run."""
    straight, interrupted = tmp_path / 'straight', tmp_path / 'interrupted'
    batch_size = 4
    run_tool([
        sys.executable, 'tools/train.py', TINY_CONFIG, *small_run_options(
            small_data, straight, max_epochs=2, batch_size=batch_size)
    ])

    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO_ROOT)
    proc = subprocess.Popen([
        sys.executable, 'tools/train.py', TINY_CONFIG, *small_run_options(
            small_data, interrupted, max_epochs=2, batch_size=batch_size)
    ],
                            cwd=REPO_ROOT,
                            env=env,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    checkpoint = interrupted / 'epoch_1.pth'
    deadline = time.time() + 300
    while not checkpoint.exists(
    ) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    proc.kill()
    proc.wait()
    assert checkpoint.exists()

    out = run_tool([
        sys.executable, 'tools/train.py', TINY_CONFIG, '--resume',
        str(checkpoint), *small_run_options(
            small_data, interrupted, max_epochs=2, batch_size=batch_size)
    ])
    iters_per_epoch = math.ceil(small_data[NUM_TRAIN_SAMPLES_KEY] / batch_size)
    assert f'resumed epoch: 1, iter: {iters_per_epoch}' in out
    resumed = logged_train_steps(interrupted)
    expected = [
        step for step in logged_train_steps(straight)
        if step[0] > iters_per_epoch
    ]
    assert resumed[0][0] == iters_per_epoch + 1
    assert [it for it, _ in resumed] == [it for it, _ in expected]
    for (_, lr_resumed), (_, lr_straight) in zip(resumed, expected):
        assert lr_resumed == pytest.approx(lr_straight, rel=1e-6)


def test_test_tool_reports_posetrack_table_and_rejects_missing_checkpoint(
        small_data, tmp_path):
    work_dir = tmp_path / 'run'
    run_tool([
        sys.executable, 'tools/train.py', TINY_CONFIG,
        *small_run_options(small_data, work_dir, max_epochs=1)
    ])
    out = run_tool([
        sys.executable, 'tools/test.py', TINY_CONFIG,
        str(work_dir / 'epoch_1.pth'), '--out',
        str(tmp_path / 'metrics.json'),
        *small_run_options(small_data, tmp_path / 'test', max_epochs=1)
    ])
    with open(tmp_path / 'metrics.json') as f:
        metrics = json.load(f)
    for joint in ('Head', 'Shoulder', 'Elbow', 'Wrist', 'Hip', 'Knee', 'Ankle',
                  'Total'):
        assert 0 <= metrics[f'posetrack/{joint} AP'] <= 100
    assert 'posetrack/Total AP' in out

    proc = subprocess.run([
        sys.executable, 'tools/test.py', TINY_CONFIG,
        str(tmp_path / 'nope.pth')
    ],
                          cwd=REPO_ROOT,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 2 and 'checkpoint file not found' in proc.stderr
    assert 'Traceback' not in proc.stderr


def run_test_tool_expecting_error(args):
    """Run tools/test.py; return its one-line error (exit 2, no traceback)."""
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO_ROOT)
    proc = subprocess.run([sys.executable, 'tools/test.py', *args],
                          cwd=REPO_ROOT,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr, proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith('test.py: error: '), last
    return last


def test_test_tool_refuses_wrong_untrusted_and_inconsistent_input(
        small_data, tmp_path):
    from test_apis import SINGLE_FRAME_CONFIG, save_tiny_checkpoint
    from test_checkpoint_safety import save_malicious
    options = small_run_options(small_data, tmp_path / 'test', max_epochs=1)
    # a checkpoint of another config: refused (MMEngine alone only logs a
    # warning and evaluates)
    other = save_tiny_checkpoint(
        str(tmp_path / 'single_frame.pth'), SINGLE_FRAME_CONFIG)
    error = run_test_tool_expecting_error([TINY_CONFIG, other, *options])
    assert 'single_frame.pth does not match the model' in error
    assert 'head.fusion.depthwise_conv.conv.weight' in error
    assert '--cfg-options' in error
    # a checkpoint whose unpickling would create a file: refused, the file is
    # not created
    marker = tmp_path / 'created_by_unpickling'
    evil = save_malicious(tmp_path / 'evil.pth', marker)
    error = run_test_tool_expecting_error([TINY_CONFIG, evil, *options])
    assert 'io.open' in error and '--trust-checkpoint' in error
    assert not marker.exists()
    # the model's key frame disagrees with the data's frame_offsets (-1, 0, 1)
    tiny = save_tiny_checkpoint(str(tmp_path / 'tiny.pth'))
    error = run_test_tool_expecting_error(
        [TINY_CONFIG, tiny, *options, 'model.backbone.key_frame_index=0'])
    assert 'key frame at index 1' in error
    assert 'model.backbone.key_frame_index=0' in error


def test_test_tool_loads_http_checkpoint(small_data, tmp_path):
    from conftest import serve_folder
    from test_apis import save_tiny_checkpoint
    www = tmp_path / 'www'
    www.mkdir()
    save_tiny_checkpoint(str(www / 'tiny_http.pth'))
    with serve_folder(www) as base_url:
        out = run_tool([
            sys.executable, 'tools/test.py', TINY_CONFIG,
            f'{base_url}/tiny_http.pth', '--out',
            str(tmp_path / 'metrics.json'),
            *small_run_options(small_data, tmp_path / 'test', max_epochs=1)
        ],
                       env_extra=dict(TORCH_HOME=str(tmp_path / 'torch_home')))
    assert osp.isfile(tmp_path / 'torch_home' / 'hub' / 'checkpoints' /
                      'tiny_http.pth')
    assert 'posetrack/Total AP' in out
    with open(tmp_path / 'metrics.json') as f:
        assert 0 <= json.load(f)['posetrack/Total AP'] <= 100


def test_atomic_checkpoint_write_keeps_previous_file(tmp_path, monkeypatch):
    from mmengine.fileio import get_file_backend

    from mgpose_mm.engine import ATOMIC_LOCAL_BACKEND, AtomicLocalBackend
    target = tmp_path / 'epoch_1.pth'
    # the backend the configs' CheckpointHook selects
    backend = get_file_backend(
        str(target), backend_args=dict(backend=ATOMIC_LOCAL_BACKEND))
    assert isinstance(backend, AtomicLocalBackend)
    backend.put(b'complete checkpoint', str(target))

    def failing_fsync(fd):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'fsync', failing_fsync)
    with pytest.raises(OSError, match='disk full'):
        backend.put(b'half', str(target))
    assert target.read_bytes() == b'complete checkpoint'
    assert os.listdir(tmp_path) == ['epoch_1.pth']
