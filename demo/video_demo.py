"""FTP-Pose video demo: person boxes from an MMDetection detector, a detection-
results JSON or your own per-frame boxes, IoU tracking, clip-based pose
estimation, annotated video and predictions JSON.

Examples::

    # with a detector: an MMDetection config name (or file) and its weights, fetched once with
    #   mim download mmdet --config rtmdet_tiny_8xb32-300e_coco --dest .
    python demo/video_demo.py POSE_CONFIG POSE_CKPT --input video.mp4 \\
        --det-config rtmdet_tiny_8xb32-300e_coco \\
        --det-checkpoint rtmdet_tiny_8xb32-300e_coco_20220902_112414-78e30dcc.pth \\
        --output-root vis_results --save-predictions

    # with your own boxes: JSON {"frame index": [[x1, y1, x2, y2, score], ...], ...}
    python demo/video_demo.py POSE_CONFIG POSE_CKPT --input video.mp4 \\
        --bboxes boxes.json --output-root vis_results --save-predictions

    # with COCO-style detection results (PoseTrack frame_id image ids, or --det-ann-file)
    python demo/video_demo.py POSE_CONFIG POSE_CKPT --input frames_folder/ \\
        --det-results detections.json --output-root vis_results --save-predictions

    # live: webcam (or a camera index, an rtsp:// / http:// URL, or a file with --stream);
    # prints per-frame latency and fps; Ctrl-C stops and keeps the output written so far
    python demo/video_demo.py ONLINE_POSE_CONFIG POSE_CKPT --input webcam --show \\
        --det-config rtmdet_tiny_8xb32-300e_coco.py --det-checkpoint rtmdet_tiny.pth
"""
import argparse
import os.path as osp
import warnings

import mmengine
import torch

from mgpose_mm.apis import (DetectionResultsBoxes, FrameBoxesFile, IoUTracker,
                            MMDetBoxes, init_video_pose_model,
                            open_frame_source, run_video_pose)
