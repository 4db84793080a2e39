"""Online (causal) clips: offsets (-2, -1, 0) with the key frame last, through
configs, dataset, backbone, pruning, head and tools/train.py."""
import glob
import json
import math
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from conftest import PAPER_CONFIG, REPO_ROOT, TINY_CONFIG
from mmengine.config import Config
from mmpose.registry import MODELS
from test_datasets import build_dataset, write_coco
from test_datasets import write_video as write_frames
from test_train_tools import run_tool, small_run_options

ONLINE_TINY = osp.join(
    REPO_ROOT, 'configs', 'ftp_pose', 'synthetic',
    'ftp-pose-online_vit-tiny_1xb16-12e_synthetic-128x96.py')
ONLINE_PAPER = osp.join(
    REPO_ROOT, 'configs', 'ftp_pose', 'posetrack18',
    'ftp-pose-online_vit-base_8xb32-20e_posetrack18-256x192.py')


@pytest.mark.parametrize(
    'online, centred', [(ONLINE_TINY, TINY_CONFIG),
                        (ONLINE_PAPER, PAPER_CONFIG)],
    ids=['tiny', 'paper'])
def test_online_configs_change_only_the_clip_layout(online, centred):
    online_cfg, centred_cfg = Config.fromfile(online), Config.fromfile(centred)
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert tuple(online_cfg[split].dataset.frame_offsets) == (-2, -1,
                                                                  0), split
        online_cfg[split].dataset.frame_offsets = centred_cfg[
            split].dataset.frame_offsets
    assert online_cfg.model.backbone.key_frame_index == 2
    online_cfg.model.backbone.key_frame_index = 1
    # everything else (model, recipe, data) is the centred config's
    for key in ('model', 'train_dataloader', 'val_dataloader',
                'test_dataloader', 'optim_wrapper', 'param_scheduler',
                'train_cfg', 'val_evaluator'):
        assert online_cfg[key] == centred_cfg[key], key


def test_online_dataset_clips_are_causal_and_clamped(tmp_path):
    images, anns = write_frames(tmp_path, 'four', '000001', 4, {0, 1, 2, 3})
    write_coco(tmp_path / 'ann.json', images, anns)
    dataset = build_dataset(
        tmp_path,
        'ann.json',
        frame_offsets=Config.fromfile(ONLINE_TINY).frame_offsets)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    numbers = [[int(osp.basename(p)[:6]) for p in info['frame_paths']]
               for info in infos]
    assert numbers == [[0, 0, 0], [0, 0, 1], [0, 1, 2], [1, 2, 3]]
    assert all(info['key_frame_index'] == 2
               and info['frame_paths'][2] == info['img_path']
               for info in infos)


def _tiny_models():
    import mgpose_mm  # noqa: F401
    centred_cfg, online_cfg = Config.fromfile(TINY_CONFIG), Config.fromfile(
        ONLINE_TINY)
    torch.manual_seed(0)
    centred = MODELS.build(centred_cfg.model)
    centred.init_weights()
    with torch.no_grad(
    ):  # trained frame embeddings are not zero: make the frames differ
        centred.backbone.frame_embed.normal_(std=0.5)
    online = MODELS.build(online_cfg.model)
    state = centred.state_dict()
    # The weights do not depend on the clip layout: the frame embedding is
    # indexed by the offset from the key frame, and the fine-grained stem is
    # pooled over the supporting frames. Give the online offsets (-2, -1) the
    # embeddings that the centred model uses at the same clip positions
    # (frames a and b of (a, c, b): offsets -1 and +1).
    embed = state['backbone.frame_embed'].clone()
    middle = centred.backbone.max_frame_offset
    embed[middle - 2], embed[middle - 1] = embed[middle - 1], embed[middle + 1]
    state['backbone.frame_embed'] = embed
    online.load_state_dict(state, strict=True)
    return centred.eval(), online.eval()


# clip (t-2, t-1, t) in the centred layout (key frame in the middle):
# (t-2, t, t-1)
ORDER = [0, 2, 1]


def test_online_model_reads_out_the_last_frame():
    """The key frame index reaches the fine branch, the pruning (the key
    frame's tokens are never pruned) and the head's read-out: the online model
    on (a, b, c) equals the centred model, with its frame embeddings moved
    along, on (a, c, b).

    Attention and DPC scores do not depend on the token order, so only a wrong
    key frame could change the result.
    """
    centred, online = _tiny_models()
    assert online.backbone.pruner.prune_ratio == 0.9
    assert online.backbone.key_frame_index == 2
    clips = torch.randn(
        2, 3, 3, 128, 96, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = centred._forward(clips[:, ORDER])
        got = online._forward(clips)
        tokens, _ = online.backbone(clips)
        wrong = centred._forward(
            clips)  # the same clip read with the key frame in the middle
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)
    assert (got - wrong).abs().max() > 100 * (got - expected).abs().max()
    per_frame = tokens.tokens_per_frame
    kept_frames = tokens.frame_of_token
    kept_support = 2 * per_frame - int(0.9 * 2 * per_frame)
    assert tokens.index.shape[1] == per_frame + kept_support
    for b in range(2):  # every key-frame (last) token kept, 10 % of the others
        assert (kept_frames[b] == 2).sum() == per_frame
        assert (kept_frames[b] < 2).sum() == kept_support


def test_online_tiny_config_trains_with_tools_train(small_data,
                                                    tmp_path):  # noqa: F811
    work_dir = tmp_path / 'online'
    run_tool([sys.executable, 'tools/train.py', ONLINE_TINY] +
             small_run_options(small_data, work_dir, max_epochs=1))
    assert osp.isfile(work_dir / 'epoch_1.pth')
    (scalars, ) = glob.glob(str(work_dir / '*' / 'vis_data' / 'scalars.json'))
    records = [json.loads(line) for line in open(scalars)]
    losses = [r['loss'] for r in records if 'loss' in r]
    assert losses and all(math.isfinite(loss) for loss in losses)
    total_ap = [
        r['posetrack/Total AP'] for r in records if 'posetrack/Total AP' in r
    ]
    assert len(total_ap) == 1 and 0.0 <= total_ap[0] <= 100.0
    checkpoint = torch.load(
        work_dir / 'epoch_1.pth', map_location='cpu', weights_only=False)
    embed = checkpoint['state_dict']['backbone.frame_embed']
    assert embed.shape == (9, 96) and np.isfinite(embed.numpy()).all()
