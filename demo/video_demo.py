"""FTP-Pose video demo with PoseTrack-style inputs and latency measurement.

For everyday use, ``demo/inferencer_demo.py`` (MMPose's inferencer CLI) does
the same with model-zoo names. This demo adds what it does not have: COCO
detection-results files with PoseTrack frame ids (``--det-results``,
``--det-ann-file``, ``--video-id``), MMPose's ``topdown_demo_with_mmdet.py``
output layout (``<output-root>/<input>.mp4`` and ``results_<input>.json`` with
``meta_info`` and ``video``), and running latency / fps lines for live input
(``--realtime`` pacing of a file read as a stream, ``--max-frames``).

Examples::

    # a detector: an MMDetection model-zoo name (or config file) and weights,
    # with internet fetched once by
    # mim download mmdet --config rtmdet_tiny_8xb32-300e_coco --dest .
    python demo/video_demo.py POSE_CONFIG POSE_CKPT --input video.mp4 \\
        --det-config rtmdet_tiny_8xb32-300e_coco \\
        --det-checkpoint DET_WEIGHTS.pth \\
        --output-root vis_results --save-predictions

    # your own boxes: JSON {"frame index": [[x1, y1, x2, y2, score], ...]}
    python demo/video_demo.py POSE_CONFIG POSE_CKPT --input video.mp4 \\
        --bboxes boxes.json --output-root vis_results --save-predictions

    # COCO detection results (PoseTrack frame_id image ids, or --det-ann-file)
    python demo/video_demo.py POSE_CONFIG POSE_CKPT --input frames_folder/ \\
        --det-results detections.json --output-root vis_results \\
        --save-predictions

    # live: webcam, camera index, rtsp:// / http:// URL, or a file with
    # --stream; prints latency and fps; Ctrl-C stops and keeps the output
    python demo/video_demo.py ONLINE_POSE_CONFIG POSE_CKPT --input webcam \\
        --show --det-config rtmdet_tiny_8xb32-300e_coco.py \\
        --det-checkpoint rtmdet_tiny.pth
"""
import argparse
import os.path as osp

import mmengine
import torch

from mgpose_mm.apis import (DetectionResultsBoxes, FrameBoxesFile, IoUTracker,
                            VideoPoseInferencer)
from mgpose_mm.apis.frame_sources import (IMAGE_EXTENSIONS, StopOnInterrupt,
                                          is_stream_input, open_frame_source,
                                          open_stream_source,
                                          stream_output_stem)
from mgpose_mm.apis.writers import (AnnotatedImageWriter, AnnotatedVideoWriter,
                                    PoseFrameDrawer, PredictionJsonWriter,
                                    Window, write_predictions)
from mgpose_mm.errors import run_cli


def check_paths(parser, args, files=(), folders=()):
    """``parser.error`` when a file option names a folder, or a folder option
    names a file."""
    for name in files:
        path = getattr(args, name)
        if path and '://' not in path and osp.isdir(path):
            parser.error(f'{name.replace("_", "-")} {path} is a folder, not '
                         'a file')
    for name in folders:
        path = getattr(args, name)
        if path and osp.exists(path) and not osp.isdir(path):
            parser.error(f'{name.replace("_", "-")} {path} is a file, not a '
                         'folder')


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
        help='Checkpoint file or http(s):// URL for pose (omit for random '
        'weights)')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='allow a full unpickle of pose/detector checkpoints that hold '
        'other Python objects than weights and MMEngine checkpoint data; this '
        'runs any code in the file, so use it only for files from a source '
        'you trust')
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
        help='Detector weights (file or URL); default for a model-zoo name: '
        'its '
        'weights URL (downloaded once). Offline: mim download mmdet --config '
        'NAME --dest .')
    parser.add_argument(
        '--bboxes',
        metavar='FILE',
        help='Your own person boxes for the input video, instead of a '
        'detector: '
        'JSON {"frame index": [[x1, y1, x2, y2, score], ...]} (frames from 0; '
        'frames not listed have no person; used as given, no threshold or NMS)'
    )
    parser.add_argument(
        '--det-results',
        help='COCO detection results JSON, instead of a detector (image ids: '
        'PoseTrack frame_ids, or mapped by --det-ann-file)')
    parser.add_argument(
        '--det-ann-file',
        help='COCO-style annotation JSON mapping image ids of --det-results '
        'to '
        'frames (frame = number in file_name); default: PoseTrack frame_id ids'
    )
    parser.add_argument(
        '--video-id',
        help='video (vid_id or folder name) of --det-results holding several; '
        'default: the one named like the input (PoseTrack <vid_id>_... '
        'folders)')
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
        help='Folder for <input name>.mp4 (annotated) and, with '
        '--save-predictions, '
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
        help='With --stream: deliver the file\'s frames no faster than its '
        'fps, '
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
        help='Live input: consecutive failed reads tolerated before the '
        'stream '
        'is considered ended')
    args = parser.parse_args(argv)
    args.stream = args.stream or is_stream_input(args.input)
    check_paths(
        parser,
        args,
        files=('pose_config', 'pose_checkpoint', 'det_checkpoint', 'bboxes',
               'det_results', 'det_ann_file'),
        folders=('output_root', ))

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
        parser.error('give the person boxes one way: --det-config (and '
                     '--det-checkpoint), '
                     '--det-results or --bboxes')
    if args.det_checkpoint and not args.det_config:
        parser.error('--det-checkpoint needs --det-config')
    return args


