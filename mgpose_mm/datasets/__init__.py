"""PoseTrack video datasets and clip transforms."""
from .posetrack21_video_dataset import PoseTrack21VideoDataset
from .posetrack_json import PoseTrackVideo, load_videos, merge_videos
from .posetrack_video_dataset import (PoseTrackVideoDataset,
                                      check_frame_offsets, clip_frame_paths)
from .transforms import VIDEO_META_KEYS, LoadVideoFrames, PackVideoPoseInputs

__all__ = [
    'PoseTrackVideoDataset', 'PoseTrack21VideoDataset', 'LoadVideoFrames',
    'PackVideoPoseInputs', 'VIDEO_META_KEYS', 'PoseTrackVideo', 'load_videos',
    'merge_videos', 'check_frame_offsets', 'clip_frame_paths'
]
