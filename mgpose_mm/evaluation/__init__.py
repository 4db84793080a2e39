"""PoseTrack evaluation: numpy AP computation, official-format folders and the
metric."""
from .functional import (JOINT_GROUPS, PROTOCOLS, FrameGroundTruth,
                         FramePrediction, posetrack_ap)
from .metrics import PoseTrackAPMetric
from .posetrack_files import PoseTrackInputError, evaluate_folders

__all__ = [
    'PoseTrackAPMetric', 'posetrack_ap', 'FrameGroundTruth', 'FramePrediction',
    'JOINT_GROUPS', 'PROTOCOLS', 'evaluate_folders', 'PoseTrackInputError'
]
