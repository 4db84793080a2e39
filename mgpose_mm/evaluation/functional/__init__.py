"""Numpy metric computations."""
from .posetrack_ap import (EVALUATED_KEYPOINTS, JOINT_GROUPS,
                           FrameGroundTruth, FramePrediction, posetrack_ap)

__all__ = [
    'posetrack_ap', 'FrameGroundTruth', 'FramePrediction', 'JOINT_GROUPS',
    'EVALUATED_KEYPOINTS'
]
