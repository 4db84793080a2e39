"""Top-down pose estimator for person clips."""
from typing import List, Optional, Tuple

from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType
from torch import Tensor

from mgpose_mm.errors import ConfigValueError
from ..utils import VideoTokens, check_clip_layout


@MODELS.register_module()
class VideoTopdownPoseEstimator(TopdownPoseEstimator):
    """:class:`TopdownPoseEstimator` whose inputs are person clips around a
    key frame.

    Inputs are (B, T, 3, H, W); data samples describe the key frame (its box,
    codec targets and affine meta), so ``loss``, ``predict`` (flip test flips
    every frame along W) and ``add_pred_to_datasample`` (keypoints back to
    image coordinates) are MMPose's own.

    The backbone maps clips to ``(video_tokens, fine)``; its own ``pruner``
    removes tokens between its per-frame and joint stages, so that the joint
    layers and the head only pay for the kept tokens. There is no neck. The
    head's fine-grained input width is set from
    ``backbone.fine_out_channels``.

    Cost per stage and person clip of the default config (ViT-B, 256x192,
    T=3, supporting tokens pruned right after the patch embedding, half of
    the key frame's tokens from layer 3, no head transformer layer,
    depthwise-separable fusion, fine stem on every frame), in GFLOPs (MACs,
    as MMPose reports, attention, DPC and merging distances included:
    ``mgpose_mm.benchmark.flops.model_cost``; ``tests/test_flops.py`` checks
    this table against it), at epsilon 0 / 0.5 / 0.9 (the default):

    ======================================  =====  =====  =====
    stage                                     0     0.5   0.9
    ======================================  =====  =====  =====
    backbone per-frame (patch embedding)     0.37   0.37   0.37
    backbone fine stem (3 frames)            0.55   0.55   0.55
    pruner: DPC scoring + merging            0      0.28   0.27
    backbone joint layers (12, kept tokens) 47.57  28.36  14.02
    head (decoder and fusion)                1.79   1.79   1.79
    total                                   50.28  31.35  16.99
    ======================================  =====  =====  =====

    MMPose's ViTPose-B costs 18.54 GFLOPs on one frame. The key frame's
    DPC scoring (at layer 3) is counted in the per-frame row.
    """

    def __init__(self,
                 backbone: ConfigType,
                 neck: OptConfigType = None,
                 head: OptConfigType = None,
                 **kwargs):
        if neck is not None:
            raise ConfigValueError(
                'VideoTopdownPoseEstimator takes no neck: the token pruner is '
                'part of the backbone (model.backbone.pruner)')
        super().__init__(backbone, head=head, **kwargs)
        if not hasattr(self.backbone, 'forward_frames'):
            raise TypeError(
                'VideoTopdownPoseEstimator needs a video backbone such as '
                f'MGFEViT (got {type(self.backbone).__name__})')
        width = getattr(self.backbone, 'fine_out_channels', None)
        if self.with_head and width is not None and hasattr(
                self.head, 'set_fine_channels'):
            # the head's fine-grained input width is the backbone's output
            self.head.set_fine_channels(width)

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List] = None,
                mode: str = 'tensor'):
        """MMPose's forward, after checking the batch's clip layout against the
        backbone.

        Every data sample's ``key_frame_index`` and ``frame_offsets`` (packed
        by ``PackVideoPoseInputs``) must agree with ``backbone.num_frames`` and
        ``backbone.key_frame_index`` (:func:`check_clip_layout`); otherwise the
        model would predict the pose of another frame than the annotated one.
        """
        layouts = set()
        for sample in data_samples or ():
            offsets = sample.metainfo.get('frame_offsets')
            layouts.add(
                (sample.metainfo.get('key_frame_index'),
                 None if offsets is None else tuple(int(o) for o in offsets)))
        for key_frame_index, offsets in layouts:
            check_clip_layout(self.backbone, offsets, key_frame_index,
                              'the data')
        return super().forward(inputs, data_samples, mode)

    def extract_feat(self, inputs: Tensor) -> Tuple[VideoTokens, Tensor]:
        """Encode clips (B, T, 3, H, W) into ``(kept video tokens (B, M, C),
        fine feats)``."""
        return self.backbone(inputs)
