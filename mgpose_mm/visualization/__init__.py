from .compat_visualizer import CompatPoseLocalVisualizer

__all__ = ['CompatPoseLocalVisualizer']
