"""What a new user touches first: own boxes (--bboxes), detector names,
demo/inferencer_demo.py's errors and --help, quiet runs with a fixed seed, and
docs tables that match the code."""
import json
import os
import os.path as osp
import re
import runpy
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO_ROOT, TINY_CONFIG, load_tool

RTMDET = 'rtmdet_tiny_8xb32-300e_coco'
RTMDET_WEIGHTS = 'rtmdet_tiny_8xb32-300e_coco_20220902_112414-78e30dcc.pth'


def write_json(path, data):
    with open(path, 'w') as f:
        json.dump(data, f) if not isinstance(data, str) else f.write(data)
    return str(path)


# ------------------------------------------------------------------------------
# --bboxes FILE
def test_boxes_file_gives_each_frame_its_boxes(tmp_path):
    from mgpose_mm.apis import GivenBoxes
    path = write_json(
        tmp_path / 'boxes.json', {
            '0': [[10, 20, 50, 90, 0.8], [60, 5, 100, 70]],
            '2': [[1.5, 2, 3, 4, 0.1]],
            '3': []
        })
    source = GivenBoxes(path)
    frame = np.zeros((100, 120, 3), np.uint8)
    bboxes, scores = source(0, frame)
    np.testing.assert_allclose(bboxes, [[10, 20, 50, 90], [60, 5, 100, 70]])
    np.testing.assert_allclose(scores,
                               [0.8, 1.0])  # a 4-number box has score 1
    assert source(1, frame)[0].shape == (0, 4) and source(
        3, frame)[0].shape == (0, 4)
    np.testing.assert_allclose(source(2, frame)[1],
                               [0.1])  # no threshold: used as given
    source.finish(4)
    with pytest.raises(
            ValueError,
            match='boxes for frame 3 but the input has only 3 frames'):
        source.finish(3)


def test_boxes_file_as_list_is_indexed_by_position(tmp_path):
    from mgpose_mm.apis import GivenBoxes
    boxes = GivenBoxes(
        write_json(tmp_path / 'b.json', [[], [[0, 0, 5, 5, 0.5]]])).by_frame
    assert sorted(boxes) == [0, 1] and boxes[0][0].shape == (0, 4)
    np.testing.assert_allclose(boxes[1][0], [[0, 0, 5, 5]])


@pytest.mark.parametrize('content,message', [
    ('{"0": [[1, 2, 3]', 'is not valid JSON'),
    ('"boxes"', 'expected a JSON object'),
    ('{"first": []}', "frame index 'first' is not a non-negative integer"),
    ('{"-1": []}', "frame index '-1'"),
    ('{"0": [[1, 2, 3, 4]], "00": []}', 'frame 0 is listed twice'),
    ('{"4": {"box": [1, 2, 3, 4]}}', 'frame 4: expected a list of boxes'),
    ('{"1": [[1, 2, 3]]}',
     r'frame 1, box 0: expected \[x1, y1, x2, y2, score\]'),
    ('{"1": [[1, 2, 3, 4], [1, 2, "3", 4]]}', 'frame 1, box 1'),
    ('{"2": [[10, 10, 5, 40, 0.9]]}',
     r'frame 2, box 0: needs x2 > x1 and y2 > y1 .*\[x, y, w, h\]'),
    ('{"2": [[0, 0, NaN, 4]]}', 'must be finite'),
])
def test_boxes_file_errors_name_the_problem(tmp_path, content, message):
    from mgpose_mm.apis import GivenBoxes
    path = write_json(tmp_path / 'bad.json', content)
    with pytest.raises(ValueError, match=message):
        GivenBoxes(path)
    with pytest.raises(FileNotFoundError, match='boxes file not found'):
        GivenBoxes(str(tmp_path / 'missing.json'))


def write_frames(folder, count=3, size=(64, 48)):
    import cv2
    os.makedirs(folder)
    for index in range(count):
        cv2.imwrite(
            osp.join(folder, f'{index:06d}.jpg'),
            np.full((size[1], size[0], 3), 80, np.uint8))
    return str(folder)


