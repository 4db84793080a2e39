"""Video pose inference with MMPose's inferencer conventions (one module per
concept: the inferencer, models, boxes, frame sources, tracking, clips and
writers)."""
from .boxes import BoxSource, DetectionResultsBoxes, GivenBoxes
from .clips import FramePoses
from .frame_sources import CaptureFrames
from .inferencer import VideoPoseInferencer
from .models import MMDetBoxes, init_video_pose_model
from .tracking import IoUTracker

__all__ = [
    'VideoPoseInferencer', 'init_video_pose_model', 'BoxSource', 'GivenBoxes',
    'DetectionResultsBoxes', 'MMDetBoxes', 'IoUTracker', 'CaptureFrames',
    'FramePoses'
]
