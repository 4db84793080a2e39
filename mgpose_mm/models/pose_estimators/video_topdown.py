"""Top-down pose estimator for person clips."""
from typing import Tuple

from torch import Tensor

from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS
from ..utils import VideoTokens


@MODELS.register_module()
class VideoTopdownPoseEstimator(TopdownPoseEstimator):
    """:class:`TopdownPoseEstimator` whose inputs are person clips around a key frame.

    Inputs are (B, T, 3, H, W); data samples describe the key frame (its box, codec targets and
    affine meta), so ``loss``, ``predict`` (flip test flips every frame along W) and
    ``add_pred_to_datasample`` (keypoints back to image coordinates) are MMPose's own.

    The backbone must accept ``backbone(clips, pruner=neck)`` and return ``(video_tokens, fine)``:
    the neck prunes tokens *inside* the backbone, between its per-frame and joint stages, so that
    the joint layers and the head only pay for the kept tokens.

    Cost per stage, paper setting (ViT-B, 256x192, T=3, prune_layer=2, 1 temporal head layer),
    MMEngine's counter plus attention added analytically (see ``tools/analysis_tools/benchmark.py``):
    the per-frame ViT layers and patch embedding are the unprunable part; the 10 joint ViT layers and
    the head's transformer scale with the kept tokens (576 at epsilon 0, 384 at 0.5, 288 at 0.75);
    the deconvolution/fusion decoder and the fine-grained stem run on the key frame only.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        backbone_frames = getattr(self.backbone, 'num_frames', None)
        if backbone_frames is None or not hasattr(self.backbone, 'forward_frames'):
            raise TypeError('VideoTopdownPoseEstimator needs a video backbone such as MGFEViT '
                            f'(got {type(self.backbone).__name__})')

    def extract_feat(self, inputs: Tensor) -> Tuple[VideoTokens, Tensor]:
        """Encode clips (B, T, 3, H, W) into ``(kept video tokens (B, M, C), fine feats)``."""
        return self.backbone(inputs, pruner=self.neck if self.with_neck else None)
