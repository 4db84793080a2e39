"""Model options of the ablation configs: no fine branch, frame-embedding
initialisation."""
import pytest
import torch
from mmpose.registry import MODELS
from model_utils import make_batch, tiny_model_cfg


def _build(seed=0, **backbone):
    cfg = tiny_model_cfg()
    cfg.backbone.update(backbone)
    torch.manual_seed(seed)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def test_without_fine_branch_the_key_frame_reaches_the_head_via_tokens():
    model = _build(fine_channels=0).eval()
    assert model.backbone.fine_stem is None
    clips, samples = make_batch(batch_size=2)
    fine = model.backbone.forward_fine(clips)
    assert fine.shape == (2, 0, 32, 24)
    heatmaps = model.head(model.backbone(clips))
    assert heatmaps.shape == (2, 17, 32, 24)
    # the deconv output alone
    assert model.head.fusion.depthwise_conv.conv.in_channels == 64
    losses = _build(fine_channels=0).train().loss(clips, samples)
    assert torch.isfinite(losses['loss_kpt'])
    with pytest.raises(ValueError, match='fine_channels must be >= 0'):
        _build(fine_channels=-1)


def test_fine_branch_over_all_frames_stacks_each_frame_in_clip_order():
    model = _build(fine_frames='all').eval()  # the paper config's setting
    assert model.backbone.fine_out_channels == 3 * 32
    assert model.head.fine_channels == 3 * 32
    clips, _ = make_batch(batch_size=2)
    with torch.no_grad():
        fine = model.backbone.forward_fine(clips)
        per_frame = [model.backbone.fine_stem(clips[:, t]) for t in range(3)]
        heatmaps = model.head(model.backbone(clips))
        assert fine.shape == (2, 96, 32, 24) and heatmaps.shape == (2, 17, 32,
                                                                    24)
        for t in range(3):  # frame t's stem output is channel block t
            torch.testing.assert_close(fine[:, 32 * t:32 * (t + 1)],
                                       per_frame[t])
        # a supporting frame changes its own block only
        changed = clips.clone()
        changed[:, 0] = 0
        fine_changed = model.backbone.forward_fine(changed)
        assert torch.equal(fine_changed[:, 32:], fine[:, 32:])
        assert not torch.allclose(fine_changed[:, :32], fine[:, :32])

    key_only = _build(fine_frames='key').eval()
    with torch.no_grad():
        assert key_only.backbone.fine_out_channels == 32
        torch.testing.assert_close(
            key_only.backbone.forward_fine(clips),
            key_only.backbone.fine_stem(clips[:, 1]))
        # the head's width is derived from the backbone
        assert key_only.head.fine_channels == 32
    with pytest.raises(ValueError, match='fine_frames must be one of'):
        _build(fine_frames='neighbours')


def test_pooled_fine_branch_is_the_key_frame_then_the_pooled_neighbours():
    model = _build(fine_frames='pooled').eval()  # the tiny config's setting
    assert model.backbone.fine_out_channels == model.head.fine_channels == 97
    clips, _ = make_batch(batch_size=2)
    with torch.no_grad():
        fine = model.backbone.forward_fine(clips)
        per_frame = [model.backbone.fine_stem(clips[:, t]) for t in range(3)]
        support = torch.stack([per_frame[0], per_frame[2]])
        torch.testing.assert_close(fine[:, :32], per_frame[1])
        torch.testing.assert_close(fine[:, 32:64], support.mean(0))
        torch.testing.assert_close(fine[:, 64:96], support.amax(0))
        assert torch.equal(fine[:, 96], torch.ones_like(fine[:, 96]))
        # the two supporting frames are interchangeable
        swapped = model.backbone.forward_fine(clips[:, [2, 1, 0]])
        torch.testing.assert_close(swapped, fine)


def test_frame_embedding_initialisation():
    assert torch.count_nonzero(_build().backbone.frame_embed) == 0
    embed = _build(frame_embed_std=0.02).backbone.frame_embed
    assert embed.shape == (9, 96)  # offsets -4..4 from the key frame
    assert 0.01 < float(embed.std()) < 0.03 and float(
        embed.abs().max()) <= 0.04 + 1e-6
    with pytest.raises(ValueError, match='frame_embed_std'):
        _build(frame_embed_std=-1.0)


def test_random_key_frame_mask_hides_a_joint_in_the_key_frame_only():
    import numpy as np

    from mgpose_mm.datasets.transforms import RandomKeyFrameMask
    frames = [np.full((128, 96, 3), 100.0, np.float32) for _ in range(3)]
    points = np.full((1, 17, 2), -10.0)
    points[0, 9] = [40, 60]  # the only visible joint inside the input
    visible = np.zeros((1, 17))
    visible[0, 9] = 1
    results = dict(
        img=frames,
        key_frame_index=1,
        transformed_keypoints=points,
        keypoints_visible=visible)
    np.random.seed(0)
    out = RandomKeyFrameMask(prob=1.0, size=0.25).transform(dict(results))
    changed = np.flatnonzero((out['img'][1] != 100).any(-1).reshape(-1))
    ys, xs = np.unravel_index(changed, (128, 96))
    assert (ys.min(), ys.max(), xs.min(),
            xs.max()) == (44, 75, 24, 55)  # 32 px around (40, 60)
    assert all((out['img'][t] == 100).all() for t in (0, 2))
    assert (
        frames[1] == 100).all(), 'the input frames are not modified in place'
    kept = RandomKeyFrameMask(prob=0.0).transform(dict(results))
    assert all((f == 100).all() for f in kept['img'])
    with pytest.raises(ValueError, match='prob'):
        RandomKeyFrameMask(prob=2.0)
