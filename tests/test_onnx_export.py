"""ONNX export of FTP-Pose (tiny config): onnxruntime matches PyTorch, DPC ops
export, CLI works."""
import importlib.util
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT, TINY_CONFIG
from model_utils import build_tiny_model, unit_scale_head


@pytest.fixture(scope='module')
def tiny_checkpoint(tmp_path_factory):
    """A tiny-model checkpoint whose heatmaps are O(1)."""
    model = unit_scale_head(build_tiny_model(seed=1))
    path = str(tmp_path_factory.mktemp('ckpt') / 'tiny.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path


@pytest.mark.parametrize('eps,kept', [(0.5, 96), (0.0, 144)])
def test_export_matches_pytorch(tmp_path, tiny_checkpoint, eps, kept):
    from mgpose_mm.deployment import (export_onnx, load_pose_model,
                                      onnx_op_counts, verify_onnx)
    model = load_pose_model(TINY_CONFIG, tiny_checkpoint, eps=eps)
    assert model.backbone.pruner.prune_ratio == eps
    path = export_onnx(
        model,
        str(tmp_path / 'tiny.onnx'),
        batch_size=1,
        output_kept_index=True)
    # Traced at batch 1, run at batch 3: the batch axis is dynamic.
    clips = torch.randn(
        3, 3, 3, 128, 96, generator=torch.Generator().manual_seed(2))
    report = verify_onnx(model, path, clips, atol=1e-4)
    assert report['output_shapes'] == {
        'heatmaps': [3, 17, 32, 24],
        'kept_token_index': [3, kept]
    }
    assert report['kept_index_equal'] is True
    assert report['max_abs_diff'] <= 1e-4 and report['passed']
    with torch.inference_mode():
        # the tolerance is small relative to the output
        assert model._forward(clips).abs().max() > 0.1
    # token selection (DPC over the supporting frames, the key frame's
    # reduction at eps 0 too) lives in the graph: top-k -> TopK
    assert 'TopK' in onnx_op_counts(path)


def test_export_rejects_random_selector(tmp_path):
    from mgpose_mm.deployment import load_pose_model
    config = tmp_path / 'random.py'
    config.write_text(
        f'_base_ = [{TINY_CONFIG!r}]\n'
        "model = dict(backbone=dict(pruner=dict(selector='random')))\n")
    with pytest.raises(ValueError, match="selector='random'"):
        load_pose_model(str(config))


def test_export_rejects_missing_checkpoint(tmp_path):
    from mgpose_mm.deployment import load_pose_model
    with pytest.raises(FileNotFoundError, match='nothing.pth'):
        load_pose_model(TINY_CONFIG, str(tmp_path / 'nothing.pth'))


def test_pytorch2onnx_cli_verifies(tmp_path, tiny_checkpoint, capsys):
    spec = importlib.util.spec_from_file_location(
        'pytorch2onnx',
        osp.join(REPO_ROOT, 'tools', 'deployment', 'pytorch2onnx.py'))
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    out_file = tmp_path / 'cli.onnx'
    cli.main([
        TINY_CONFIG, tiny_checkpoint, '--output-file',
        str(out_file), '--eps', '0.25', '--batch-size', '2', '--verify'
    ])
    printed = capsys.readouterr().out
    assert out_file.is_file()
    assert 'eps=0.25' in printed and 'verification passed' in printed
    diff = float(printed.split('max abs diff ')[1].split()[0])
    assert diff <= 1e-4


def test_seeded_random_scores_trace_as_a_constant():
    """The random-selection ablation's eval scores (a seeded generator) trace
    on every torch (torch 2.1's tracer cannot record a Generator argument), as
    the FLOP counter and the exporter trace models."""
    from mgpose_mm.models.necks.token_selectors import random_scores
    tokens = torch.randn(2, 6, 4)
    eager = random_scores(tokens, 3, False)
    traced = torch.jit.trace(
        lambda t: random_scores(t, 3, False) + 0 * t[..., 0], tokens)
    torch.testing.assert_close(traced(tokens), eager, rtol=0, atol=0)
    torch.testing.assert_close(traced(torch.randn(2, 6, 4)), eager)
