"""FTP-Pose model: DPC scores, pruning neck, backbone, head, estimator."""
import math

import numpy as np
import pytest
import torch
from mmpose.registry import MODELS
from model_utils import (build_tiny_model, make_batch, tiny_model_cfg,
                         unit_scale_head)


def reference_dpc_scores(tokens, k, anchors=None):
    """Straightforward per-sample DPC-kNN, loops, float64; equal densities go
    by position; an anchor is denser than every non-anchor."""
    tokens = tokens.double().numpy()
    batch, num, channels = tokens.shape
    out = np.zeros((batch, num))
    for b in range(batch):
        dist = np.zeros((num, num))
        for i in range(num):
            for j in range(num):
                dist[i, j] = np.linalg.norm(tokens[b, i] -
                                            tokens[b, j]) / math.sqrt(channels)
        rho = np.array(
            [math.exp(-np.mean(np.sort(dist[i])[:k]**2)) for i in range(num)])
        dmax = dist.max()
        anchor = [False] * num if anchors is None else list(anchors)
        for i in range(num):
            denser = [
                dist[i, j] for j in range(num)
                if (anchor[j] and not anchor[i]) or (
                    anchor[j] == anchor[i] and (rho[j] > rho[i] + 1e-12 or (
                        abs(rho[j] - rho[i]) <= 1e-12 and j < i)))
            ]
            out[b, i] = rho[i] * (min(denser) if denser else dmax)
    return out


def tokens_with_ties_and_duplicates(seed=0):
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.randn(2, 24, 8, generator=gen)
    tokens[:, 5] = tokens[:, 3]  # exact duplicates
    tokens[:, 17] = tokens[:, 3]
    tokens[:, 10:14] = torch.round(
        tokens[:, 10:14])  # lattice points: tied distances
    tokens[0, 20] = tokens[0, 10] + 1.0
    return tokens


@pytest.mark.parametrize('k', [1, 3, 5])
def test_dpc_scores_match_reference(k):
    from mgpose_mm.models.utils import dpc_knn_scores
    tokens = tokens_with_ties_and_duplicates()
    scores = dpc_knn_scores(tokens, k=k)
    expected = reference_dpc_scores(tokens, k)
    np.testing.assert_allclose(scores.numpy(), expected, rtol=1e-4, atol=2e-3)
    distinct = [i for i in range(24) if i not in (3, 5, 17)]
    np.testing.assert_allclose(
        scores[:, distinct].numpy(),
        expected[:, distinct],
        rtol=1e-4,
        atol=1e-5)
    # Of three identical tokens only the first (densest by tie-break) keeps a
    # large delta.
    assert (scores[:, 3] > 10 * scores[:, 5]).all() and (
        scores[:, 3] > 10 * scores[:, 17]).all()


@pytest.mark.parametrize('k', [1, 3])
def test_anchored_dpc_scores_match_reference(k):
    from mgpose_mm.models.utils import dpc_knn_scores
    tokens = tokens_with_ties_and_duplicates(seed=2)
    anchors = torch.zeros(24, dtype=torch.bool)
    anchors[8:16] = True
    scores = dpc_knn_scores(tokens, k=k, anchors=anchors)
    expected = reference_dpc_scores(tokens, k, anchors.tolist())
    np.testing.assert_allclose(scores.numpy(), expected, rtol=1e-4, atol=2e-3)
    # the anchors change the scores (else the test would not test them)
    assert not np.allclose(expected, reference_dpc_scores(tokens, k))


