"""Export an FTP-Pose model to ONNX: clips (B, T, 3, H, W) -> key-frame
heatmaps (B, K, H/4, W/4).

Example::

    python tools/deployment/pytorch2onnx.py CONFIG work_dirs/ftp/best.pth \
        --output-file ftp-pose.onnx --eps 0.5 --verify

The input is the *normalised* clip (the output of
``VideoPoseDataPreprocessor``: RGB, mean/std applied); decoding heatmaps to
keypoints stays outside the graph, as in MMPose's deployments.
"""
import argparse
import sys

import torch

from mgpose_mm.deployment import (clip_shape, export_onnx, load_pose_model,
                                  onnx_op_counts, verify_onnx)
from mgpose_mm.errors import run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='FTP-Pose config file')
    parser.add_argument(
        'checkpoint',
        help="checkpoint file, or 'none' for random weights (testing only)")
    parser.add_argument(
        '--output-file', required=True, help='destination .onnx file')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='allow a full unpickle of a checkpoint that holds other Python '
        'objects than weights and MMEngine checkpoint data (runs any code in '
        'it)')
    parser.add_argument(
        '--eps',
        type=float,
        default=None,
        help='pruning ratio baked into the graph '
        "(default: the config's model.backbone.pruner.prune_ratio)")
    parser.add_argument(
        '--batch-size', type=int, default=1, help='batch of the tracing input')
    parser.add_argument(
        '--static-batch',
        action='store_true',
        help='fix the batch axis (default: dynamic)')
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument(
        '--output-kept-index',
        action='store_true',
        help='add a second output: source position of every kept token (B, M)')
    parser.add_argument(
        '--verify',
        action='store_true',
        help='compare onnxruntime with PyTorch on a random clip batch')
    parser.add_argument(
        '--atol',
        type=float,
        default=1e-4,
        help='--verify tolerance on the heatmaps')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    checkpoint = None if args.checkpoint.lower() == 'none' else args.checkpoint
    model = load_pose_model(
        args.config,
        checkpoint,
        eps=args.eps,
        trust_checkpoint=args.trust_checkpoint)
    shape = clip_shape(model, args.batch_size)
    pruner = model.backbone.pruner
    eps = pruner.prune_ratio if pruner is not None else 0
    print(f'exporting {args.config} (eps={eps:g}, '
          f'input {shape}) to {args.output_file}')
    export_onnx(
        model,
        args.output_file,
        batch_size=args.batch_size,
        opset=args.opset,
        dynamic_batch=not args.static_batch,
        output_kept_index=args.output_kept_index)
    ops = onnx_op_counts(args.output_file)
    print(f'onnx.checker: OK; {sum(ops.values())} nodes; ' +
          ', '.join(f'{k}: {v}' for k, v in sorted(ops.items())))
    if args.verify:
        clips = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
        report = verify_onnx(model, args.output_file, clips, atol=args.atol)
        kept = report['kept_index_equal']
        if kept is None:
            kept = 'n/a (export with --output-kept-index to compare)'
        print('onnxruntime vs PyTorch: max abs diff '
              f"{report['max_abs_diff']:.3e} (tolerance {args.atol:g}), "
              f"kept tokens equal: {kept}, outputs {report['output_shapes']}")
        if not report['passed']:
            sys.exit('verification FAILED')
        print('verification passed')


if __name__ == '__main__':
    run_cli(main)