DEMO = osp.join(REPO_ROOT, 'demo', 'inferencer_demo.py')


def demo_main():
    return runpy.run_path(DEMO, run_name='inferencer_demo')['main']


def test_demo_bboxes_beyond_the_video_fails_before_inference(tmp_path):
    frames = write_frames(tmp_path / 'clip')
    boxes = write_json(tmp_path / 'boxes.json', {
        '0': [[1, 1, 20, 30, 0.9]],
        '5': []
    })
    with pytest.raises(
            ValueError,
            match='boxes for frame 5 but the input has only 3 frames'):
        demo_main()([
            frames, '--pose2d', TINY_CONFIG, '--bboxes', boxes,
            '--vis-out-dir',
            str(tmp_path / 'out'), '--device', 'cpu'
        ])
    assert not osp.exists(tmp_path / 'out' / 'clip.mp4')


@pytest.mark.parametrize('value', ['NaN', 'Infinity', '"12"', 'null'])
@pytest.mark.parametrize('option', ['--bboxes', '--det-results'])
def test_demo_refuses_non_finite_boxes_in_one_line(tmp_path, capsys, value,
                                                   option):
    """NaN, infinite or non-numeric values in a boxes file or a detections
    file: one ``prog: error:`` line and a non-zero exit, no traceback."""
    from mgpose_mm.errors import run_cli
    frames = write_frames(tmp_path / 'clip')
    path = write_json(
        tmp_path / 'boxes.json', f'{{"0": [[1, 1, {value}, 30, 0.9]]}}'
        if option == '--bboxes' else '[{"image_id": 10000070000, '
        f'"category_id": 1, "score": 0.9, "bbox": [1, 1, {value}, 30]}}]')
    argv = [frames, '--pose2d', TINY_CONFIG, option, path, '--device', 'cpu']
    with pytest.raises(SystemExit) as exit_info:
        run_cli(lambda: demo_main()(argv), prog='inferencer_demo.py')
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith('inferencer_demo.py: error: ') and (
        'finite' in err[-1]
        or 'expected [x1, y1, x2, y2, score]' in err[-1]), err[-1]
    assert not any('Traceback' in line for line in err)


@pytest.mark.parametrize('extra', [
    ['--bboxes', DEMO, '--det-results', DEMO],
    ['--bboxes', DEMO, '--det-model', RTMDET],
])
def test_demo_takes_boxes_one_way(extra, capsys):
    with pytest.raises(SystemExit):
        demo_main()([DEMO, '--pose2d', TINY_CONFIG, *extra])
    assert 'give the person boxes one way: --det-model, --bboxes or ' \
        '--det-results' in capsys.readouterr().err


def test_demo_help_is_complete_with_defaults():
    proc = subprocess.run([sys.executable, DEMO, '--help'],
                          cwd=REPO_ROOT,
                          capture_output=True,
                          text=True,
                          timeout=120,
                          env=dict(
                              os.environ, PYTHONPATH=REPO_ROOT, COLUMNS='200'))
    assert proc.returncode == 0, proc.stderr
    text = ' '.join(proc.stdout.split())
    for option in ('--det-results FILE', '--det-ann-file FILE', '--bboxes '
                   'FILE', '--stream', '--realtime', '--max-frames'):
        assert option in text
    for option, default in (('--bbox-thr', '0.3'), ('--batch-size', '16'),
                            ('--kpt-thr', '0.3'), ('--track-max-age', '5'),
                            ('--status-interval', '2.0')):
        assert re.search(
            re.escape(option) + r' \S+ .*?\(default: ' + re.escape(default) +
            r'\)', text)


