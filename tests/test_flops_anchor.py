"""An analytic anchor for the FLOP counter: MMPose's single-frame ViTPose-B at
256x192, counted by hand.

Convention (MMPose's ``get_flops.py``, MMEngine's counter): one multiply-add
is one FLOP; a linear layer of N tokens costs ``N * C_in * C_out``; a
convolution ``positions * C_in * C_out * k * k`` (a transposed one counts its
input positions); a LayerNorm 5 and an eval-mode BatchNorm 2 per element;
activations, additions and softmax are free. Attention is added by
:mod:`mgpose_mm.benchmark.flops`: ``Q K^T`` and ``A V`` cost ``N * N * C``
each.
"""
import pytest
import torch

H, W, PATCH = 256, 192, 16
C, LAYERS, MLP_RATIO = 768, 12, 4
KEYPOINTS, DECONV_CHANNELS, DECONV_KERNEL = 17, 256, 4
LN_PER_ELEMENT, BN_PER_ELEMENT = 5, 2


def vitpose_b_backbone_macs():
    """Patch embedding + 12 transformer layers + the final LayerNorm."""
    n = (H // PATCH) * (W // PATCH)  # 16 x 12 = 192 tokens
    patch_embed = n * (3 * PATCH * PATCH) * C
    qkv = n * C * 3 * C
    proj = n * C * C
    mlp = 2 * n * C * MLP_RATIO * C
    attention = 2 * n * n * C  # Q K^T and A V
    norms = 2 * n * C * LN_PER_ELEMENT
    layer = qkv + proj + mlp + attention + norms
    return patch_embed + LAYERS * layer + n * C * LN_PER_ELEMENT, \
        LAYERS * attention


def vitpose_b_head_macs():
    """Two stride-2 4x4 deconvolutions (768 -> 256 -> 256) with BatchNorm, then
    a 1x1 convolution to 17 heatmaps."""
    h, w = H // PATCH, W // PATCH
    deconv1 = h * w * C * DECONV_CHANNELS * DECONV_KERNEL**2
    bn1 = (2 * h) * (2 * w) * DECONV_CHANNELS * BN_PER_ELEMENT
    deconv2 = (2 * h) * (2 * w) * DECONV_CHANNELS * DECONV_CHANNELS * \
        DECONV_KERNEL**2
    bn2 = (4 * h) * (4 * w) * DECONV_CHANNELS * BN_PER_ELEMENT
    final = (4 * h) * (4 * w) * DECONV_CHANNELS * KEYPOINTS
    return deconv1 + bn1 + deconv2 + bn2 + final


@pytest.fixture(scope='module')
def vitpose_b_cost():
    from mgpose_mm.benchmark.flops import model_cost
    from mgpose_mm.benchmark.specs import PEER_CONFIGS, ModelSpec, build_model
    label, config = PEER_CONFIGS['vitpose_b']
    model = build_model(ModelSpec('vitpose_b', label, config, 'peer'), 'cpu')
    with torch.no_grad():
        return model_cost(model.eval(), torch.randn(1, 3, H, W))


def test_vitpose_b_backbone_is_the_papers_17_1_gflops(vitpose_b_cost):
    from mgpose_mm.benchmark.flops import STAGE_BACKBONE
    backbone, attention = vitpose_b_backbone_macs()
    assert backbone == 17_118_609_408
    assert round(backbone / 1e9, 1) == 17.1  # ViTPose-B's published GFLOPs
    counted = vitpose_b_cost.stage(STAGE_BACKBONE)
    assert counted.attention_macs == attention
    assert counted.total_macs == pytest.approx(backbone, rel=1e-9)


def test_vitpose_b_head_and_total_match_the_analytic_count(vitpose_b_cost):
    from mgpose_mm.benchmark.flops import STAGE_HEAD
    head = vitpose_b_head_macs()
    assert vitpose_b_cost.stage(STAGE_HEAD).total_macs == pytest.approx(
        head, rel=1e-9)
    total = vitpose_b_backbone_macs()[0] + head
    assert round(total / 1e9, 2) == 18.54
    assert vitpose_b_cost.total_macs == pytest.approx(total, rel=1e-9)
