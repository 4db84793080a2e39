"""Model-zoo metafile: every config it names exists, parses, builds, and
matches its metadata."""
import glob
import os.path as osp
import re
import shutil
import subprocess
import sys
import zipfile

import pytest
import torch
import yaml
from conftest import REPO_ROOT
from mmengine.config import Config
from mmpose.registry import MODELS

MODEL_INDEX = osp.join(REPO_ROOT, 'model-index.yml')
METAFILE = osp.join(REPO_ROOT, 'configs', 'ftp_pose', 'ftp_pose.yml')
CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'ftp_pose')
# ViT width of each declared model size (mmpretrain's arch presets; Tiny is the
# synthetic config's own).
EMBED_DIMS = {'Tiny': 96, 'Base': 768, 'Large': 1024, 'Huge': 1280}
POSETRACK_METRIC_KEYS = {
    'Head', 'Shou', 'Elb', 'Wri', 'Hip', 'Knee', 'Ankl', 'Total'
}
# Config folder -> the metafile's `Training Data` and a piece of the config's
# data_root.
TRAINING_DATA = {
    'posetrack17': ('PoseTrack17', 'posetrack17'),
    'posetrack18': ('PoseTrack18', 'posetrack18'),
    'posetrack21': ('PoseTrack21', 'posetrack21'),
    'synthetic': ('Synthetic PoseTrack-format videos', 'synthetic_posetrack'),
}
# FLOPs are checked by a real forward pass only where it takes about a second
# on a CPU; the ViT-B paper config is checked too because its numbers are the
# ones the README discusses.
FLOPS_CHECKED = ('synthetic',
                 'ftp-pose_vit-base_8xb32-20e_posetrack18-256x192')


@pytest.fixture(scope='module', autouse=True)
def plugin_registered():
    """Configs name the plugin's types; building them needs the plugin imported
    in MMPose's scope."""
    from mmengine.registry import init_default_scope

    import mgpose_mm  # noqa: F401
    init_default_scope('mmpose')


def load_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f)


def metafile_models():
    return load_yaml(METAFILE)['Models']


def model_ids():
    return [model['Name'] for model in metafile_models()]


def load_config(model):
    cfg = Config.fromfile(osp.join(REPO_ROOT, model['Config']))
    cfg.model.backbone.init_cfg = None  # nothing is downloaded
    return cfg


def test_model_index_imports_the_metafile():
    index = load_yaml(MODEL_INDEX)
    assert index == {'Import': ['configs/ftp_pose/ftp_pose.yml']}
    for path in index['Import']:
        assert osp.isfile(osp.join(REPO_ROOT, path)), path


def test_model_index_passes_modelindex_checks():
    """The `model-index` package (what `mim search` reads) loads the index
    without errors."""
    from modelindex.load_model_index import load
    index = load(MODEL_INDEX)
    assert index.check(silent=True) == []
    assert sorted(m.name for m in index.models) == sorted(model_ids())
    assert [c.name for c in index.collections] == ['FTP-Pose']


def test_every_config_is_in_the_metafile_once():
    on_disk = sorted(
        osp.relpath(p, REPO_ROOT)
        for p in glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True))
    named = [model['Config'] for model in metafile_models()]
    assert len(named) == len(set(named)), 'a config is listed twice'
    assert sorted(named) == on_disk


def test_names_follow_configs_and_no_weights_are_claimed():
    collections = {c['Name'] for c in load_yaml(METAFILE)['Collections']}
    for model in metafile_models():
        assert model['Name'] == osp.splitext(osp.basename(model['Config']))[0]
        assert model['In Collection'] in collections
        assert 'Weights' not in model, \
            f'{model["Name"]}: no checkpoint is released'


def test_metafile_claims_no_result_this_project_did_not_measure():
    """Only numbers measured on exactly that config stand in its ``Results``.

    MIM and the inferencers show them as the config's own numbers; the paper's
    model differs from these configs, so its numbers never do.
    """
    for model in metafile_models():
        if 'Results' not in model:
            continue
        source = model['Metadata'].get('Results Source', '')
        assert source.startswith('measured by this project'), \
            f'{model["Name"]}: Results without a measurement of this project'
        for result in model['Results']:
            assert set(result['Metrics']) <= POSETRACK_METRIC_KEYS
        assert 'paper' not in str(model).lower(), model['Name']
    # the paper's number stays in the README, labelled as the paper's
    with open(osp.join(REPO_ROOT, 'README.md'), encoding='utf-8') as f:
        assert 'The paper reports 87.4 mAP on PoseTrack2017 val' in f.read()


