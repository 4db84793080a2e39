"""Model options of the ablation configs: no fine branch, frame-embedding initialisation."""
import pytest
import torch

from mmpose.registry import MODELS

from model_utils import make_batch, tiny_model_cfg


def _build(seed=0, **backbone):
    cfg = tiny_model_cfg()
    cfg.backbone.update(backbone)
    if backbone.get('fine_channels') == 0:
        cfg.head.fine_channels = 0
    torch.manual_seed(seed)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def test_without_fine_branch_the_key_frame_only_reaches_the_head_through_the_tokens():
    model = _build(fine_channels=0).eval()
    assert model.backbone.fine_stem is None
    clips, samples = make_batch(batch_size=2)
    fine = model.backbone.forward_fine(clips)
    assert fine.shape == (2, 0, 32, 24)
    heatmaps = model.head(model.backbone(clips, pruner=model.neck))
    assert heatmaps.shape == (2, 17, 32, 24)
    assert model.head.fusion.conv.in_channels == 64  # the deconv output alone
    losses = _build(fine_channels=0).train().loss(clips, samples)
    assert torch.isfinite(losses['loss_kpt'])
    with pytest.raises(ValueError, match='fine_channels must be >= 0'):
        _build(fine_channels=-1)


def test_frame_embedding_initialisation():
    assert torch.count_nonzero(_build().backbone.frame_embed) == 0
    embed = _build(frame_embed_std=0.02).backbone.frame_embed
    assert embed.shape == (1, 3, 1, 96)
    assert 0.01 < float(embed.std()) < 0.03 and float(embed.abs().max()) <= 0.04 + 1e-6
    with pytest.raises(ValueError, match='frame_embed_std'):
        _build(frame_embed_std=-1.0)
