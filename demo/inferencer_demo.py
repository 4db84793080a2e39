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

    # COCO detection results (PoseTrack frame_id image ids, or --det-ann-file)
    python demo/inferencer_demo.py frames_folder/ --pose2d CONFIG \\
        --pose2d-weights CKPT --det-results detections.json \\
        --vis-out-dir vis_results

    # live: a webcam, camera index, rtsp:// / http:// URL, or a file with
    # --stream; latency lines every --status-interval s; Ctrl-C stops and
    # keeps the outputs
    python demo/inferencer_demo.py webcam --pose2d CONFIG \\
        --pose2d-weights CKPT --det-model rtmdet_tiny_8xb32-300e_coco \\
        --det-weights rtmdet_tiny_8xb32-300e_coco_20220902_112414-78e30dcc.pth
"""
import argparse
import os.path as osp
import time

from mgpose_mm.apis import (DetectionResultsBoxes, IoUTracker,
                            VideoPoseInferencer)
from mgpose_mm.apis.frame_sources import stream_target
from mgpose_mm.errors import run_cli


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter,
                    argparse.RawDescriptionHelpFormatter):
    """The module docstring as description, and every option's default."""


def add_run_options(add) -> None:
    """Options of the input, the outputs, thresholds and drawing."""
    add('--device', help='Device; none given: CUDA when available, else CPU')
    add('--stream',
        action='store_true',
        help='Read a video file as a live stream (implied for webcams and '
        'URLs): each frame as soon as its clip is complete, latency lines')
    add('--realtime',
        action='store_true',
        help='Live input: deliver a file\'s frames no faster than its fps')
    add('--max-frames',
        type=int,
        help='Live input: stop after this many frames')
    add('--status-interval',
        type=float,
        default=2.0,
        help='Live input: seconds between latency lines')
    add('--fps',
        type=float,
        help='Output frame rate; none given: the input\'s')
    add('--show', action='store_true', help='Show the drawn frames')
    add('--vis-out-dir',
        default='',
        help='Folder for the drawn video (<input name>.mp4) or image')
    add('--pred-out-dir',
        default='',
        help='Folder for the predictions (<input name>.json)')
    add('--bbox-thr', type=float, default=0.3, help='Box score threshold')
    add('--nms-thr', type=float, default=0.3, help='Box NMS IoU threshold')
    add('--track-iou-thr',
        type=float,
        default=0.3,
        help='Minimum IoU linking a box to a track')
    add('--track-max-age',
        type=int,
        default=5,
        help='Frames a lost track keeps its id')
    add('--kpt-thr',
        type=float,
        default=0.3,
        help='Keypoints with a lower score are not drawn')
    add('--radius', type=int, default=3, help='Keypoint radius (drawing)')
    add('--thickness', type=int, default=1, help='Link thickness (drawing)')
    add('--batch-size',
        type=int,
        default=16,
        help='Person clips per forward pass')
    add('--trust-checkpoint',
        action='store_true',
        help='Allow a full unpickle of checkpoints holding other Python '
        'objects than weights (runs code from the file: trusted files only)')
    add('--show-progress', action='store_true', help='Show a progress bar')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=HelpFormatter)
    add = parser.add_argument
    add('inputs',
        help='Video file, folder of frames, image file; "webcam", "webcam:N", '
        'a camera index or an rtsp:// / http(s):// stream URL')
    add('--pose2d',
        required=True,
        help='Config file or model-zoo name of configs/ftp_pose/ftp_pose.yml')
    add('--pose2d-weights',
        help='Checkpoint file or URL (none: random weights, with a warning)')
    add('--det-model',
        help='Detector: "whole_image" (none), an MMDetection model-zoo name '
        'or alias, or a config file; none given: MMPose\'s person detector')
    add('--det-weights', help='Detector weights file (or URL)')
    add('--det-cat-ids',
        type=int,
        nargs='+',
        default=[0],
        help='Person label(s) of the detector')
    add('--bboxes',
        metavar='FILE',
        help='Your own person boxes instead of a detector: JSON '
        '{"frame index": [[x1, y1, x2, y2, score], ...]}')
    add('--det-results',
        metavar='FILE',
        help='COCO detection results instead of a detector (image ids: '
        'PoseTrack frame_ids, or mapped by --det-ann-file)')
    add('--det-ann-file',
        metavar='FILE',
        help='COCO-style annotation JSON mapping the image ids of '
        '--det-results to frames (number at the end of file_name)')
    add('--video-id',
        help='The video of --det-results among several (vid_id or folder '
        'name); none given: the one named like the input')
    add_run_options(add)
    args = parser.parse_args(argv)
    for name in ('pose2d_weights', 'det_weights', 'bboxes', 'det_results',
                 'det_ann_file'):
        path = getattr(args, name)
        option = '--' + name.replace('_', '-')
        if path and '://' not in path and osp.isdir(path):
            parser.error(f'{option} {path} is a folder, not a file')
        if path and '://' not in path and not osp.exists(path):
            parser.error(f'{option} {path}: no such file')
    for name in ('vis_out_dir', 'pred_out_dir'):
        path = getattr(args, name)
        if path and osp.exists(path) and not osp.isdir(path):
            parser.error(f'--{name.replace("_", "-")} {path} is a file, not '
                         'a folder')
    if stream_target(args.inputs) is None and not osp.exists(args.inputs):
        parser.error(f'inputs {args.inputs}: no such file or folder')
    if args.pose2d.endswith('.py') and osp.isdir(args.pose2d):
        parser.error(f'--pose2d {args.pose2d} is a folder, not a file')
    if sum(
            map(bool, (args.bboxes, args.det_results, args.det_model
                       not in (None, 'whole_image')))) > 1:
        parser.error('give the person boxes one way: --det-model, --bboxes '
                     'or --det-results')
    if (args.det_ann_file or args.video_id) and not args.det_results:
        parser.error('--det-ann-file and --video-id need --det-results')
    if args.batch_size < 1:
        parser.error(f'--batch-size must be >= 1, got {args.batch_size}')
    return args


