"""Clip transforms.

MMPose 1.3.2's ``GetBBoxCenterScale``, ``RandomHalfBody`` and
``RandomBBoxTransform`` act on the box only; ``RandomFlip`` and
``TopdownAffine`` apply the one sampled flip / warp matrix to every array of a
list in ``results['img']``; ``GenerateTarget`` encodes the key frame's
keypoints; ``PackPoseInputs`` stacks a list into (T, 3, H, W). They are used
unchanged after :class:`LoadVideoFrames` (checked in tests/test_datasets.py).
"""
from .formatting import VIDEO_META_KEYS, PackVideoPoseInputs
from .key_frame_mask import RandomKeyFrameMask
from .loading import LoadVideoFrames

__all__ = [
    'LoadVideoFrames', 'PackVideoPoseInputs', 'VIDEO_META_KEYS',
    'RandomKeyFrameMask'
]