# ------------------------------------------------------------------------
# detectors by name
@pytest.mark.parametrize('name', [
    RTMDET, RTMDET + '.py', 'rtmdet-t',
    'mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py'
])
def test_mmdet_names_resolve_to_packaged_config_and_weights(name):
    from mgpose_mm.apis.models import model_zoo_entry
    config, checkpoint = model_zoo_entry('mmdet', name)
    assert config.replace(
        os.sep, '/').endswith('configs/rtmdet/rtmdet_tiny_8xb32-300e_coco.py')
    assert osp.isfile(config)
    assert checkpoint == (
        'https://download.openmmlab.com/mmdetection/v3.0/rtmdet/'
        f'rtmdet_tiny_8xb32-300e_coco/{RTMDET_WEIGHTS}')


def test_mmdet_bad_names_and_weights(tmp_path):
    from mgpose_mm.apis import MMDetBoxes
    from mgpose_mm.apis.models import model_zoo_entry
    with pytest.raises(
            FileNotFoundError,
            match=f'not a file nor a model-zoo name of mmdet; close names: '
            f'{RTMDET}'):
        model_zoo_entry('mmdet', 'rtmdet_tiny_8xb32-300e_coc')
    with pytest.raises(
            FileNotFoundError, match='not a file nor a model-zoo name'):
        MMDetBoxes('zzz_no_such_detector')
    with pytest.raises(
            FileNotFoundError,
            match=re.escape(f'{RTMDET_WEIGHTS} (no such file)')):
        MMDetBoxes(RTMDET, str(tmp_path / RTMDET_WEIGHTS))
    with pytest.raises(FileNotFoundError, match='a folder, not a file'):
        MMDetBoxes(RTMDET, str(tmp_path))


# ---------------------------------------------------------------------------
# quiet, honest output
def test_console_filter_keeps_file_only_records_off_the_screen(
        tmp_path, capsys):
    from mmengine.logging import MMLogger

    from mgpose_mm.engine.quiet_runner import quiet_console
    log_file = tmp_path / 'run.log'
    logger = MMLogger.get_instance(
        'quiet_test', log_file=str(log_file), log_level='INFO')
    quiet_console(logger)
    logger.info('environment dump', extra=dict(file_only=True))
    logger.info('Hooks will be executed in the following order: ...')
    logger.info('Epoch(train) [1][1/1]')
    for handler in logger.handlers:
        handler.flush()
    screen = capsys.readouterr().out
    assert 'Epoch(train)' in screen
    assert 'environment dump' not in screen
    assert 'Hooks will be executed' not in screen
    text = log_file.read_text()
    assert 'environment dump' in text and 'Hooks will be executed' in text
    assert 'Epoch(train)' in text


def test_dataset_metainfo_points_at_an_existing_file():
    from mgpose_mm.datasets import PoseTrackVideoDataset
    path = PoseTrackVideoDataset.METAINFO['from_file']
    assert osp.isfile(path) and path.endswith(
        osp.join('_base_', 'datasets', 'posetrack18.py'))


def test_checks_that_did_not_run_read_n_a():
    markdown_table = load_tool('benchmark_report').markdown_table
    runner_counts = load_tool('benchmark_runner').runner_counts
    sys.path.insert(0, osp.join(REPO_ROOT, 'tools', 'misc'))
    from print_posetrack_table import posetrack_table
    table = posetrack_table({
        'posetrack/Total AP': 50.0,
        'posetrack/hard/Total AP': float('nan'),
        'posetrack/hard/Head AP': float('nan')
    })
    assert 'nan' not in table and table.splitlines()[-1].count('n/a') == 8
    assert markdown_table([dict(a=None, b=1.5)],
                          ('a', 'b')).splitlines()[-1] == '| n/a | 1.50 |'
    runners = {
        'ftp_eps0|pytorch': 0,
        'ftp_dpc_eps0.5|pytorch': 0,
        'ftp_dpc_eps0.5|pruner': 0,
        'vitpose|pytorch': 0,
        'ftp_dpc_eps0.5|onnxruntime': 0
    }
    assert runner_counts(
        runners) == '3 variants + 1 token pruner(s) alone + 1 ONNX session(s)'


