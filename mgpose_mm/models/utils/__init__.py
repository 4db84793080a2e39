from .dpc import dpc_knn_scores
from .video_tokens import VideoTokens

__all__ = ['VideoTokens', 'dpc_knn_scores']
