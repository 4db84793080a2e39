"""Video inference with FTP-Pose models: frames -> person boxes (MMDetection
detector, detection JSON, a per-frame boxes JSON or given boxes) -> IoU tracks.

-> person clips -> keypoints -> JSON / annotated video.

Example::

    from mgpose_mm.apis import GivenBoxes, init_video_pose_model, run_video_pose
    model = init_video_pose_model(config, checkpoint, device='cpu')
    run_video_pose(model, 'video.mp4', GivenBoxes(boxes), out_video='out.mp4', out_json='out.json')
"""
from .box_sources import (BoxSource, DetectionResultsBoxes, GivenBoxes,
                          MMDetBoxes, clip_boxes_to_image, select_boxes)
from .boxes_file import FrameBoxesFile, load_boxes_file
from .clip_inference import ClipBuilder, predict_clips
from .detection_results import (decode_posetrack_frame_id,
                                load_detection_results)
from .frame_sources import (ArrayFrames, FrameSource, ImageFileFrames,
                            VideoFileFrames, open_frame_source)
from .mmdet_models import resolve_mmdet_config
from .model_loading import (CheckpointMismatchError, check_state_dict_matches,
                            clip_frame_offsets, init_video_pose_model)
from .runner import run_video_pose
from .tracking import IoUTracker
from .video_inference import FramePoses, VideoPoseInferencer, inference_video
from .writers import (AnnotatedImageWriter, AnnotatedVideoWriter,
                      PoseFrameDrawer, PredictionJsonWriter)

__all__ = [
    'init_video_pose_model', 'CheckpointMismatchError',
    'check_state_dict_matches', 'clip_frame_offsets', 'open_frame_source',
    'FrameSource', 'VideoFileFrames', 'ImageFileFrames', 'ArrayFrames',
    'BoxSource', 'GivenBoxes', 'MMDetBoxes', 'DetectionResultsBoxes',
    'load_detection_results', 'decode_posetrack_frame_id',
    'clip_boxes_to_image', 'select_boxes', 'IoUTracker', 'ClipBuilder',
    'predict_clips', 'VideoPoseInferencer', 'FramePoses', 'inference_video',
    'run_video_pose', 'PredictionJsonWriter', 'AnnotatedVideoWriter',
    'AnnotatedImageWriter', 'PoseFrameDrawer', 'FrameBoxesFile',
    'load_boxes_file', 'resolve_mmdet_config'
]

# streaming (live) inference: webcam / URL / file read as a stream
from .stream_runner import StreamingJsonWriter  # noqa: E402
from .stream_runner import LatencyStats, run_stream_pose
from .stream_sources import is_stream_input  # noqa: E402
from .stream_sources import (CaptureFrames, open_stream_source,
                             parse_stream_spec)
from .streaming import StreamFramePoses  # noqa: E402
from .streaming import StreamingPoseInferencer, stream_video_pose

__all__ += [
    'stream_video_pose', 'StreamingPoseInferencer', 'StreamFramePoses',
    'CaptureFrames', 'open_stream_source', 'is_stream_input',
    'parse_stream_spec', 'run_stream_pose', 'LatencyStats',
    'StreamingJsonWriter'
]
