"""Video pose inference with MMPose's inferencer conventions.

Modules: :mod:`.inferencer` (the inferencer), :mod:`.models` (model loading,
model-zoo names, the detector),
:mod:`.boxes` (person boxes per frame), :mod:`.frame_sources` (videos,
folders, cameras, URLs), :mod:`.tracking` (IoU tracks), :mod:`.clips` (clip
assembly and batched model calls) and :mod:`.writers` (JSON, drawn video,
display, latency).
"""
from .boxes import BoxSource, DetectionResultsBoxes, FrameBoxesFile, GivenBoxes
from .clips import FramePoses
from .frame_sources import CaptureFrames
from .inferencer import VideoPoseInferencer
from .models import MMDetBoxes, init_video_pose_model
from .tracking import IoUTracker

__all__ = [
    'VideoPoseInferencer', 'init_video_pose_model', 'BoxSource', 'GivenBoxes',
    'FrameBoxesFile', 'DetectionResultsBoxes', 'MMDetBoxes', 'IoUTracker',
    'CaptureFrames', 'FramePoses'
]