def build_box_source(args):
    """The boxes of ``--bboxes`` / ``--det-results``; None: the detector."""
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
    return None


def build_inferencer(args):
    return VideoPoseInferencer(
        pose2d=args.pose_config,
        pose2d_weights=args.pose_checkpoint,
        device=args.device,
        det_model=args.det_config or 'whole_image',
        det_weights=args.det_checkpoint,
        det_cat_ids=0 if args.det_cat_id is None else args.det_cat_id,
        tracker=IoUTracker(
            iou_thr=args.track_iou_thr, max_age=args.track_max_age),
        trust_checkpoint=args.trust_checkpoint)


def output_writers(args, inferencer, frames, stem, is_image):
    """The drawer, annotated-output and predictions writers under ``--output-
    root`` (None when unused)."""
    drawer = video_writer = json_writer = None
    if args.output_root or args.show:
        drawer = PoseFrameDrawer(inferencer.model, args.kpt_thr, args.radius,
                                 args.thickness)
    if args.output_root:
        mmengine.mkdir_or_exist(args.output_root)
        if is_image:
            video_writer = AnnotatedImageWriter(
                osp.join(args.output_root, osp.basename(args.input)), drawer)
        else:
            video_writer = AnnotatedVideoWriter(
                osp.join(args.output_root, f'{stem}.mp4'), frames.fps, drawer)
        if args.save_predictions:
            json_writer = PredictionJsonWriter(
                osp.join(args.output_root, f'results_{stem}.json'),
                inferencer.model.dataset_meta, frames.name, frames.fps)
    return drawer, video_writer, json_writer


def run(args, frames, box_source):
    """Estimate, write and report; returns the summary dict."""
    inferencer = build_inferencer(args)
    if args.stream:
        stem, is_image = stream_output_stem(args.input), False
    else:
        input_name = osp.basename(osp.normpath(args.input))
        stem = osp.splitext(input_name)[0]
        is_image = frames.num_frames == 1 and input_name.lower().endswith(
            IMAGE_EXTENSIONS)
    drawer, video_writer, json_writer = output_writers(args, inferencer,
                                                       frames, stem, is_image)
    predictions = inferencer.estimate(
        frames,
        batch_size=args.batch_size,
        bboxes=box_source,
        bbox_thr=args.bbox_thr,
        nms_thr=args.nms_thr,
        stream=args.stream)
    with StopOnInterrupt(frames, print):
        summary = write_predictions(
            predictions,
            video_writer,
            json_writer,
            Window() if args.show else None,
            drawer=drawer,
            keep_partial=args.stream,
            status_interval=2.0 if args.stream else 0.0)
    if args.stream:
        reason = getattr(frames, 'stop_reason', None) or 'end of input'
        print(f'stream ended ({reason}): {summary["num_frames"]} frames, '
              f'{summary["num_instances"]} person instances, clip delay '
              f'{inferencer.estimator.delay} frame(s); latency median '
              f'{summary["latency_median_ms"]:.1f} ms, p95 '
              f'{summary["latency_p95_ms"]:.1f} ms; {summary["fps"]:.2f} '
              'frames per second (detection + pose + writing)')
    else:
        print(f'{summary["num_frames"]} frames, {summary["num_instances"]} '
              f'person instances in {summary["seconds"]:.2f} s: '
              f'{summary["num_frames"] / max(summary["seconds"], 1e-9):.2f} '
              'frames per second (detection + pose + writing)')
    if summary['out_video']:
        print(f'the annotated output has been saved at {summary["out_video"]}')
    if summary['out_json']:
        print(f'predictions have been saved at {summary["out_json"]}')
    return summary


def main(argv=None):
    args = parse_args(argv)
    # the input is opened first, so that a bad path fails before any model
    if args.stream:
        frames = open_stream_source(
            args.input,
            fps=args.fps,
            realtime=args.realtime,
            max_frames=args.max_frames,
            read_retries=args.read_retries)
    else:
        frames = open_frame_source(args.input, fps=args.fps)
    box_source = build_box_source(args)
    if isinstance(box_source, FrameBoxesFile) and frames.num_frames:
        # boxes for frames the input lacks: fail before inference
        box_source.finish(frames.num_frames)
    return run(args, frames, box_source)


if __name__ == '__main__':
    run_cli(main)
