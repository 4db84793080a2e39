"""Deep, early pruning: merged tokens, clip-length-agnostic weights and the
derived fine width."""
import copy

import pytest
import torch
from conftest import FULL_KEY_FRAME_CONFIG, PAPER_CONFIG, TINY_CONFIG
from mmengine.config import Config
from mmpose.registry import MODELS

from mgpose_mm.errors import ConfigValueError
from mgpose_mm.models.necks.token_merging import merge_into_targets
from mgpose_mm.models.utils import VideoTokens

ONLINE_TINY = TINY_CONFIG.replace('ftp-pose_vit-tiny',
                                  'ftp-pose-online_vit-tiny')


def _build(model_cfg, seed=0):
    import mgpose_mm  # noqa: F401
    torch.manual_seed(seed)
    model = MODELS.build(copy.deepcopy(model_cfg))
    model.init_weights()
    return model.eval()


def _tiny_cfg(config=TINY_CONFIG, **backbone):
    cfg = Config.fromfile(config).model
    cfg.backbone.update(backbone)
    return cfg


def _clips(batch=2, frames=3, seed=1):
    return torch.randn(
        batch,
        frames,
        3,
        128,
        96,
        generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------- merging
def test_merging_averages_every_source_into_its_nearest_target():
    tokens = torch.tensor([[[0., 0.], [10., 0.], [1., 0.], [9., 1.], [2., 0.],
                            [50., 50.]]])
    targets = torch.tensor([[0, 1]])
    sources = torch.tensor([[2, 3, 4]])
    merged = merge_into_targets(tokens, targets, sources)
    # 2 and 4 are nearest to 0, 3 to 1; 5 is neither a target nor a source
    torch.testing.assert_close(merged[0, 0], torch.tensor([1., 0.]))
    torch.testing.assert_close(merged[0, 1], torch.tensor([9.5, 0.5]))
    torch.testing.assert_close(merged[0, 2:], tokens[0, 2:])


def test_merging_passes_gradients_to_the_removed_tokens():
    tokens = torch.randn(2, 12, 4, requires_grad=True)
    targets = torch.tensor([[0, 1, 2], [3, 4, 5]])
    sources = torch.tensor([[6, 7, 8, 9, 10, 11], [0, 1, 2, 6, 7, 8]])
    merged = merge_into_targets(tokens, targets, sources)
    merged.gather(1, targets.unsqueeze(-1).expand(-1, -1, 4)).sum().backward()
    assert (tokens.grad[0, 6:].abs().sum(-1) > 0).all()
    assert (tokens.grad[1, [0, 1, 2, 6, 7, 8]].abs().sum(-1) > 0).all()


def test_merging_pruner_keeps_key_frame_tokens_unchanged():
    import mgpose_mm  # noqa: F401
    neck = MODELS.build(
        dict(type='DPCTokenPruning', prune_ratio=0.75, merge=True))
    n, frames = 12, 3
    tokens = torch.randn(2, frames * n, 8)
    index = torch.arange(frames * n).expand(2, -1)
    kept = neck(VideoTokens(tokens, index, frames, 1, (3, 4)))
    plain = MODELS.build(dict(type='DPCTokenPruning', prune_ratio=0.75))(
        VideoTokens(tokens, index, frames, 1, (3, 4)))
    assert torch.equal(kept.index, plain.index)  # same selection
    is_key = kept.frame_of_token == 1
    torch.testing.assert_close(kept.tokens[is_key], plain.tokens[is_key])
    # the kept supporting tokens absorbed the removed ones
    assert not torch.allclose(kept.tokens[~is_key], plain.tokens[~is_key])
    assert kept.tokens.shape[1] == n + 2 * n - int(0.75 * 2 * n)


# ------------------------------------- clip-length-agnostic weights and width
def test_head_fine_width_is_derived_from_the_backbone():
    for fine_frames, width in (('key', 32), ('all', 96), ('pooled', 97)):
        model = _build(_tiny_cfg(fine_frames=fine_frames))
        assert model.backbone.fine_out_channels == width
        assert model.head.fine_channels == width
        assert model.head.fusion.depthwise_conv.conv.in_channels == 64 + width
    bad = _tiny_cfg(fine_frames='pooled')
    bad.head.fine_channels = 96
    with pytest.raises(
            ConfigValueError,
            match=r'head.fine_channels=96 but the backbone gives '
            r'97 .*leave head.fine_channels out'):
        _build(bad)


def _paper_like(**backbone):
    cfg = Config.fromfile(PAPER_CONFIG).model
    cfg.backbone.update(backbone)
    cfg.backbone.init_cfg = None
    return cfg


def test_one_state_dict_loads_strictly_into_other_clip_lengths_and_online():
    default = Config.fromfile(TINY_CONFIG).model
    five = copy.deepcopy(default)
    five.backbone.update(num_frames=5, key_frame_index=2)
    online = Config.fromfile(ONLINE_TINY).model
    source = _build(default)
    with torch.no_grad():  # trained embeddings are not zero
        source.backbone.frame_embed.normal_(std=0.5)
    state = source.state_dict()
    outputs = {}
    for name, cfg, frames in (('default', default, 3), ('T=5', five, 5),
                              ('online', online, 3)):
        model = _build(cfg, seed=1)
        model.load_state_dict(state, strict=True)
        with torch.no_grad():
            outputs[name] = model._forward(_clips(frames=frames))
        assert outputs[name].shape == (2, 17, 32, 24)
        assert torch.isfinite(outputs[name]).all()
    with torch.no_grad():
        torch.testing.assert_close(outputs['default'],
                                   source._forward(_clips(frames=3)))


def test_frame_offsets_beyond_the_embedding_fail_at_build():
    with pytest.raises(ConfigValueError, match='max_frame_offset=4'):
        _build(_tiny_cfg(num_frames=11, key_frame_index=5))


# ------------------------------------- deep pruning removes the computation
@pytest.mark.parametrize('merge', [False, True])
def test_pruning_at_layer_zero_shrinks_every_later_layer(merge):
    """Backbone and head transformer FLOPs fall with eps as the token count
    predicts: every ViT layer and the head's temporal layer run on the kept
    tokens only."""
    from mgpose_mm.benchmark.flops import STAGE_JOINT, model_cost
    costs = {}
    for eps in (0.0, 0.5, 0.9):
        cfg = _tiny_cfg(FULL_KEY_FRAME_CONFIG, prune_layer=0)
        cfg.backbone.pruner.update(prune_ratio=eps, merge=merge)
        model = _build(cfg)
        seen = []
        for layer in list(model.backbone.layers) + list(
                model.head.temporal_layers):
            layer.register_forward_pre_hook(
                lambda module, args: seen.append(int(args[0].shape[1])))
        cost = model_cost(model, _clips(batch=1))
        kept = 48 + 96 - int(eps * 96)
        assert cost.kept_tokens == kept
        assert set(seen) == {kept} and len(seen) % 5 == 0 and seen
        costs[eps] = cost.stage(STAGE_JOINT).total_macs
    # joint layers: linear layers in M plus attention in M^2
    per_token = (costs[0.0] - costs[0.5]) / (144 - 96)
    assert costs[0.9] < costs[0.5] < costs[0.0]
    assert costs[0.9] == pytest.approx(
        costs[0.0] - per_token * (144 - 58), rel=0.1)
