"""Numpy metric computations."""
from .jitter import TrackedFrame, acceleration_errors, summarize_jitter
from .posetrack_ap import (EVALUATED_KEYPOINTS, JOINT_GROUPS, PROTOCOLS,
                           FrameGroundTruth, FramePrediction, evaluate_frame,
                           posetrack_ap)

__all__ = [
    'posetrack_ap', 'evaluate_frame', 'FrameGroundTruth', 'FramePrediction',
    'JOINT_GROUPS', 'EVALUATED_KEYPOINTS', 'PROTOCOLS', 'TrackedFrame',
    'acceleration_errors', 'summarize_jitter'
]