def main(argv=None):
    """Run the inferencer over ``inputs``; print latency lines (live input) and
    a summary line.

    Returns:
        LatencyStats: the latency of the frames.
    """
    args = parse_args(argv)
    bboxes = args.bboxes
    if args.det_results:
        bboxes = DetectionResultsBoxes(
            args.det_results,
            ann_file=args.det_ann_file,
            video=args.video_id,
            video_hint=osp.basename(osp.normpath(args.inputs)),
            bbox_thr=args.bbox_thr,
            nms_thr=args.nms_thr)
    inferencer = VideoPoseInferencer(
        pose2d=args.pose2d,
        pose2d_weights=args.pose2d_weights,
        device=args.device,
        det_model='whole_image' if bboxes else args.det_model,
        det_weights=args.det_weights,
        det_cat_ids=args.det_cat_ids,
        tracker=IoUTracker(args.track_iou_thr, args.track_max_age),
        trust_checkpoint=args.trust_checkpoint,
        show_progress=args.show_progress)
    live = args.stream or stream_target(args.inputs) is not None
    call_args = dict(
        bboxes=bboxes,
        bbox_thr=args.bbox_thr,
        nms_thr=args.nms_thr,
        fps=args.fps,
        show=args.show,
        vis_out_dir=args.vis_out_dir,
        pred_out_dir=args.pred_out_dir,
        kpt_thr=args.kpt_thr,
        radius=args.radius,
        thickness=args.thickness)
    if live:
        call_args.update(
            stream=True, realtime=args.realtime, max_frames=args.max_frames)
    instances, next_status = 0, time.perf_counter() + args.status_interval
    for result in inferencer(
            args.inputs, batch_size=args.batch_size, **call_args):
        instances += len(result['predictions'][0])
        if live and time.perf_counter() >= next_status:
            print(inferencer.latency.line())
            next_status = time.perf_counter() + args.status_interval
    stats = inferencer.latency.summary()
    print(f'{stats["frames"]} frames, {instances} person instances; latency '
          f'median {stats["latency_median_ms"]:.1f} ms, p95 '
          f'{stats["latency_p95_ms"]:.1f} ms; {stats["fps"]:.2f} frames per '
          'second (detection + pose + writing)')
    return inferencer.latency


if __name__ == '__main__':
    run_cli(main)