def test_anchored_dpc_prunes_what_repeats_the_key_frame():
    """A supporting token that repeats a key-frame token is removed first by
    'dpc-anchored'; plain DPC keeps whichever copy is denser, so the supporting
    copy survives when it is the denser one."""
    from mgpose_mm.models import VideoTokens
    gen = torch.Generator().manual_seed(3)
    per_frame = 6
    key = torch.randn(1, per_frame, 4, generator=gen) * 3
    before = torch.randn(1, per_frame, 4, generator=gen) * 3
    after = torch.randn(1, per_frame, 4, generator=gen) * 3
    # supporting token 0 of each supporting frame repeats key token 0, and a
    # cloud around it makes the supporting copies the denser ones
    before[0, 0] = key[0, 0]
    after[0, 0] = key[0, 0] + 1e-3
    before[0, 1] = key[0, 0] + 0.05
    after[0, 1] = key[0, 0] - 0.05
    tokens = torch.cat([before, key, after], 1)
    vt = VideoTokens(tokens, torch.arange(3 * per_frame)[None], 3, 1, (2, 3))
    kept = {}
    for selector in ('dpc', 'dpc-anchored'):
        neck = MODELS.build(
            dict(
                type='DPCTokenPruning',
                prune_ratio=0.25,
                k=3,
                selector=selector)).eval()
        kept[selector] = set(neck(vt).index[0].tolist())
    repeats = {0, 2 * per_frame}
    assert not repeats & kept['dpc-anchored']
    assert repeats & kept['dpc']


def test_dpc_rejects_bad_k():
    from mgpose_mm.models.utils import dpc_knn_scores
    with pytest.raises(ValueError, match='k=30'):
        dpc_knn_scores(torch.randn(1, 10, 4), k=30)


def make_video_tokens(batch=3,
                      num_frames=3,
                      key=1,
                      grid=(4, 3),
                      channels=8,
                      seed=0):
    from mgpose_mm.models import VideoTokens
    gen = torch.Generator().manual_seed(seed)
    n = num_frames * grid[0] * grid[1]
    tokens = torch.randn(batch, n, channels, generator=gen)
    index = torch.arange(n).expand(batch, -1)
    return VideoTokens(tokens, index, num_frames, key, grid)


@pytest.mark.parametrize('selector', ['dpc', 'dpc-anchored', 'random'])
@pytest.mark.parametrize('eps', [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99])
@pytest.mark.parametrize('num_frames,key', [(3, 1), (5, 2), (3, 0)])
def test_pruning_keeps_formula_count_key_frame_and_order(
        selector, eps, num_frames, key):
    neck = MODELS.build(
        dict(type='DPCTokenPruning', prune_ratio=eps, k=3,
             selector=selector)).eval()
    vt = make_video_tokens(num_frames=num_frames, key=key)
    per_frame = 12
    support = (num_frames - 1) * per_frame
    out = neck(vt)
    expected = per_frame + support - math.floor(eps * support)
    assert out.tokens.shape == (3, expected, 8)
    assert out.index.shape == (3, expected)
    for b in range(3):
        idx = out.index[b]
        assert (idx[1:] > idx[:-1]
                ).all(), 'kept tokens must stay in their original order'
        key_ids = torch.arange(key * per_frame, (key + 1) * per_frame)
        assert torch.isin(key_ids, idx).all(), 'every key-frame token is kept'
        # gathered features are exactly the source tokens at the recorded
        # positions
        torch.testing.assert_close(out.tokens[b], vt.tokens[b, idx])
    # key-frame map reads the key frame back unchanged
    torch.testing.assert_close(out.key_frame_map(), vt.key_frame_map())
    # deterministic in eval
    again = neck(vt)
    assert torch.equal(again.index, out.index)


def test_dpc_pruning_drops_duplicate_supporting_tokens_first():
    from mgpose_mm.models import VideoTokens
    gen = torch.Generator().manual_seed(1)
    per_frame = 6
    key = torch.randn(1, per_frame, 4, generator=gen) * 3
    distinct = torch.randn(1, per_frame, 4, generator=gen) * 3
    # supporting frame 2 repeats supporting frame 0: the redundant copies
    # should go
    tokens = torch.cat([
        distinct, key,
        distinct + 1e-4 * torch.randn(1, per_frame, 4, generator=gen)
    ], 1)
    vt = VideoTokens(tokens, torch.arange(3 * per_frame)[None], 3, 1, (2, 3))
    neck = MODELS.build(dict(type='DPCTokenPruning', prune_ratio=0.5,
                             k=2)).eval()
    out = neck(vt)
    frames = out.frame_of_token[0]
    # 6 supporting tokens kept out of 12: exactly one of each duplicate pair
    # survives
    kept_support = out.index[0][frames != 1] % per_frame
    assert sorted(kept_support.tolist()) == list(range(per_frame))


