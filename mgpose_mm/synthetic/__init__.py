"""Synthetic multi-person videos in the PoseTrack18 layout (quick start and
tests).

Needs only numpy and OpenCV. Entry point: :func:`generate_posetrack_dataset`.
"""
from .generate import generate_posetrack_dataset

__all__ = ['generate_posetrack_dataset']
