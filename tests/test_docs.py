"""Every documented command line and Python snippet of README.md and docs/*.md
runs as written.

The commands run in a workspace (a temporary folder with links to configs/,
tools/, demo/ and mgpose_mm/) on small synthetic data, with the placeholders
(CONFIG, CHECKPOINT, ...) filled in and small settings appended
(:mod:`doc_blocks`). Commands that need GPUs, SLURM, several machines, the
PoseTrack data or a download are reported as skipped with the reason.
"""
import json
import os
import os.path as osp
import re
import shutil
import socket
import subprocess
import sys

import pytest
from conftest import REPO_ROOT
from doc_blocks import (QUICKSTART_CKPT, QUICKSTART_ENV, RTMDET_NAME,
                        RTMDET_WEIGHTS, TINY, WORKERS, code_blocks,
                        documented_commands, runnable_command, skip_reason)

COMMANDS = documented_commands()
VAL_VIDEO = 'data/synthetic_posetrack/images/val/500001_synth'
NOISE = ('System environment', 'GPU number', 'does not exist', 'Config:\n')
NOT_RUN_SHOWN_AS_VALUE = ('kept tokens equal: None', ' nan,', '| - |',
                          '| None |')
#: (regex on the command, text its output must contain)
EXPECTED_OUTPUT = [
    (r'quickstart\.sh', 'PoseTrack AP all'),
    (r'tools/test\.py|dist_test\.sh|^mim test', 'posetrack/Total AP'),
    (r'tools/train\.py|dist_train\.sh', 'work dir'),
    (r'inferencer_demo\.py.*--stream', 'person instances; latency median'),
    (r'inferencer_demo\.py', 'person instances'),
    (r'benchmark\.py', 'Cost per stage'),
    (r'pytorch2onnx\.py', 'verification passed'),
    (r'make_synthetic_posetrack\.py', 'dataset written to'),
    (r'^mim search', 'ftp-pose'),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_in(workspace, command, env_extra=None, timeout=900):
    """Run ``command`` with bash in ``workspace`` (this checkout on PYTHONPATH,
    this Python first on PATH); returns (returncode, stdout + stderr)."""
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        PYTHONPATH=REPO_ROOT,
        PORT=str(free_port()),
        PATH=osp.dirname(sys.executable) + os.pathsep +
        os.environ.get('PATH', ''))
    env.update(env_extra or {})
    proc = subprocess.run(['bash', '-c', command],
                          cwd=workspace,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


def write_video_and_boxes(workspace):
    """``video.mp4`` from the synthetic validation frames and ``boxes.json``
    (--bboxes format) from their ground-truth boxes: a user's own video and
    boxes."""
    import cv2
    frames = sorted(os.listdir(osp.join(workspace, VAL_VIDEO)))
    first = cv2.imread(osp.join(workspace, VAL_VIDEO, frames[0]))
    writer = cv2.VideoWriter(
        osp.join(workspace, 'video.mp4'), cv2.VideoWriter_fourcc(*'mp4v'), 10,
        (first.shape[1], first.shape[0]))
    for name in frames:
        writer.write(cv2.imread(osp.join(workspace, VAL_VIDEO, name)))
    writer.release()
    with open(
            osp.join(
                workspace,
                'data/synthetic_posetrack/annotations/posetrack18_val.json')
    ) as f:
        ann = json.load(f)
    frame_of = {
        im['id']: int(osp.splitext(osp.basename(im['file_name']))[0])
        for im in ann['images'] if '500001_synth' in im['file_name']
    }
    boxes = {}
    for a in ann['annotations']:
        if a['image_id'] in frame_of:
            x, y, w, h = a['bbox']
            boxes.setdefault(str(frame_of[a['image_id']]),
                             []).append([x, y, x + w, y + h, 0.9])
    with open(osp.join(workspace, 'boxes.json'), 'w') as f:
        json.dump(boxes, f)
    return len(frames)


def write_random_rtmdet(path, config_path=None):
    """MMDetection's RTMDet-tiny with random weights, saved under the name `mim
    download` gives (and its complete config at ``config_path``, as `mim
    download` writes it)."""
    import torch
    from mmdet.registry import MODELS as MMDET_MODELS
    from mmengine.hub import get_config
    from mmengine.registry import DefaultScope
    cfg = get_config('mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py')
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmdet'):
        detector = MMDET_MODELS.build(cfg.model)
    detector.init_weights()
    torch.save({'state_dict': detector.state_dict()}, path)
    if config_path is not None:
        cfg.dump(config_path)


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    """The quick start run small (the README's first command), plus a video, a
    boxes file, detector weights and the checkpoint names the docs use."""
    root = str(tmp_path_factory.mktemp('docs_workspace'))
    for name in ('configs', 'tools', 'demo', 'mgpose_mm'):
        os.symlink(osp.join(REPO_ROOT, name), osp.join(root, name))
    code, out = run_in(root, 'bash tools/quickstart.sh', QUICKSTART_ENV)
    results = {'bash tools/quickstart.sh': (code, out)}
    trained = osp.join(root, 'work_dirs', 'quickstart',
                       f'epoch_{QUICKSTART_ENV["EPOCHS"]}.pth')
    assert code == 0 and osp.isfile(trained), out[-5000:]
    shutil.copy(trained,
                osp.join(root, QUICKSTART_CKPT))  # the docs' name (12 epochs)
    write_video_and_boxes(root)
    write_random_rtmdet(osp.join(root, RTMDET_WEIGHTS))
    # the offline section's two files, copied into checkpoints/
    os.makedirs(osp.join(root, 'checkpoints'))
    write_random_rtmdet(
        osp.join(root, 'checkpoints', RTMDET_WEIGHTS),
        osp.join(root, 'checkpoints', RTMDET_NAME + '.py'))
    run1 = osp.join(root, 'work_dirs', 'run1')
    os.makedirs(run1)
    for name in ('epoch_8.pth', 'best_posetrack_Total AP_epoch_18.pth'):
        shutil.copy(osp.join(root, QUICKSTART_CKPT), osp.join(run1, name))
    with open(osp.join(run1, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(run1, 'epoch_8.pth'))
    return dict(root=root, results=results)


@pytest.mark.parametrize(
    'doc,command',
    COMMANDS,
    ids=[f'{doc}:{i}' for i, (doc, _) in enumerate(COMMANDS)])
def test_documented_command(workspace, doc, command):
    reason = skip_reason(command)
    if reason:
        pytest.skip(f'{command[:60]}...: {reason}')
    if command.startswith('mim ') and shutil.which(
            'mim', path=osp.dirname(sys.executable)) is None:
        pytest.skip('openmim is not installed')
    if command in workspace['results']:
        code, out = workspace['results'][command]
    else:
        code, out = run_in(workspace['root'], runnable_command(command))
    assert code == 0, f'{doc}: {command}\n' + out[-5000:]
    assert 'Traceback' not in out, out[-5000:]
    for pattern, text in EXPECTED_OUTPUT:
        if re.search(pattern, command):
            assert text in out, (f'{text!r} not in the output of '
                                 f'{command}:\n{out[-3000:]}')
            break
    for text in NOT_RUN_SHOWN_AS_VALUE:  # checks that did not run read n/a
        assert text not in out, f'{text!r} printed by {command}'
    if re.search(r'tools/(train|test)\.py|dist_(train|test)\.sh|quickstart',
                 command):
        for noise in NOISE:
            assert noise not in out, f'{noise!r} printed by {command}'


def test_quickstart_output_is_short_and_reproducible(workspace):
    """The environment dump and config are in the log file, not on the screen;
    the training printed a seed of 0."""
    code, out = workspace['results']['bash tools/quickstart.sh']
    logs = [
        osp.join(d, f) for d, _, files in os.walk(
            osp.join(workspace['root'], 'work_dirs', 'quickstart'))
        for f in files if f.endswith('.log')
    ]
    assert logs, 'no log file written'
    text = ''.join(open(path).read() for path in logs)
    assert 'System environment' in text and 'Config:' in text
    assert 'seed: 0' in text
    assert 'CPU processes: 1' in text and 'GPU number' not in text
    assert 'System environment' not in out
    assert 'environment, full config and hooks:' in out


def test_readme_dist_test_line_with_space_in_checkpoint(workspace):
    """The README's dist_test.sh line, as a user types it (escaped space and a
    glob), on the tiny config with 2 CPU processes: the checkpoint name with a
    space reaches test.py intact."""
    paper = ('configs/ftp_pose/posetrack18/'
             'ftp-pose_vit-base_8xb32-20e_posetrack18-256x192.py')
    line = next(c for _, c in COMMANDS
                if c.startswith(f'bash tools/dist_test.sh {paper}'))
    assert 'Total\\ AP_epoch_*.pth 8' in line
    work_dir = osp.join(workspace['root'], 'work_dirs',
                        osp.splitext(osp.basename(paper))[0])
    os.makedirs(work_dir, exist_ok=True)
    shutil.copy(
        osp.join(workspace['root'], QUICKSTART_CKPT),
        osp.join(work_dir, 'best_posetrack_Total AP_epoch_2.pth'))
    command = line.replace(paper, TINY, 1)[:-len(' 8')] + ' 2'
    command += f' --cfg-options env_cfg.dist_cfg.backend=gloo {WORKERS}'
    code, out = run_in(workspace['root'], command)
    assert code == 0, out[-5000:]
    assert 'unrecognized arguments' not in out and 'posetrack/Total AP' in out


@pytest.mark.parametrize('script,args,expected', [
    ('slurm_test.sh', [
        'part', 'job', 'my config.py', 'best_posetrack_Total AP_epoch_1.pth',
        '--cfg-options', 'a=b c'
    ], [
        'my config.py', 'best_posetrack_Total AP_epoch_1.pth',
        '--launcher=slurm', '--cfg-options', 'a=b c'
    ]),
    ('slurm_train.sh',
     ['part', 'job', 'my config.py', 'work dir', '--cfg-options', 'a=b c'], [
         'my config.py', '--work-dir=work dir', '--launcher=slurm',
         '--cfg-options', 'a=b c'
     ]),
    ('dist_test.sh', [
        'my config.py', 'best_posetrack_Total AP_epoch_1.pth', '2', '--out',
        'm n.json'
    ], [
        'my config.py', 'best_posetrack_Total AP_epoch_1.pth', '--launcher',
        'pytorch', '--out', 'm n.json'
    ]),
    ('dist_train.sh', ['my config.py', '2', '--work-dir', 'work dir'],
     ['my config.py', '--launcher', 'pytorch', '--work-dir', 'work dir']),
])
def test_launch_scripts_pass_arguments_intact(tmp_path, script, args,
                                              expected):
    """With stand-ins for srun / torchrun that print their arguments, one per
    line."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for launcher in ('srun', 'torchrun'):
        stub = bin_dir / launcher
        stub.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@"\n')
        stub.chmod(0o755)
    env = dict(os.environ, PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}')
    proc = subprocess.run(['bash', osp.join('tools', script), *args],
                          cwd=REPO_ROOT,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    received = proc.stdout.splitlines()
    tool = received.index(
        next(a for a in received if a.endswith(('/test.py', '/train.py'))))
    assert received[tool + 1:] == expected


def test_python_snippets_are_found():
    found = {doc for doc, _, _ in code_blocks('python')}
    assert {'docs/inference.md', 'docs/plugin.md'} <= found


def _is_config(code):
    return re.search(r'^(_base_|custom_imports)\s*=', code,
                     re.MULTILINE) is not None


@pytest.mark.parametrize(
    'doc,line,code', [b for b in code_blocks('python') if _is_config(b[2])],
    ids=lambda v: str(v)
    if isinstance(v, (str, int)) and len(str(v)) < 40 else '')
def test_config_snippet_loads_and_builds(tmp_path, doc, line, code):
    """Config snippets load with MMEngine; their model builds and runs a clip,
    their pipeline builds."""
    import torch
    from mmengine.config import Config
    from mmpose.registry import MODELS, TRANSFORMS
    path = tmp_path / 'snippet_config.py'
    path.write_text(code)
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == 'mmpose'
    if 'model' in cfg:
        model = MODELS.build(cfg.model).eval()
        frames = len(cfg.frame_offsets)
        width, height = cfg.codec['input_size']
        with torch.no_grad():
            heatmaps = model(
                torch.randn(1, frames, 3, height, width), None, mode='tensor')
        heatmaps = heatmaps[0] if isinstance(heatmaps,
                                             (tuple, list)) else heatmaps
        assert tuple(heatmaps.shape) == (1, cfg.model.head.out_channels,
                                         *cfg.codec['heatmap_size'][::-1])
    for step in cfg.get('train_pipeline', []):
        TRANSFORMS.build(step)


@pytest.mark.parametrize(
    'doc,line,code',
    [b for b in code_blocks('python') if not _is_config(b[2])],
    ids=lambda v: str(v)
    if isinstance(v, (str, int)) and len(str(v)) < 40 else '')
def test_python_snippet_runs(workspace, doc, line, code):
    """Script snippets run in the workspace (quick start done, the user's
    video.mp4 and boxes.json, the detector files of `mim download`) on CPU."""
    root = workspace['root']
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        PYTHONPATH=REPO_ROOT,
        CUDA_VISIBLE_DEVICES='')
    proc = subprocess.run([sys.executable, '-c', code],
                          cwd=root,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, (
        f'{doc}:{line}\n{proc.stdout[-2000:]}{proc.stderr[-4000:]}')
