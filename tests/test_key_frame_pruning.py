"""Key-frame token reduction in the middle of the ViT: which tokens go, that
the later layers really run on fewer tokens, and that the removed ones come
back before the head."""
import copy

import pytest
import torch
from conftest import TINY_CONFIG
from mmengine.config import Config
from mmpose.registry import MODELS

from mgpose_mm.errors import ConfigValueError
from mgpose_mm.models.utils import VideoTokens


def _model(key_prune_layer=2, key_prune_ratio=0.5, selector='dpc'):
    import mgpose_mm  # noqa: F401
    cfg = copy.deepcopy(Config.fromfile(TINY_CONFIG).model)
    cfg.backbone.key_prune_layer = key_prune_layer
    cfg.backbone.pruner.update(
        key_prune_ratio=key_prune_ratio, selector=selector)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model.eval()


def _clips(batch=2):
    return torch.randn(
        batch, 3, 3, 128, 96, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize('selector', ['dpc', 'random'])
def test_key_selection_keeps_every_supporting_token(selector):
    import mgpose_mm  # noqa: F401
    neck = MODELS.build(
        dict(
            type='DPCTokenPruning',
            prune_ratio=0.5,
            key_prune_ratio=0.75,
            selector=selector))
    n = 12
    # kept tokens of a pruned clip: 3 of frame 0, all 12 of the key frame
    # (frame 1), 2 of frame 2
    index = torch.tensor([[0, 4, 7, *range(12, 24), 30, 35]] * 2)
    tokens = torch.randn(2, index.shape[1], 8)
    keep = neck.select_key_tokens(VideoTokens(tokens, index, 3, 1, (3, 4)))
    assert keep.shape == (2, 17 - 9)  # 12 - floor(0.75 * 12) = 3 key tokens
    for row in keep:
        assert torch.equal(row, row.sort().values)
        kept_index = index[0, row]
        assert {0, 4, 7, 30, 35} <= set(kept_index.tolist())
        assert ((kept_index >= n) & (kept_index < 2 * n)).sum() == 3


def test_later_layers_run_on_fewer_tokens_and_removed_ones_come_back():
    model = _model(key_prune_layer=2, key_prune_ratio=0.5)
    backbone, pruner = model.backbone, model.backbone.pruner
    seen = {}
    for i, layer in enumerate(backbone.layers):
        layer.register_forward_pre_hook(
            lambda m, args, i=i: seen.__setitem__(i, args[0].shape[1]))
    clips = _clips()
    with torch.no_grad():
        out, _ = backbone(clips)
        pruned = pruner(backbone.forward_frames(clips))
        x = pruned.tokens + backbone.frame_embedding(pruned)
        for layer in backbone.layers[:2]:
            x = layer(x)
    n = pruned.tokens_per_frame
    full = pruned.tokens.shape[1]
    assert seen[0] == seen[1] == full
    assert seen[2] == seen[3] == full - n // 2
    # every position is back, in the layout of the pruned clip
    assert out.tokens.shape == (2, full, backbone.embed_dims)
    assert torch.equal(out.index, pruned.index)
    # a removed key-frame token keeps its layer-2 features (final norm on)
    keep = pruner.select_key_tokens(pruned._replace(tokens=x))
    removed = [p for p in range(full) if p not in set(keep[0].tolist())]
    assert len(removed) == n // 2
    torch.testing.assert_close(out.tokens[0, removed],
                               backbone.ln1(x)[0, removed])
    # and a kept one went on through layers 2 and 3
    assert not torch.allclose(out.tokens[0, keep[0]],
                              backbone.ln1(x)[0, keep[0]])


def test_key_reduction_adds_no_weights_and_predicts_whole_heatmaps():
    plain = _model(key_prune_layer=None, key_prune_ratio=0.0)
    reduced = _model(key_prune_layer=2, key_prune_ratio=0.5)
    reduced.load_state_dict(plain.state_dict(), strict=True)
    with torch.no_grad():
        heatmaps = reduced(_clips(), None, mode='tensor')
        same = plain(_clips(), None, mode='tensor')
        tokens = reduced.extract_feat(_clips())[0].tokens
        all_layers = plain.extract_feat(_clips())[0].tokens
    assert heatmaps.shape == same.shape == (2, 17, 32, 24)
    # the same tokens come out, but the removed ones skipped layers 2-3
    assert tokens.shape == all_layers.shape
    assert not torch.allclose(tokens, all_layers, atol=1e-3)


@pytest.mark.parametrize('layer, ratio, message', [
    (0, 0.5, 'key_prune_layer must be in'),
    (4, 0.5, 'key_prune_layer must be in'),
    (None, 0.5, 'key_prune_ratio > 0 needs key_prune_layer'),
    (2, 1.0, 'key_prune_ratio must be in')
])
def test_bad_key_reduction_settings_fail_at_build(layer, ratio, message):
    with pytest.raises(ConfigValueError, match=message):
        _model(key_prune_layer=layer, key_prune_ratio=ratio)
