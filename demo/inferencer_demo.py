"""Video pose estimation from the command line, as MMPose's
``demo/inferencer_demo.py``, with FTP-Pose's model-zoo names.

Examples::

    # a video, no detector (one box per frame covering the image)
    python demo/inferencer_demo.py video.mp4 \\
        --pose2d ftp-pose_vit-tiny_1xb16-12e_synthetic-128x96 \\
        --pose2d-weights epoch_12.pth --det-model whole_image \\
        --vis-out-dir vis_results --pred-out-dir vis_results

    # your own boxes: JSON {"frame index": [[x1, y1, x2, y2, score], ...]}
    python demo/inferencer_demo.py video.mp4 --pose2d CONFIG \\
        --pose2d-weights CKPT --bboxes boxes.json --pred-out-dir preds

    # a webcam with an MMDetection detector (name or config file + weights)
    python demo/inferencer_demo.py webcam --pose2d CONFIG \\
        --pose2d-weights CKPT --det-model rtmdet_tiny_8xb32-300e_coco \\
        --det-weights rtmdet_tiny_8xb32-300e_coco_20220902_112414-78e30dcc.pth
"""
import argparse
import os.path as osp

from mgpose_mm.apis import VideoPoseInferencer
from mgpose_mm.apis.frame_sources import is_stream_input
from mgpose_mm.errors import run_cli


def check_paths(parser, args, files=(), folders=()):
    """``parser.error`` when a file option names a folder or a missing path, or
    a folder option names a file."""
    for name in files:
        path = getattr(args, name)
        option = '--' + name.replace('_', '-')
        if path and '://' not in path and osp.isdir(path):
            parser.error(f'{option} {path} is a folder, not a file')
        if path and '://' not in path and osp.splitext(path)[1] and \
                not osp.exists(path):
            parser.error(f'{option} {path}: no such file')
    for name in folders:
        path = getattr(args, name)
        option = '--' + name.replace('_', '-')
        if path and osp.exists(path) and not osp.isdir(path):
            parser.error(f'{option} {path} is a file, not a folder')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'inputs',
        help='Video file, folder of frames, image file; "webcam", "webcam:N", '
        'a camera index or an rtsp:// / http(s):// stream URL')
    parser.add_argument(
        '--pose2d',
        required=True,
        help='Config file or model-zoo name of configs/ftp_pose/ftp_pose.yml')
    parser.add_argument(
        '--pose2d-weights',
        help='Checkpoint file or URL (none: random weights, with a warning)')
    parser.add_argument(
        '--det-model',
        help='Detector: "whole_image" (none), an MMDetection model-zoo name '
        'or '
        'alias, or a config file (default: MMPose\'s person detector)')
    parser.add_argument('--det-weights', help='Detector weights file (or URL)')
    parser.add_argument(
        '--det-cat-ids',
        type=int,
        nargs='+',
        default=[0],
        help='Person label(s) of the detector (default: 0)')
    parser.add_argument(
        '--bboxes',
        metavar='FILE',
        help='Your own person boxes instead of a detector: JSON '
        '{"frame index": [[x1, y1, x2, y2, score], ...]}')
    parser.add_argument(
        '--device', help='Device (default: CUDA when available, else CPU)')
    parser.add_argument(
        '--stream',
        action='store_true',
        help='Read a video file as a live stream (implied for webcams and '
        'URLs): each frame as soon as its clip is complete')
    parser.add_argument(
        '--show', action='store_true', help='Show the drawn frames')
    parser.add_argument(
        '--vis-out-dir',
        default='',
        help='Folder for the drawn video (<input name>.mp4) or image')
    parser.add_argument(
        '--pred-out-dir',
        default='',
        help='Folder for the predictions (<input name>.json)')
    parser.add_argument(
        '--bbox-thr', type=float, default=0.3, help='Box score threshold')
    parser.add_argument(
        '--nms-thr', type=float, default=0.3, help='Box NMS IoU threshold')
    parser.add_argument(
        '--kpt-thr',
        type=float,
        default=0.3,
        help='Keypoints with a lower score are not drawn')
    parser.add_argument(
        '--radius', type=int, default=3, help='Keypoint radius (drawing)')
    parser.add_argument(
        '--thickness', type=int, default=1, help='Link thickness (drawing)')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=16,
        help='Person clips per forward pass')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='Allow a full unpickle of checkpoints holding other Python '
        'objects than weights (runs code from the file: trusted files only)')
    parser.add_argument(
        '--show-progress', action='store_true', help='Show a progress bar')
    args = parser.parse_args(argv)
    check_paths(
        parser,
        args,
        files=('pose2d_weights', 'det_weights', 'bboxes'),
        folders=('vis_out_dir', 'pred_out_dir'))
    if not is_stream_input(args.inputs) and not osp.exists(args.inputs):
        parser.error(f'inputs {args.inputs}: no such file or folder')
    if args.pose2d.endswith('.py') and osp.isdir(args.pose2d):
        parser.error(f'--pose2d {args.pose2d} is a folder, not a file')
    if args.bboxes and args.det_model not in (None, 'whole_image'):
        parser.error('give the person boxes one way: --det-model or --bboxes')
    if args.batch_size < 1:
        parser.error(f'--batch-size must be >= 1, got {args.batch_size}')
    return args


def main(argv=None):
    args = parse_args(argv)
    inferencer = VideoPoseInferencer(
        pose2d=args.pose2d,
        pose2d_weights=args.pose2d_weights,
        device=args.device,
        det_model='whole_image' if args.bboxes else args.det_model,
        det_weights=args.det_weights,
        det_cat_ids=args.det_cat_ids,
        trust_checkpoint=args.trust_checkpoint,
        show_progress=args.show_progress)
    call_args = dict(
        bboxes=args.bboxes,
        bbox_thr=args.bbox_thr,
        nms_thr=args.nms_thr,
        show=args.show,
        vis_out_dir=args.vis_out_dir,
        pred_out_dir=args.pred_out_dir,
        kpt_thr=args.kpt_thr,
        radius=args.radius,
        thickness=args.thickness)
    if args.stream:
        call_args['stream'] = True
    frames = instances = 0
    for result in inferencer(
            args.inputs, batch_size=args.batch_size, **call_args):
        frames += 1
        instances += len(result['predictions'][0])
    stats = inferencer.latency.summary()
    print(f'{frames} frames, {instances} person instances; latency median '
          f'{stats["latency_median_ms"]:.1f} ms, p95 '
          f'{stats["latency_p95_ms"]:.1f} ms; {stats["fps"]:.2f} frames per '
          'second')
    return inferencer.latency


if __name__ == '__main__':
    run_cli(main)
