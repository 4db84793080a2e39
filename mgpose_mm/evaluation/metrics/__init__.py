"""MMEngine metrics."""
from .posetrack_ap_metric import PoseTrackAPMetric

__all__ = ['PoseTrackAPMetric']
