"""Numpy metric computations."""
from .posetrack_ap import (EVALUATED_KEYPOINTS, JOINT_GROUPS, PROTOCOLS,
                           FrameGroundTruth, FramePrediction, evaluate_frame,
                           posetrack_ap)

__all__ = [
    'posetrack_ap', 'evaluate_frame', 'FrameGroundTruth', 'FramePrediction',
    'JOINT_GROUPS', 'EVALUATED_KEYPOINTS', 'PROTOCOLS'
]
