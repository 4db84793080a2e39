from .video_data_preprocessor import VideoPoseDataPreprocessor

__all__ = ['VideoPoseDataPreprocessor']