# ------------------------------------------------------------------------ docs
# tables match code
def test_benchmark_option_table_matches_the_parser():
    proc = subprocess.run(
        [sys.executable, 'tools/analysis_tools/benchmark.py', '--help'],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, PYTHONPATH=REPO_ROOT))
    options = set(re.findall(r'(?<![\w-])(--[a-z][a-z-]+)',
                             proc.stdout)) - {'--help'}
    with open(osp.join(REPO_ROOT, 'docs', 'benchmark.md')) as f:
        rows = [line for line in f if line.startswith('| `--')]
    documented = {}
    for row in rows:
        cell = row.split('|')[1]
        for option, choices in re.findall(
                r'`(--[a-z-]+)(?: \{([a-z0-9,]+)\}| [A-Z][^`]*)?`', cell):
            documented[option] = choices
    assert set(documented) == options
    for option, choices in documented.items():
        if choices:
            assert re.search(
                re.escape(option) + r' \{' + re.escape(choices) + r'\}',
                proc.stdout)
    for flag in ('--memory', '--train-memory'):  # take values
        assert documented[flag]


def test_model_zoo_selector_column_matches_the_configs():
    from mmengine.config import Config
    with open(osp.join(REPO_ROOT, 'configs', 'ftp_pose', 'README.md')) as f:
        text = f.read()
    table = text[text.index('| Config | Frames | epsilon | Selector |'
                            ):].split('\n\n')[0]
    rows = [
        line for line in table.splitlines() if line.startswith('| [ftp-pose')
    ]
    assert len(rows) >= 10
    for row in rows:
        cells = [c.strip() for c in row.strip().strip('|').split('|')]
        path = re.search(r'\(/(configs/[^)]+\.py)\)', cells[0]).group(1)
        pruner = Config.fromfile(osp.join(REPO_ROOT,
                                          path)).model.backbone.pruner
        assert cells[3] == pruner.selector, path
        assert float(cells[2]) == pruner.prune_ratio, path


# -----------------------------------------------------------------------------
# reproducible runs
def test_two_runs_of_the_seeded_config_give_identical_weights(tmp_path):
    """The tiny config fixes its seed: two CPU trainings (1 epoch) give the
    same checkpoint, a run with another seed does not."""
    import torch

    from mgpose_mm.synthetic import generate_posetrack_dataset
    root = str(tmp_path / 'data') + '/'
    generate_posetrack_dataset(
        root,
        num_train_videos=2,
        num_val_videos=1,
        frames_per_video=6,
        image_size=(160, 128),
        persons_per_video=(1, 2),
        seed=3)
    options = [
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        f'train_dataloader.dataset.data_root={root}', 'train_cfg.max_epochs=1',
        'train_dataloader.batch_size=4', 'param_scheduler.1.end=1',
        'param_scheduler.1.T_max=1'
    ]
    weights = []
    for run, seed_options in (('a', []), ('b', []), ('other_seed',
                                                     ['randomness.seed=1'])):
        work_dir = tmp_path / run
        proc = subprocess.run([
            sys.executable, 'tools/train.py', TINY_CONFIG, '--no-validate',
            '--work-dir',
            str(work_dir), '--cfg-options', *options, *seed_options
        ],
                              cwd=REPO_ROOT,
                              capture_output=True,
                              text=True,
                              timeout=600,
                              env=dict(
                                  os.environ,
                                  OMP_NUM_THREADS='1',
                                  PYTHONPATH=REPO_ROOT))
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        state = torch.load(
            work_dir / 'epoch_1.pth', map_location='cpu', weights_only=False)
        weights.append(state['state_dict'])
    assert weights[0].keys() == weights[1].keys()
    for key, value in weights[0].items():
        assert torch.equal(value, weights[1][key]), key
    assert not all(
        torch.equal(v, weights[2][k])
        for k, v in weights[0].items())  # the seed matters
