"""Checkpoints from URLs (http(s) and every MMEngine scheme) load safely: the
same refusal of code as local files (:mod:`test_checkpoint_safety`).

``http_server`` is in conftest.py; ``load_path`` runs each test on this torch's
loading path and on the restricted unpickler of torch < 2.5.
"""
import json
import os
import os.path as osp
import runpy
import shutil
import sys
import types

import pytest
import test_checkpoint_safety as local_loading
import torch
from conftest import REPO_ROOT, TINY_CONFIG
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader
from test_checkpoint_safety import assert_refused, tiny_state_dict

from mgpose_mm.errors import InputFileError, UntrustedCheckpointError

# fixtures of the local-loading tests, used here too
evil, load_path = local_loading.evil, local_loading.load_path


def test_http_checkpoints_load_safely(http_server, tmp_path, monkeypatch):
    """The demo and the API download an http(s) checkpoint once into torch's
    hub folder and load it; a failed download is a clear error (code: see
    test_every_mmengine_scheme_loads_safely)."""
    from test_apis import figure_detections, figure_frames, write_video

    from mgpose_mm.apis import init_video_pose_model
    folder, base_url = http_server
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    weights = tiny_state_dict()
    torch.save({'state_dict': weights}, folder / 'tiny.pth')
    frames, boxes = figure_frames(num_frames=3)
    video, det_file = str(tmp_path / '000007_clip.mp4'), tmp_path / 'd.json'
    write_video(video, frames)
    det_file.write_text(json.dumps(figure_detections(boxes)))
    demo = runpy.run_path(
        osp.join(REPO_ROOT, 'demo', 'inferencer_demo.py'),
        run_name='inferencer_demo')
    out = str(tmp_path / 'out')
    latency = demo['main']([
        video, '--pose2d', TINY_CONFIG, '--pose2d-weights',
        f'{base_url}/tiny.pth', '--det-results',
        str(det_file), '--pred-out-dir', out, '--device', 'cpu'
    ])
    with open(osp.join(out, '000007_clip.json')) as f:
        written = json.load(f)
    assert latency.count == 3
    assert [len(e['instances']) for e in written] == [2, 2, 2]
    assert osp.isfile(tmp_path / 'torch_home/hub/checkpoints/tiny.pth')
    model = init_video_pose_model(TINY_CONFIG, f'{base_url}/tiny.pth')
    local = init_video_pose_model(TINY_CONFIG, str(folder / 'tiny.pth'))
    clips = torch.randn(1, 3, 3, 128, 96)
    with torch.no_grad():
        torch.testing.assert_close(
            model._forward(clips), local._forward(clips))
    with pytest.raises(InputFileError, match='cannot download checkpoint'):
        init_video_pose_model(TINY_CONFIG, f'{base_url}/absent.pth')


# ---------------------------------------------------------- MMEngine schemes
def _serve_through(scheme, folder, base_url, home, monkeypatch):
    """The URL maker (file name -> URL) of the files of ``folder`` served
    through ``scheme`` (fake ``pavi``, ``petrel_client``; model lists)."""
    read = lambda path: (folder / osp.basename(path)).read_bytes()  # noqa
    if scheme == 'http':
        return lambda name: f'{base_url}/{name}'
    if scheme == 'pavi':
        model = lambda path: types.SimpleNamespace(  # noqa
            name=osp.basename(path),
            download=lambda dst: open(dst, 'wb').write(read(path)))
        pavi = types.ModuleType('pavi')
        pavi.modelcloud = types.SimpleNamespace(get=model)
        monkeypatch.setitem(sys.modules, 'pavi', pavi)
        return lambda name: f'pavi://project/{name}'
    if scheme in ('s3', 'petrel'):
        client = types.ModuleType('petrel_client.client')
        client.Client = lambda **kwargs: types.SimpleNamespace(Get=read)
        package = types.ModuleType('petrel_client')
        package.client = client
        monkeypatch.setitem(sys.modules, 'petrel_client', package)
        monkeypatch.setitem(sys.modules, 'petrel_client.client', client)
        return lambda name: f'{scheme}://bucket/{name}'
    if scheme in ('open-mmlab', 'openmmlab'):
        # MMEngine's model list in $MMENGINE_HOME: local files or URLs
        shutil.copytree(folder, home / 'checkpoints')
        where = 'checkpoints' if scheme == 'open-mmlab' else base_url
        models = {name: f'{where}/{name}' for name in os.listdir(folder)}
        (home / 'open_mmlab.json').write_text(json.dumps(models))
        monkeypatch.setenv('MMENGINE_HOME', str(home))
        return lambda name: f'{scheme}://{name}'
    # torchvision://, modelzoo:// and mmcls:// name models of fixed URLs
    getter = ('get_mmcls_models'
              if scheme == 'mmcls' else 'get_torchvision_models')
    monkeypatch.setattr(
        mmengine_checkpoint, getter,
        lambda: {n: f'{base_url}/{n}'
                 for n in os.listdir(folder)})
    return lambda name: f'{scheme}://{name}'


# the message names the URL, except where MMEngine maps a name to one
URL_NAMED = ('http', 'pavi', 's3', 'petrel')


@pytest.mark.parametrize('scheme', [
    'http', 'pavi', 's3', 'petrel', 'open-mmlab', 'openmmlab', 'torchvision',
    'modelzoo', 'mmcls'
])
def test_every_mmengine_scheme_loads_safely(scheme, http_server, tmp_path,
                                            monkeypatch, load_path, evil):
    folder, base_url = http_server
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    weight = torch.arange(4.)
    torch.save({'state_dict': {'backbone.w': weight}}, folder / 'good.pth')
    shutil.copyfile(evil[0], folder / 'evil.pth')
    url = _serve_through(scheme, folder, base_url, tmp_path / 'home',
                         monkeypatch)
    loaded = CheckpointLoader.load_checkpoint(url('good.pth'))
    key = 'w' if scheme == 'mmcls' else 'backbone.w'  # mmcls: backbone only
    torch.testing.assert_close(loaded['state_dict'][key], weight)
    with pytest.raises(UntrustedCheckpointError) as info:
        CheckpointLoader.load_checkpoint(url('evil.pth'))
    named = url('evil.pth') if scheme in URL_NAMED else 'evil.pth'
    assert_refused(info, named, evil[1])