from mgpose_mm.apis.frame_sources import IMAGE_EXTENSIONS
from mgpose_mm.apis.stream_runner import run_stream_pose
from mgpose_mm.apis.stream_sources import is_stream_input, stream_output_stem
from mgpose_mm.errors import run_cli


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter,
                    argparse.RawDescriptionHelpFormatter):
    """The whole module docstring as description, and every option's
    default."""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument('pose_config', help='Config file for pose')
    parser.add_argument(
        'pose_checkpoint',
        nargs='?',
        default=None,
        help=
        'Checkpoint file or http(s):// URL for pose (omit for random weights)')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help=
        'allow a full unpickle of pose/detector checkpoints that hold other '
        'Python objects than weights and MMEngine checkpoint data; this runs any '
        'code in the file, so use it only for files from a source you trust')
    parser.add_argument(
        '--input',
        type=str,
        required=True,
        help='Video file, folder of frames, or image file; for live input: '
        '"webcam", "webcam:N" or a camera index N, or an rtsp:// / http(s):// '
        'stream URL')
    parser.add_argument(
        '--det-config',
        help='MMDetection detector: config file, packaged config name (e.g. '
        'rtmdet_tiny_8xb32-300e_coco) or model-zoo alias (e.g. rtmdet-t)')
    parser.add_argument(
        '--det-checkpoint',
        help='Detector weights (file or URL); default for a model-zoo name: its '
        'weights URL (downloaded once). Offline: mim download mmdet --config '
        'NAME --dest .')
    parser.add_argument(
        '--bboxes',
        metavar='FILE',
        help='Your own person boxes for the input video, instead of a detector: '
        'JSON {"frame index": [[x1, y1, x2, y2, score], ...]} (frames from 0; '
        'frames not listed have no person; used as given, no threshold or NMS)'
    )
    parser.add_argument(
        '--det-results',
        help='COCO detection results JSON, instead of a detector (image ids: '
        'PoseTrack frame_ids, or mapped by --det-ann-file)')
    parser.add_argument(
        '--det-ann-file',
        help='COCO-style annotation JSON mapping image ids of --det-results to '
        'frames (frame = number in file_name); default: PoseTrack frame_id ids'
    )
    parser.add_argument(
        '--video-id',
        help='video (vid_id or folder name) of --det-results holding several; '
        'default: the one named like the input (PoseTrack <vid_id>_... folders)'
    )
    parser.add_argument(
        '--det-cat-id',
        type=int,
        default=None,
        help='Person category: detector label (default 0, COCO) or '
        '--det-results category_id (default 1)')
    parser.add_argument(
        '--bbox-thr',
        type=float,
        default=0.3,
        help='Box score threshold (detector and --det-results)')
    parser.add_argument(
        '--nms-thr',
        type=float,
        default=0.3,
        help='IoU threshold for box NMS (detector and --det-results)')
    parser.add_argument(
        '--track-iou-thr',
        type=float,
        default=0.3,
        help='Minimum IoU linking a box to a track')
    parser.add_argument(
        '--track-max-age',
        type=int,
        default=5,
        help='Frames a lost track keeps its id')
    parser.add_argument(
        '--output-root',
        type=str,
        default='',
        help=
        'Folder for <input name>.mp4 (annotated) and, with --save-predictions, '
        'results_<input name>.json')
    parser.add_argument(
        '--save-predictions',
        action='store_true',
        help='Save the predictions JSON (results_<input>.json)')
    parser.add_argument(
        '--show', action='store_true', help='Show the drawn frames')
    parser.add_argument(
        '--kpt-thr',
        type=float,
        default=0.3,
        help='Keypoints with a lower score are not drawn')
    parser.add_argument(
        '--device',
        default='cuda:0' if torch.cuda.is_available() else 'cpu',
        help='Device used for inference')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=16,
        help='Person clips per forward pass')
    parser.add_argument(
        '--fps',
        type=float,
        default=None,
        help='Output frame rate for a folder of frames (default 25)')
    parser.add_argument(
        '--radius',
        type=int,
        default=3,
        help='Keypoint radius for visualization')
    parser.add_argument(
        '--thickness',
        type=int,
        default=1,
        help='Link thickness for visualization')
    parser.add_argument(
        '--stream',
        action='store_true',
        help='Read a video file as a live stream (frame by frame, results as '
        'soon as each clip is complete, latency printed); implied for webcams '
        'and URLs')
    parser.add_argument(
        '--realtime',
        action='store_true',
        help='With --stream: deliver the file\'s frames no faster than its fps, '
        'as a camera would')
    parser.add_argument(
        '--max-frames',
        type=int,
        default=None,
        help='Live input: stop after this many frames')
    parser.add_argument(
        '--read-retries',
        type=int,
        default=0,
        help='Live input: consecutive failed reads tolerated before the stream '
        'is considered ended')
    args = parser.parse_args(argv)
    args.stream = args.stream or is_stream_input(args.input)

    if not args.stream and (args.realtime or args.max_frames
                            or args.read_retries):
        parser.error(
            '--realtime, --max-frames and --read-retries apply to live input '
            '(webcam, URL, or a file with --stream)')
    if not args.show and not args.output_root and not args.stream:
        parser.error('nothing to do: give --output-root and/or --show')
    if args.save_predictions and not args.output_root:
        parser.error('--save-predictions needs --output-root')
    use_detector = bool(args.det_config or args.det_checkpoint)
    if use_detector + bool(args.det_results) + bool(args.bboxes) != 1:
        parser.error(
            'give the person boxes one way: --det-config (and --det-checkpoint), '
            '--det-results or --bboxes')
    if args.det_checkpoint and not args.det_config:
        parser.error('--det-checkpoint needs --det-config')
    return args


def build_box_source(args):
    if args.bboxes:
        return FrameBoxesFile(args.bboxes)
    if args.det_results:
        return DetectionResultsBoxes(
            args.det_results,
            ann_file=args.det_ann_file,
            video=args.video_id,
            video_hint=osp.splitext(osp.basename(osp.normpath(args.input)))[0],
            category_id=1 if args.det_cat_id is None else args.det_cat_id,
            bbox_thr=args.bbox_thr,
            nms_thr=args.nms_thr)
    return MMDetBoxes(
        args.det_config,
        args.det_checkpoint,
        device=args.device,
        det_cat_id=0 if args.det_cat_id is None else args.det_cat_id,
        bbox_thr=args.bbox_thr,
        nms_thr=args.nms_thr,
        trust_checkpoint=args.trust_checkpoint)


