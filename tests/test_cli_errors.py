"""User mistakes on the command line: one line naming the problem, no
traceback, exit 2."""
import json
import os
import subprocess
import sys

import pytest
import torch
from conftest import REPO_ROOT, TINY_CONFIG
from test_apis import (SINGLE_FRAME_CONFIG, figure_frames,
                       save_tiny_checkpoint, write_video)


def run_demo(inputs, *args):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO_ROOT)
    return subprocess.run([
        sys.executable, 'demo/inferencer_demo.py', inputs, '--pose2d',
        TINY_CONFIG, *args
    ],
                          cwd=REPO_ROOT,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=300)


def assert_one_line_error(proc, *expected):
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert 'Traceback' not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith('inferencer_demo.py: error: ')
    for text in expected:
        assert text in last, last
    return last


def test_run_cli_prints_user_errors_and_keeps_tracebacks_of_bugs(capsys):
    from mgpose_mm.errors import ConfigValueError, run_cli

    def bad_config():
        raise ConfigValueError(
            'model.backbone.key_frame_index=0 but the data\nsays 1')

    with pytest.raises(SystemExit) as info:
        run_cli(bad_config, prog='tool.py')
    assert info.value.code == 2
    assert capsys.readouterr().err == (
        'tool.py: error: model.backbone.key_frame_index=0 but the '
        'data says 1\n')

    def missing():
        raise FileNotFoundError('checkpoint file not found: x.pth')

    with pytest.raises(SystemExit):
        run_cli(missing, prog='tool.py')
    assert capsys.readouterr(
    ).err == 'tool.py: error: checkpoint file not found: x.pth\n'

    def bug():
        return {}['missing key']

    with pytest.raises(KeyError):  # a programming error keeps its traceback
        run_cli(bug, prog='tool.py')


def test_demo_user_errors(tmp_path):
    det_file = tmp_path / 'dets.json'
    det_file.write_text(json.dumps([]))
    out = [
        '--det-results',
        str(det_file), '--vis-out-dir',
        str(tmp_path / 'out'), '--device', 'cpu'
    ]
    corrupt = tmp_path / 'corrupt.mp4'
    corrupt.write_bytes(os.urandom(4096))
    assert_one_line_error(run_demo(str(corrupt), *out), 'corrupt.mp4')
    assert_one_line_error(
        run_demo(str(tmp_path / 'absent.mp4'), *out), 'absent.mp4: no such')
    frames, _ = figure_frames(num_frames=2)
    video = str(tmp_path / 'clip.mp4')
    write_video(video, frames)
    assert_one_line_error(
        run_demo(video, '--pose2d-weights', str(tmp_path / 'absent.pth'),
                 *out), '--pose2d-weights', 'absent.pth: no such file')
    other = save_tiny_checkpoint(
        str(tmp_path / 'single.pth'), SINGLE_FRAME_CONFIG)
    assert_one_line_error(
        run_demo(video, '--pose2d-weights', other, *out),
        'single.pth does not match', 'head.fusion.depthwise_conv.conv.weight')
    assert not os.path.exists(tmp_path / 'out')


def run_tool(tool, *args):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO_ROOT)
    return subprocess.run([sys.executable, f'tools/{tool}', *args],
                          cwd=REPO_ROOT,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=600)


def assert_tool_error(proc, tool, *expected):
    """One ``<tool>: error: ...`` line on stderr, exit 2, no traceback."""
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr, proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f'{tool}: error: '), last
    for text in expected:
        assert text in last, last
    return last


def test_train_tool_pruner_config_value_error_is_one_line(tmp_path):
    # Needs the pruner to raise ConfigValueError (it is built inside the model,
    # while the runner is being built).
    proc = run_tool('train.py', TINY_CONFIG, '--work-dir', str(tmp_path),
                    '--cfg-options', 'model.backbone.pruner.prune_ratio=1.5')
    assert_tool_error(proc, 'train.py', 'prune_ratio', '1.5')


def test_train_tool_dataset_config_value_error_is_one_line(tmp_path):
    # The dataset is built lazily, inside runner.train().
    proc = run_tool('train.py', TINY_CONFIG, '--work-dir', str(tmp_path),
                    '--cfg-options',
                    'train_dataloader.dataset.data_mode=bottomup')
    assert_tool_error(proc, 'train.py', 'data_mode="topdown"', 'bottomup')


def test_test_tool_metric_config_value_errors_are_one_line(
        small_data, tmp_path):
    from test_train_tools import small_run_options

    # The evaluator is built inside runner.test(), before the checkpoint is
    # read, so any existing file does as checkpoint here.
    checkpoint = tmp_path / 'any.pth'
    checkpoint.write_bytes(b'not read')
    options = small_run_options(small_data, tmp_path / 'work', max_epochs=1)
    for option, expected in (
        ('test_evaluator.protocol=posetrack22', 'posetrack22'),
        ('test_evaluator.record_file=records.pkl', 'must end with .npz'),
    ):
        proc = run_tool('test.py', TINY_CONFIG, str(checkpoint), *options,
                        option)
        assert_tool_error(proc, 'test.py', expected)


def test_dataset_tools_print_bad_values_as_one_line(tmp_path):
    proc = run_tool('dataset_converters/make_synthetic_posetrack.py',
                    '--out-dir', str(tmp_path / 'out'), '--persons', '3', '1')
    assert_tool_error(proc, 'make_synthetic_posetrack.py',
                      'persons_per_video must be (min, max)')
    not_posetrack = tmp_path / 'ann' / 'x.json'
    not_posetrack.parent.mkdir()
    not_posetrack.write_text('{"images": []}')
    proc = run_tool('dataset_converters/posetrack17_to_coco.py', '--ann-dir',
                    str(not_posetrack.parent), '--image-root',
                    str(tmp_path), '--split', 'val', '--out-dir',
                    str(tmp_path / 'converted'), '--frames', 'none')
    assert_tool_error(proc, 'posetrack17_to_coco.py',
                      'not a PoseTrack2017 annotation file')


def test_run_cli_keeps_the_error_line_of_a_dataloader_worker(capsys):
    """A transform's error in a DataLoader worker reaches the main process with
    the worker's traceback in its message; one line is printed."""
    from mgpose_mm.datasets.transforms import PackVideoPoseInputs
    from mgpose_mm.errors import ConfigValueError, run_cli

    def failing_worker():
        dataset = [dict(img='one frame, not a clip')]
        loader = torch.utils.data.DataLoader(
            dataset,
            num_workers=1,
            collate_fn=lambda batch: [PackVideoPoseInputs()(r) for r in batch])
        next(iter(loader))

    with pytest.raises(ConfigValueError):
        failing_worker()
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        run_cli(failing_worker, prog='train.py')
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err == ('train.py: error: PackVideoPoseInputs expects '
                   'results["img"] to be the list of clip frames, got str; '
                   'load clips with LoadVideoFrames\n')
