"""FLOPs: the FlopAnalyzer handles for attention and pairwise distances, and
the documented table."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.analysis import FlopAnalyzer

from mgpose_mm.benchmark.flops import cdist_macs, sdpa_macs


class Ops(torch.nn.Module):

    def forward(self, q, k, v, x1, x2):
        return F.scaled_dot_product_attention(q, k, v), torch.cdist(x1, x2)


def test_handles_count_attention_and_cdist_products():
    inputs = (torch.randn(2, 3, 5, 8), torch.randn(2, 3, 7, 8),
              torch.randn(2, 3, 7, 4), torch.randn(2, 6,
                                                   10), torch.randn(2, 9, 10))
    analyzer = FlopAnalyzer(Ops(), inputs)
    analyzer.set_op_handle(**{
        'aten::scaled_dot_product_attention': sdpa_macs,
        'aten::cdist': cdist_macs
    })
    ops = analyzer.by_operator()
    assert ops['scaled_dot_product_attention'] == 2 * 3 * 5 * 7 * (
        8 + 4)  # QK^T + AV
    assert ops['cdist'] == 2 * 6 * 9 * 10


def test_dpc_scoring_cost_counts_the_distances_of_the_clip():
    from test_benchmark import (CHANNELS, FRAMES, TOKENS_PER_FRAME, tiny_clips,
                                tiny_spec)

    from mgpose_mm.benchmark import build_model, model_cost
    from mgpose_mm.benchmark.flops import STAGE_PRUNING
    model = build_model(tiny_spec(0.5))
    model.backbone.pruner.merge = False
    cost = model_cost(model, tiny_clips(2))
    # distances among all T*n tokens of the clip
    full = FRAMES * TOKENS_PER_FRAME
    scoring = 2 * full**2 * CHANNELS
    assert cost.stage(STAGE_PRUNING).scoring_macs == scoring
    # merging adds the distances of the removed to the kept supporting tokens
    model.backbone.pruner.merge = True
    removed = kept = (FRAMES - 1) * TOKENS_PER_FRAME // 2
    cost = model_cost(model, tiny_clips(2))
    assert cost.stage(STAGE_PRUNING).scoring_macs == \
        scoring + 2 * removed * kept * CHANNELS


def _docstring_table(doc):
    """Rows of the reST table in ``doc``: label -> the numbers at the end of
    the row."""
    lines = [line.strip() for line in doc.splitlines()]
    borders = [i for i, line in enumerate(lines) if line.startswith('====')]
    rows = {}
    for line in lines[borders[1] + 1:borders[2]]:
        *label, a, b, c = line.split()
        rows[' '.join(label)] = [float(a), float(b), float(c)]
    return rows


def test_estimator_docstring_gflops_table_matches_the_counter():
    """The per-stage table in VideoTopdownPoseEstimator's docstring is the
    default config's cost."""
    from conftest import REPO_ROOT
    from mmengine.config import Config
    from mmpose.registry import MODELS

    from mgpose_mm.benchmark.flops import (STAGE_FINE, STAGE_FRAMES,
                                           STAGE_HEAD, STAGE_JOINT,
                                           STAGE_PRUNING, model_cost)
    from mgpose_mm.models.pose_estimators import VideoTopdownPoseEstimator
    table = _docstring_table(VideoTopdownPoseEstimator.__doc__)
    stages = dict(
        zip(table, (STAGE_FRAMES, STAGE_FINE, STAGE_PRUNING, STAGE_JOINT,
                    STAGE_HEAD, 'total')))
    assert len(stages) == len(table) == 6
    cfg = Config.fromfile(f'{REPO_ROOT}/configs/ftp_pose/posetrack18/'
                          'ftp-pose_vit-base_8xb32-20e_posetrack18-256x192.py')
    cfg.model.backbone.pop('init_cfg', None)
    width, height = cfg.codec.input_size
    for column, eps in enumerate((0.0, 0.5, 0.9)):
        cfg.model.backbone.pruner.prune_ratio = eps
        torch.manual_seed(0)
        cost = model_cost(
            MODELS.build(cfg.model).eval(),
            torch.randn(1, 3, 3, height, width))
        for label, stage in stages.items():
            macs = cost.total_macs if stage == 'total' else cost.stage(
                stage).total_macs
            assert table[label][column] == pytest.approx(
                macs / 1e9, abs=0.005), (label, eps)
