"""The FlopAnalyzer handles of mgpose_mm.benchmark.flops for attention and pairwise distances."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.analysis import FlopAnalyzer

from mgpose_mm.benchmark.flops import cdist_macs, sdpa_macs


class Ops(torch.nn.Module):

    def forward(self, q, k, v, x1, x2):
        return F.scaled_dot_product_attention(q, k, v), torch.cdist(x1, x2)


def test_handles_count_attention_and_cdist_products():
    inputs = (torch.randn(2, 3, 5, 8), torch.randn(2, 3, 7, 8), torch.randn(2, 3, 7, 4),
              torch.randn(2, 6, 10), torch.randn(2, 9, 10))
    analyzer = FlopAnalyzer(Ops(), inputs)
    analyzer.set_op_handle(**{'aten::scaled_dot_product_attention': sdpa_macs, 'aten::cdist': cdist_macs})
    ops = analyzer.by_operator()
    assert ops['scaled_dot_product_attention'] == 2 * 3 * 5 * 7 * (8 + 4)  # QK^T + AV
    assert ops['cdist'] == 2 * 6 * 9 * 10


@pytest.mark.parametrize('scope, divisor', [('clip', 1), ('frame', 3)])
def test_dpc_scoring_cost_follows_the_score_scope(scope, divisor):
    from mgpose_mm.benchmark import build_model, model_cost
    from mgpose_mm.benchmark.flops import STAGE_NECK
    from test_benchmark import CHANNELS, FRAMES, TOKENS_PER_FRAME, tiny_clips, tiny_spec
    model = build_model(tiny_spec(0.5))
    model.neck.score_scope = scope
    cost = model_cost(model, tiny_clips(2))
    # clip scope: distances among all T*n tokens; frame scope: among the n tokens of each frame
    full = FRAMES * TOKENS_PER_FRAME
    assert cost.stage(STAGE_NECK).scoring_macs == 2 * full**2 * CHANNELS // divisor
