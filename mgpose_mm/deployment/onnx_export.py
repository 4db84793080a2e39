"""ONNX export of FTP-Pose: person clips (B, T, 3, H, W) -> key-frame heatmaps
(B, K, H/4, W/4).

The graph is traced with torch's TorchScript-based exporter
(``torch.onnx.export(..., dynamo=False)`` where torch has the switch, opset 17)
at a fixed epsilon: the number of kept tokens M is a constant of the graph,
while the batch axis stays dynamic. DPC scoring exports as it is written in
:mod:`mgpose_mm.models` (``cdist`` becomes MatMul/Sqrt arithmetic, ``topk`` and
``sort`` become ``TopK``, ``gather`` becomes ``GatherElements``); no
replacement op is needed. The random-selection ablation is not exportable as a
deterministic graph and is rejected.
"""
import os
import os.path as osp
import warnings
from collections import Counter
from typing import Dict, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn

from ..benchmark.specs import ModelSpec, model_config
from ..engine.torch_compat import onnx_export_kwargs
from ..utils import check_file

INPUT_NAME = 'clips'
OUTPUT_NAMES = ('heatmaps', 'kept_token_index')


class HeatmapExportWrapper(nn.Module):
    """The estimator's tensor forward (``extract_feat`` + ``head.forward``) as
    a plain module.

    Args:
        model (nn.Module): A :class:`VideoTopdownPoseEstimator` in eval mode.
        output_kept_index (bool): Also return the source position of every
            kept token (B, M), int64, to check that the exported graph keeps
            the same tokens as PyTorch.
    """

    def __init__(self, model: nn.Module, output_kept_index: bool = False):
        super().__init__()
        self.model = model
        self.output_kept_index = output_kept_index

    def forward(self, clips: torch.Tensor):
        video_tokens, fine_feats = self.model.extract_feat(clips)
        heatmaps = self.model.head.forward((video_tokens, fine_feats))
        if self.output_kept_index:
            return heatmaps, video_tokens.index
        return heatmaps


def load_pose_model(config: str,
                    checkpoint: Optional[str] = None,
                    eps: Optional[float] = None,
                    device: str = 'cpu',
                    trust_checkpoint: bool = False) -> nn.Module:
    """Build the config's model (pretrained ``init_cfg`` removed), load
    ``checkpoint`` strictly and optionally override epsilon
    (``model.backbone.pruner.prune_ratio``).

    Returns the model in eval mode. ``trust_checkpoint`` allows a full unpickle
    of a checkpoint holding other types than weights and MMEngine checkpoint
    data (see :mod:`mgpose_mm.engine.safe_checkpoint_io`).
    """
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    from mmpose.registry import MODELS

    import mgpose_mm  # noqa: F401
    from mgpose_mm.engine import trusted_checkpoints

    cfg, model_cfg = model_config(
        ModelSpec('export', 'export', config, 'ftp-pose', prune_ratio=eps))
    selector = (model_cfg['backbone'].get('pruner') or {}).get('selector')
    if selector == 'random':
        raise ValueError(
            f"{config}: model.backbone.pruner.selector='random' draws "
            'random numbers at run time and cannot be exported as a '
            "deterministic graph; export a 'dpc' model")
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    model = MODELS.build(model_cfg)
    if not hasattr(getattr(model, 'backbone', None), 'forward_frames'):
        raise TypeError(
            f'{config}: ONNX export expects a video (clip) model such as '
            f'FTP-Pose, got backbone {type(model.backbone).__name__}')
    if checkpoint is not None:
        check_file(checkpoint, 'checkpoint file')
        with trusted_checkpoints(trust_checkpoint):
            load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return model.to(device).eval()


def clip_shape(model: nn.Module,
               batch_size: int = 1) -> Tuple[int, int, int, int, int]:
    """Input shape (B, T, 3, H, W) of the model: T from the backbone, (W, H)
    from the head's codec."""
    width, height = model.head.decoder.input_size
    return batch_size, model.backbone.num_frames, 3, int(height), int(width)