@pytest.mark.parametrize('field,kwargs,match', [
    ('prune_ratio', dict(prune_ratio=1.0), 'prune_ratio'),
    ('prune_ratio', dict(prune_ratio=-0.1), 'prune_ratio'),
    ('k', dict(k=0), 'k must be'),
    ('selector', dict(selector='topk'), 'selector'),
])
def test_bad_pruner_config_fails_at_build(field, kwargs, match):
    with pytest.raises(ValueError, match=match):
        MODELS.build(tiny_model_cfg(**kwargs))


def test_bad_backbone_config_fails_at_build():
    cfg = tiny_model_cfg()
    cfg.backbone.key_frame_index = 3
    with pytest.raises(
            ValueError, match='key_frame_index=3 is outside the clip'):
        MODELS.build(cfg)
    cfg = tiny_model_cfg()
    cfg.backbone.prune_layer = 9
    with pytest.raises(ValueError, match='prune_layer'):
        MODELS.build(cfg)


def test_clip_length_mismatch_names_the_field():
    model = build_tiny_model().eval()
    clips, samples = make_batch(batch_size=2, num_frames=5)
    with pytest.raises(ValueError, match='num_frames=3'):
        model(clips, samples, mode='tensor')


def test_a_neck_is_refused_naming_the_backbone_pruner():
    cfg = tiny_model_cfg()
    cfg.neck = cfg.backbone.pop('pruner')
    from mgpose_mm.errors import ConfigValueError
    with pytest.raises(ConfigValueError, match='model.backbone.pruner'):
        MODELS.build(cfg)


def test_eps_zero_equals_model_without_pruner():
    with_pruner = unit_scale_head(
        build_tiny_model(full_key_frame=True, prune_ratio=0.0))
    cfg = tiny_model_cfg(full_key_frame=True)
    cfg.backbone.pop('pruner')
    without_pruner = MODELS.build(cfg).eval()
    without_pruner.load_state_dict(with_pruner.state_dict())
    clips, samples = make_batch(batch_size=3)
    with torch.no_grad():
        a = with_pruner.eval()(clips, samples, mode='tensor')
        b = without_pruner(clips, samples, mode='tensor')
    assert a.shape == (3, 17, 32, 24) and a.abs().max() > 0.1
    torch.testing.assert_close(a, b, rtol=0, atol=1e-5)


@pytest.mark.parametrize('eps,expected_tokens', [(0.0, 144), (0.5, 96),
                                                 (0.75, 72)])
def test_head_sees_fewer_tokens(eps, expected_tokens):
    model = build_tiny_model(full_key_frame=True, prune_ratio=eps).eval()
    seen = {}

    def record(name):

        def hook(module, inputs, output):
            seen[name] = tuple(inputs[0].shape)

        return hook

    model.backbone.layers[model.backbone.prune_layer].register_forward_hook(
        record('joint'))
    model.head.temporal_layers[0].register_forward_hook(record('head'))
    clips, samples = make_batch(batch_size=2)
    with torch.no_grad():
        model(clips, samples, mode='tensor')
    # 8x6 tokens per frame, 3 frames: 48 key-frame tokens + (1 - eps) of 96
    # supporting tokens
    assert seen['joint'] == (2, expected_tokens, 96)
    assert seen['head'] == (2, expected_tokens, 96)


def test_gradients_reach_all_stages_and_loss_decreases():
    model = build_tiny_model(prune_ratio=0.5).train()
    clips, samples = make_batch(batch_size=4)
    losses = model(clips, samples, mode='loss')
    assert set(losses) == {'loss_kpt', 'acc_pose'}
    losses['loss_kpt'].backward()
    for name in [
            'backbone.patch_embed.projection.weight',
            'backbone.layers.0.attn.qkv.weight',
            'backbone.layers.3.ffn.layers.1.weight', 'backbone.frame_embed',
            'backbone.fine_stem.0.conv.weight',
            'head.fusion.depthwise_conv.conv.weight',
            'head.fusion.pointwise_conv.conv.weight', 'head.final_layer.weight'
    ]:
        grad = dict(model.named_parameters())[name].grad
        assert grad is not None and grad.abs().sum() > 0, name

    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    history = []
    for _ in range(12):
        optimizer.zero_grad()
        loss = model(clips, samples, mode='loss')['loss_kpt']
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    assert history[-1] < 0.75 * history[0], history


