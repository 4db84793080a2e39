"""PoseTrack evaluation: numpy AP computation and the registered metric."""
from .functional import (FrameGroundTruth, FramePrediction, JOINT_GROUPS,
                         posetrack_ap)
from .metrics import PoseTrackAPMetric

__all__ = [
    'PoseTrackAPMetric', 'posetrack_ap', 'FrameGroundTruth',
    'FramePrediction', 'JOINT_GROUPS'
]
