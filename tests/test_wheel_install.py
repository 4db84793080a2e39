"""The wheel holds what the package needs: built from this checkout, installed
into a fresh virtual environment, it tests a checkpoint on synthetic videos as
``tools/test.py`` does, with the config the wheel ships."""
import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile

from conftest import REPO_ROOT

SOURCES = ('setup.py', 'setup.cfg', 'MANIFEST.in', 'README.md',
           'model-index.yml', 'mgpose_mm', 'tools', 'configs', 'demo')
SITE_PACKAGES = 'import sysconfig; print(sysconfig.get_path("purelib"))'
CONFIG = 'ftp_pose/synthetic/ftp-pose_vit-tiny_1xb16-12e_synthetic-128x96.py'

TEST_WITH_INSTALLED_PACKAGE = textwrap.dedent(f'''
    import json
    import os.path as osp

    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner

    import mgpose_mm
    from mgpose_mm.synthetic import generate_posetrack_dataset

    root = osp.abspath('data') + '/'
    generate_posetrack_dataset(
        root,
        num_train_videos=0,
        num_val_videos=1,
        frames_per_video=6,
        image_size=(160, 128),
        persons_per_video=(1, 2),
        seed=3)
    # where MIM finds it (``mim test mgpose_mm``)
    cfg = Config.fromfile(
        osp.join(osp.dirname(mgpose_mm.__file__), '.mim', 'configs',
                 '{CONFIG}'))
    init_default_scope('mmpose')
    from mmpose.registry import MODELS
    torch.manual_seed(0)
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()),
               'tiny.pth')
    cfg.merge_from_dict({{
        'work_dir': 'work',
        'load_from': 'tiny.pth',
        'test_dataloader.num_workers': 0,
        'test_dataloader.persistent_workers': False,
        'test_dataloader.dataset.data_root': root,
        'test_dataloader.dataset.bbox_file':
        root + 'annotations/posetrack18_val_human_detections.json',
        'test_evaluator.ann_file': root + 'annotations/posetrack18_val.json'
    }})
    metrics = Runner.from_cfg(cfg).test()
    print('RESULT ' + json.dumps(dict(
        package=mgpose_mm.__file__, config=cfg.filename, metrics=metrics)))
''')


def run(cmd, cwd, env, timeout=300):
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    return proc.stdout


def test_wheel_installs_and_tests_a_checkpoint(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    for name in SOURCES:  # a copy: building writes build/ and .mim into it
        path = os.path.join(REPO_ROOT, name)
        if os.path.isdir(path):
            shutil.copytree(
                path,
                src / name,
                ignore=shutil.ignore_patterns('__pycache__', '.mim'))
        else:
            shutil.copy(path, src / name)
    # no PYTHONPATH, outside the checkout: the checkout is not importable
    env = dict(
        PATH=os.environ['PATH'],
        HOME=str(tmp_path),
        OMP_NUM_THREADS='1',
        PIP_NO_INDEX='1')
    run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '-q', '-w',
        str(tmp_path / 'dist'),
        str(src)
    ], tmp_path, env)
    wheel, = (tmp_path / 'dist').iterdir()
    names = zipfile.ZipFile(wheel).namelist()
    assert f'mgpose_mm/.mim/configs/{CONFIG}' in names
    assert 'mgpose_mm/.mim/model-index.yml' in names

    venv = tmp_path / 'venv'
    run([sys.executable, '-m', 'venv', '--system-site-packages',
         str(venv)], tmp_path, env)
    python = str(venv / 'bin' / 'python')
    run([python, '-m', 'pip', 'install', '--no-deps', '-q',
         str(wheel)], tmp_path, env)
    work = tmp_path / 'work'
    work.mkdir()
    out = run([python, '-c', TEST_WITH_INSTALLED_PACKAGE], work, env)
    result = json.loads(out.split('RESULT ', 1)[1])
    site = run([python, '-c', SITE_PACKAGES], work, env).strip()
    for path in (result['package'], result['config']):
        assert path.startswith(os.path.join(site, 'mgpose_mm', ''))
    metrics = result['metrics']
    joints = ('Head', 'Shoulder', 'Elbow', 'Wrist', 'Hip', 'Knee', 'Ankle',
              'Total')
    for joint in joints:
        value = metrics[f'posetrack/{joint} AP']
        assert math.isfinite(value) and 0 <= value <= 100