def test_predict_maps_keypoints_to_image_coordinates_with_flip_test():
    model = build_tiny_model().eval()
    model.test_cfg = dict(
        flip_test=True, flip_mode='heatmap', shift_heatmap=False)
    clips, samples = make_batch(batch_size=2)
    with torch.no_grad():  # identity crop: input space == image space
        in_input_space = model(
            clips, samples, mode='predict')[0].pred_instances.keypoints.copy()
    clips, samples = make_batch(batch_size=2)
    # the crop covers the image region x in [100, 300], y in [50, 200]
    for s in samples:
        s.set_metainfo(
            dict(
                input_center=np.array([200., 125.]),
                input_scale=np.array([200., 150.])))
    with torch.no_grad():
        results = model(clips, samples, mode='predict')
    kpts = results[0].pred_instances.keypoints
    assert kpts.shape == (1, 17, 2)
    expected = in_input_space / np.array([96., 128.]) * np.array(
        [200., 150.]) + np.array([100., 50.])
    np.testing.assert_allclose(kpts, expected, rtol=1e-5)
    assert results[0].pred_instances.keypoint_scores.shape == (1, 17)


def test_complexity_analysis_runs_and_pruning_reduces_flops():
    from mmengine.analysis import get_model_complexity_info
    flops = {}
    for eps in (0.0, 0.5):
        model = build_tiny_model(prune_ratio=eps).eval()
        info = get_model_complexity_info(
            model,
            inputs=(torch.randn(1, 3, 3, 128, 96), None),
            show_table=False,
            show_arch=False)
        flops[eps] = info['flops']
        assert info['params'] > 0
    # Pruning removes 48 of the 96 supporting tokens from the 4 ViT layers
    # (the key-frame reduction from layer 1 on is the same at both ratios).
    # MMEngine counts the linear layers of a ViT layer as 12 * C^2 MACs per
    # token (C = 96); attention is not counted.
    expected_saving = 48 * 4 * 12 * 96**2
    assert abs((flops[0.0] - flops[0.5]) -
               expected_saving) < 0.05 * expected_saving


@pytest.mark.parametrize('head,reach', [
    (dict(fusion_kernel_size=1, separable_fusion=False), 0),
    (dict(separable_fusion=True), 1),
    (dict(separable_fusion=False), 1),
])
def test_fusion_kernel_sets_the_reach_of_a_fine_feature(head, reach):
    """A change of the fine-grained features at one pixel moves the heatmaps
    within the fusion kernel's reach only (1x1: that pixel; 3x3 and separable
    3x3: its 3x3 neighbourhood)."""
    cfg = tiny_model_cfg()
    cfg.head.update(head)
    torch.manual_seed(0)
    model = MODELS.build(cfg).eval()
    feats = model.extract_feat(make_batch(batch_size=1)[0])
    fine = feats[1].clone()
    fine[:, :, 10, 8] += 5.0
    with torch.no_grad():
        diff = (model.head(
            (feats[0], fine)) - model.head(feats)).abs().amax(dim=(0, 1))
    ys, xs = torch.nonzero(diff > 1e-6, as_tuple=True)
    assert ys.numel() > 0
    assert ys.min() == 10 - reach and ys.max() == 10 + reach
    assert xs.min() == 8 - reach and xs.max() == 8 + reach


def test_separable_fusion_needs_a_3x3_kernel():
    cfg = tiny_model_cfg()
    cfg.head.update(separable_fusion=True, fusion_kernel_size=1)
    with pytest.raises(ValueError, match='separable_fusion needs'):
        MODELS.build(cfg)