@pytest.mark.parametrize('name', model_ids())
def test_config_builds_and_matches_metadata(name):
    model = next(m for m in metafile_models() if m['Name'] == name)
    meta = model['Metadata']
    cfg = load_config(model)
    with torch.device(
            'meta'):  # no memory, no init: ViT-H builds in milliseconds
        pose_model = MODELS.build(cfg.model)
    assert type(pose_model).__name__ == 'VideoTopdownPoseEstimator'

    backbone, pruner = pose_model.backbone, pose_model.backbone.pruner
    assert backbone.embed_dims == EMBED_DIMS[meta['Model Size']]
    assert pose_model.head.in_channels == backbone.embed_dims
    assert sum(p.numel()
               for p in pose_model.parameters()) == meta['Parameters']

    assert backbone.num_frames == meta['Frames']
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        offsets = tuple(cfg[split].dataset.get('frame_offsets', (-1, 0, 1)))
        assert len(offsets) == backbone.num_frames, split
        assert offsets.index(0) == backbone.key_frame_index, split
    assert pruner.prune_ratio == meta['Pruning Ratio']
    assert pruner.selector == meta['Token Selector']

    width, height = cfg.codec.input_size
    assert meta['Input Size'] == f'{height}x{width}'
    assert meta['Epochs'] == cfg.train_cfg.max_epochs
    gpus, per_gpu = map(int, re.search(r'_(\d+)xb(\d+)-', name).groups())
    assert cfg.train_dataloader.batch_size == per_gpu
    assert meta['Batch Size'] == gpus * per_gpu
    training_data, root_part = TRAINING_DATA[osp.basename(
        osp.dirname(model['Config']))]
    assert meta['Training Data'] == training_data
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert root_part in cfg[split].dataset.data_root, split


@pytest.mark.parametrize(
    'name', [n for n in model_ids() if any(key in n for key in FLOPS_CHECKED)])
def test_metafile_flops_match_the_counter(name):
    from mgpose_mm.benchmark.flops import model_cost
    model = next(m for m in metafile_models() if m['Name'] == name)
    cfg = load_config(model)
    torch.manual_seed(0)
    pose_model = MODELS.build(cfg.model).eval()
    width, height = cfg.codec.input_size
    clips = torch.randn(1, cfg.model.backbone.num_frames, 3, height, width)
    cost = model_cost(pose_model, clips)
    assert cost.total_macs == pytest.approx(
        model['Metadata']['FLOPs'], rel=1e-3)


def test_wheel_ships_the_mim_files(tmp_path):
    """A wheel (`pip install .`) carries tools, configs and the model index in
    ``mgpose_mm/.mim``, where `mim train/test/search mgpose_mm` look for them;
    the shipped index loads on its own."""
    src = tmp_path / 'src'
    src.mkdir()
    for name in ('setup.py', 'MANIFEST.in', 'README.md', 'model-index.yml'):
        shutil.copy(osp.join(REPO_ROOT, name), src / name)
    for name in ('mgpose_mm', 'configs', 'tools', 'demo'):
        if not osp.isdir(osp.join(REPO_ROOT, name)):
            continue
        shutil.copytree(
            osp.join(REPO_ROOT, name),
            src / name,
            ignore=shutil.ignore_patterns('__pycache__', '*.pyc', '.mim'))
    proc = subprocess.run([
        sys.executable, 'setup.py', '-q', 'bdist_wheel', '-d',
        str(tmp_path / 'dist')
    ],
                          cwd=src,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel, ) = glob.glob(str(tmp_path / 'dist' / '*.whl'))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / 'site')
    mim = 'mgpose_mm/.mim/'
    expected = {
        mim + 'model-index.yml', mim + 'tools/train.py', mim + 'tools/test.py',
        mim + 'configs/ftp_pose/ftp_pose.yml',
        mim + 'configs/ftp_pose/README.md',
        mim + 'configs/_base_/default_runtime.py'
    }
    expected |= {mim + model['Config'] for model in metafile_models()}
    assert expected <= names, sorted(expected - names)

    from modelindex.load_model_index import load
    shipped = load(
        str(tmp_path / 'site' / 'mgpose_mm' / '.mim' / 'model-index.yml'))
    assert shipped.check(silent=True) == []
    assert sorted(m.name for m in shipped.models) == sorted(model_ids())
