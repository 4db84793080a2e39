from .clip_layout import check_clip_layout
from .dpc import dpc_knn_scores
from .video_tokens import VideoTokens

__all__ = ['VideoTokens', 'dpc_knn_scores', 'check_clip_layout']
