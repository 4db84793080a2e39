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
batched model calls) and :mod:`.writers` (JSON, annotated video, display).
"""
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