def export_onnx(model: nn.Module,
                output_file: str,
                batch_size: int = 1,
                opset: int = 17,
                dynamic_batch: bool = True,
                output_kept_index: bool = False) -> str:
    """Export ``model`` to ``output_file`` and check it with ``onnx.checker``.

    Args:
        model (nn.Module): FTP-Pose estimator in eval mode (epsilon fixed in
            its pruner).
        output_file (str): Destination ``.onnx`` path (parent folders are
            created).
        batch_size (int): Batch of the example input used for tracing.
        opset (int): ONNX opset. Defaults to 17.
        dynamic_batch (bool): Keep the batch axis dynamic. Defaults to True.
        output_kept_index (bool): Add the ``kept_token_index`` output (B, M).

    Returns:
        str: ``output_file``.
    """
    import onnx
    wrapper = HeatmapExportWrapper(model, output_kept_index).eval()
    device = next(model.parameters()).device
    example = torch.randn(*clip_shape(model, batch_size), device=device)
    output_names = list(OUTPUT_NAMES[:2 if output_kept_index else 1])
    dynamic_axes = dict.fromkeys([INPUT_NAME, *output_names],
                                 {0: 'batch'}) if dynamic_batch else None
    os.makedirs(osp.dirname(osp.abspath(output_file)), exist_ok=True)
    with warnings.catch_warnings():
        # Python-int shape arithmetic (token counts) is meant to be constant
        # in the graph.
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        warnings.simplefilter('ignore', DeprecationWarning)
        warnings.simplefilter('ignore', FutureWarning)
        with torch.no_grad():
            torch.onnx.export(
                wrapper, (example, ),
                output_file,
                opset_version=opset,
                input_names=[INPUT_NAME],
                output_names=output_names,
                dynamic_axes=dynamic_axes,
                do_constant_folding=True,
                **onnx_export_kwargs())
    onnx.checker.check_model(output_file)
    return output_file


def create_session(onnx_file: str,
                   device: str = 'cpu',
                   num_threads: Optional[int] = None):
    """An onnxruntime session on CUDA when asked for and available, else on
    CPU.

    Worker threads do not spin after a run (``allow_spinning=0``): spinning
    threads would steal the CPU from whatever runs next (e.g. the interleaved
    PyTorch forwards of the benchmark).
    """
    import onnxruntime as ort
    providers = ['CPUExecutionProvider']
    on_cuda = torch.device(device).type == 'cuda'
    if on_cuda and 'CUDAExecutionProvider' in ort.get_available_providers():
        providers.insert(0, 'CUDAExecutionProvider')
    options = ort.SessionOptions()
    options.add_session_config_entry('session.intra_op.allow_spinning', '0')
    if num_threads:
        options.intra_op_num_threads = num_threads
    return ort.InferenceSession(
        onnx_file, sess_options=options, providers=providers)


def verify_onnx(model: nn.Module,
                onnx_file: str,
                clips: torch.Tensor,
                atol: float = 1e-4) -> Dict[str, object]:
    """Run ``clips`` through PyTorch and onnxruntime (CPU) and compare.

    Returns:
        dict: ``max_abs_diff`` of the heatmaps, ``kept_index_equal`` (None
        when the graph has no ``kept_token_index`` output), ``output_shapes``
        and ``passed`` (diff <= atol and same kept tokens).
    """
    session = create_session(onnx_file)
    names = [out.name for out in session.get_outputs()]
    onnx_outputs = dict(
        zip(names, session.run(names, {INPUT_NAME: clips.cpu().numpy()})))
    with torch.inference_mode():
        torch_outputs = HeatmapExportWrapper(
            model, output_kept_index=True)(
                clips)
    heatmaps, kept_index = (t.cpu().numpy() for t in torch_outputs)
    if onnx_outputs['heatmaps'].shape != heatmaps.shape:
        raise ValueError(
            f'ONNX heatmaps have shape {onnx_outputs["heatmaps"].shape}, '
            f'PyTorch {heatmaps.shape}')
    max_abs_diff = float(np.abs(onnx_outputs['heatmaps'] - heatmaps).max())
    kept_equal = None
    if 'kept_token_index' in onnx_outputs:
        kept_equal = bool(
            np.array_equal(onnx_outputs['kept_token_index'], kept_index))
    return dict(
        max_abs_diff=max_abs_diff,
        kept_index_equal=kept_equal,
        output_shapes={
            name: list(value.shape)
            for name, value in onnx_outputs.items()
        },
        passed=max_abs_diff <= atol and kept_equal is not False)


def onnx_op_counts(onnx_file: str) -> Dict[str, int]:
    """Number of nodes of every op type in the exported graph."""
    import onnx
    graph = onnx.load(onnx_file, load_external_data=False).graph
    return dict(Counter(node.op_type for node in graph.node))