def output_paths(args, frames):
    """``(annotated output, predictions JSON)`` under ``--output-root`` (None
    when unused)."""
    if not args.output_root:
        return None, None
    mmengine.mkdir_or_exist(args.output_root)
    input_name = osp.basename(osp.normpath(args.input))
    stem = osp.splitext(input_name)[0]
    is_image = frames.num_frames == 1 and input_name.lower().endswith(
        IMAGE_EXTENSIONS)
    out_vis = osp.join(args.output_root,
                       input_name if is_image else f'{stem}.mp4')
    out_json = (
        osp.join(args.output_root, f'results_{stem}.json')
        if args.save_predictions else None)
    return out_vis, out_json


def run_stream(args, box_source, model):
    """Live input: results as frames arrive; per-frame latency and fps
    printed."""
    stem = stream_output_stem(args.input)
    out_vis = out_json = None
    if args.output_root:
        mmengine.mkdir_or_exist(args.output_root)
        out_vis = osp.join(args.output_root, f'{stem}.mp4')
        if args.save_predictions:
            out_json = osp.join(args.output_root, f'results_{stem}.json')
    summary = run_stream_pose(
        model,
        args.input,
        box_source,
        out_video=out_vis,
        out_json=out_json,
        batch_size=args.batch_size,
        tracker=IoUTracker(
            iou_thr=args.track_iou_thr, max_age=args.track_max_age),
        kpt_thr=args.kpt_thr,
        radius=args.radius,
        thickness=args.thickness,
        show=args.show,
        fps=args.fps,
        realtime=args.realtime,
        max_frames=args.max_frames,
        read_retries=args.read_retries)
    print(
        f'stream ended ({summary["stop_reason"]}): {summary["num_frames"]} frames, '
        f'{summary["num_instances"]} person instances, clip delay {summary["delay"]} frame(s); '
        f'latency median {summary["latency_median_ms"]:.1f} ms, p95 '
        f'{summary["latency_p95_ms"]:.1f} ms; {summary["fps"]:.2f} frames per second '
        '(detection + pose + writing)')
    for key, what in (('out_video', 'the annotated output'), ('out_json',
                                                              'predictions')):
        if summary[key]:
            print(f'{what} has been saved at {summary[key]}')
    return summary


def main(argv=None):
    args = parse_args(argv)
    # a file input is opened first, so that a bad path fails before any model is built
    frames = None if args.stream else open_frame_source(
        args.input, fps=args.fps)
    box_source = build_box_source(args)
    if isinstance(box_source, FrameBoxesFile) and getattr(
            frames, 'num_frames', None):
        box_source.finish(
            frames.num_frames
        )  # boxes for frames the input lacks: fail before inference
    if args.pose_checkpoint is None:
        warnings.warn(
            'no pose checkpoint given: the pose model has random weights')
    model = init_video_pose_model(
        args.pose_config,
        args.pose_checkpoint,
        device=args.device,
        trust_checkpoint=args.trust_checkpoint)
    if args.stream:
        return run_stream(args, box_source, model)
    out_vis, out_json = output_paths(args, frames)
    summary = run_video_pose(
        model,
        frames,
        box_source,
        out_video=out_vis,
        out_json=out_json,
        batch_size=args.batch_size,
        tracker=IoUTracker(
            iou_thr=args.track_iou_thr, max_age=args.track_max_age),
        kpt_thr=args.kpt_thr,
        radius=args.radius,
        thickness=args.thickness,
        show=args.show)
    print(
        f'{summary["num_frames"]} frames, {summary["num_instances"]} person instances in '
        f'{summary["seconds"]:.2f} s: {summary["fps"]:.2f} frames per second '
        '(detection + pose + writing)')
    if summary['out_video']:
        print(f'the annotated output has been saved at {summary["out_video"]}')
    if summary['out_json']:
        print(f'predictions have been saved at {summary["out_json"]}')
    return summary


if __name__ == '__main__':
    run_cli(main)
