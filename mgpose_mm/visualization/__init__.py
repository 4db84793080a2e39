from .compat_visualizer import CompatPoseLocalVisualizer
from .video_pose_visualizer import VideoPoseVisualizer

__all__ = ['CompatPoseLocalVisualizer', 'VideoPoseVisualizer']
