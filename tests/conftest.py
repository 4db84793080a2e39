import contextlib
import functools
import http.server
import importlib
import json
import os.path as osp
import sys
import threading

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED_DATA = osp.join(REPO_ROOT, '..', 'shared', 'data')
TINY_CONFIG = osp.join(REPO_ROOT, 'configs', 'ftp_pose', 'synthetic',
                       'ftp-pose_vit-tiny_1xb16-12e_synthetic-128x96.py')
FULL_KEY_FRAME_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'ftp_pose', 'synthetic',
    'ftp-pose-full-key-frame_vit-tiny_1xb16-12e_synthetic-128x96.py')
PAPER_CONFIG = osp.join(REPO_ROOT, 'configs', 'ftp_pose', 'posetrack18',
                        'ftp-pose_vit-base_8xb32-20e_posetrack18-256x192.py')


def load_tool(name: str, folder: str = 'analysis_tools'):
    """Import ``tools/<folder>/<name>.py`` as a module; its own folder goes on
    ``sys.path`` so that its sibling modules import as they do when the tool
    runs as a script."""
    path = osp.join(REPO_ROOT, 'tools', folder)
    if path not in sys.path:
        sys.path.insert(0, path)
    return importlib.import_module(name)


@pytest.fixture(scope='session')
def repo_root():
    return REPO_ROOT


@pytest.fixture(scope='session')
def shared_data():
    if not osp.isdir(SHARED_DATA):
        pytest.skip(f'shared sample data not present at {SHARED_DATA}')
    return SHARED_DATA


@pytest.fixture(scope='session', autouse=True)
def mmpose_scope():
    """Build by name in MMPose's scope, as configs with
    ``default_scope='mmpose'`` do."""
    from mmengine.registry import init_default_scope

    import mgpose_mm  # noqa: F401
    init_default_scope('mmpose')


@pytest.fixture(scope='module')
def small_data(tmp_path_factory):
    """A small synthetic PoseTrack18-layout dataset (2 train videos, 1 val
    video)."""
    from mgpose_mm.synthetic import generate_posetrack_dataset
    root = tmp_path_factory.mktemp('synthetic_posetrack')
    generate_posetrack_dataset(
        str(root),
        num_train_videos=2,
        num_val_videos=1,
        frames_per_video=6,
        image_size=(160, 128),
        persons_per_video=(1, 2),
        seed=3)
    with open(root / 'annotations' / 'posetrack18_train.json') as f:
        train = json.load(f)
    with open(root / 'annotations' / 'posetrack18_val.json') as f:
        val = json.load(f)
    return dict(
        root=str(root) + '/',
        train_samples=sum(1 for a in train['annotations']
                          if a['num_keypoints'] > 0),
        val_frames=sum(1 for im in val['images'] if im['is_labeled']))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_folder(folder):
    """Serve ``folder`` over HTTP on 127.0.0.1; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{server.server_address[1]}'
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def http_server(tmp_path):
    """``(folder, base_url)``: ``tmp_path / 'www'`` served on 127.0.0.1 (an
    http(s):// source without a network)."""
    folder = tmp_path / 'www'
    folder.mkdir()
    with serve_folder(folder) as base_url:
        yield folder, base_url
