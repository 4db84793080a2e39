"""Video pose inference with MMPose's inferencer conventions.

Example::

    from mgpose_mm.apis import VideoPoseInferencer
    inferencer = VideoPoseInferencer(
        pose2d='ftp-pose_vit-tiny_1xb16-12e_synthetic-128x96',
        pose2d_weights='epoch_12.pth', det_model='whole_image')
    for result in inferencer('video.mp4', vis_out_dir='vis_results'):
        print(result['predictions'][0])

Modules: :mod:`.inferencer` (the inferencer, model loading), :mod:`.boxes`
(person boxes per frame), :mod:`.frame_sources` (videos, folders, cameras,
URLs), :mod:`.tracking` (IoU tracks), :mod:`.clips` (clip assembly and
batched model calls), :mod:`.writers` (JSON, annotated video, display),
:mod:`.deprecated` (the previous release's entry points).
"""
import importlib
import warnings

from mgpose_mm.errors import CheckpointMismatchError
from .boxes import (BoxSource, DetectionResultsBoxes, FrameBoxesFile,
                    GivenBoxes, MMDetBoxes)
from .clips import FramePoses
from .frame_sources import CaptureFrames
from .inferencer import VideoPoseInferencer, init_video_pose_model
from .tracking import IoUTracker

__all__ = [
    'VideoPoseInferencer', 'init_video_pose_model', 'BoxSource', 'GivenBoxes',
    'FrameBoxesFile', 'DetectionResultsBoxes', 'MMDetBoxes', 'IoUTracker',
    'CaptureFrames', 'FramePoses', 'CheckpointMismatchError'
]

# Names of the previous release, importable from here for one more release
# (with a DeprecationWarning): name -> (module, attribute).
_DEPRECATED = {
    'check_state_dict_matches':
    ('mgpose_mm.engine', 'check_state_dict_matches'),
    'clip_frame_offsets': ('.clips', 'clip_frame_offsets'),
    'ClipBuilder': ('.clips', 'ClipBuilder'),
    'predict_clips': ('.clips', 'predict_clips'),
    'StreamFramePoses': ('.clips', 'FramePoses'),
    'open_frame_source': ('.frame_sources', 'open_frame_source'),
    'FrameSource': ('.frame_sources', 'FrameSource'),
    'VideoFileFrames': ('.frame_sources', 'VideoFileFrames'),
    'ImageFileFrames': ('.frame_sources', 'ImageFileFrames'),
    'ArrayFrames': ('.frame_sources', 'ArrayFrames'),
    'open_stream_source': ('.frame_sources', 'open_stream_source'),
    'is_stream_input': ('.frame_sources', 'is_stream_input'),
    'parse_stream_spec': ('.frame_sources', 'parse_stream_spec'),
    'load_detection_results': ('.boxes', 'load_detection_results'),
    'decode_posetrack_frame_id': ('.boxes', 'decode_posetrack_frame_id'),
    'clip_boxes_to_image': ('.boxes', 'clip_boxes_to_image'),
    'select_boxes': ('.boxes', 'select_boxes'),
    'load_boxes_file': ('.boxes', 'load_boxes_file'),
    'PredictionJsonWriter': ('.writers', 'PredictionJsonWriter'),
    'StreamingJsonWriter': ('.writers', 'PredictionJsonWriter'),
    'AnnotatedVideoWriter': ('.writers', 'AnnotatedVideoWriter'),
    'AnnotatedImageWriter': ('.writers', 'AnnotatedImageWriter'),
    'PoseFrameDrawer': ('.writers', 'PoseFrameDrawer'),
    'LatencyStats': ('.writers', 'LatencyStats'),
    'inference_video': ('.deprecated', 'inference_video'),
    'run_video_pose': ('.deprecated', 'run_video_pose'),
    'stream_video_pose': ('.deprecated', 'stream_video_pose'),
    'StreamingPoseInferencer': ('.deprecated', 'StreamingPoseInferencer'),
    'run_stream_pose': ('.deprecated', 'run_stream_pose'),
    'resolve_mmdet_config': ('.deprecated', 'resolve_mmdet_config'),
}


def __getattr__(name: str):
    if name not in _DEPRECATED:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    module, attribute = _DEPRECATED[name]
    where = module if not module.startswith('.') else __name__ + module
    instead = 'VideoPoseInferencer' if module == '.deprecated' else \
        f'{attribute} from {where}'
    warnings.warn(
        f'mgpose_mm.apis.{name} is deprecated here and will be removed in '
        f'the next release; use {instead}',
        DeprecationWarning,
        stacklevel=2)
    return getattr(importlib.import_module(where), attribute)
