"""Multi-Grained Feature Encoder (MGFE): a ViTPose-compatible ViT split around
token pruning."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmpose.registry import MODELS
from mmpretrain.models.backbones import VisionTransformer
from mmpretrain.models.utils import resize_pos_embed
from torch import Tensor

from mgpose_mm.errors import ConfigValueError
from ..utils import VideoTokens


@MODELS.register_module()
class MGFEViT(VisionTransformer):
    """Multi-grained video backbone of FTP-Pose.

    Two granularities of the same clip (B, T, 3, H, W):

    - **Temporal, low-resolution path** (1/16): the ViT. Its first ``prune_layer`` layers run on each
      frame alone (exactly ViTPose's single-image computation); a learned frame embedding is then
      added and layers ``prune_layer..L-1`` run *jointly* over the tokens of all frames
      (spatio-temporal self-attention). The estimator prunes supporting-frame tokens between the two
      stages, so every joint layer costs what the kept tokens cost.
    - **Fine-grained, high-resolution path** (1/``fine_stride``): a light convolutional stem on the
      key frame (``fine_frames='key'``) or on every frame (``'all'``, the configs' setting: the
      study in configs/ftp_pose/README.md found that the supporting frames only help an occluded
      or blurred key-frame joint through this path), fused with the ViT key-frame features by the
      head (the paper's fine-grained perception compensation).

    Parameter names and shapes of the ViT are those of ``mmpretrain.VisionTransformer`` as configured
    by MMPose's ViTPose configs, so a ViTPose checkpoint loads with
    ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.')``; only ``frame_embed``
    and ``fine_stem`` are new.

    Args:
        num_frames (int): Clip length T. Defaults to 3.
        key_frame_index (int): Index of the key frame in the clip. Defaults to 1 (t-1, t, t+1).
        prune_layer (int): First ViT layer of the joint stage, in [0, num_layers]. Layers before it run
            per frame, unpruned. Defaults to 2.
        fine_channels (int): Channels of the fine-grained path; 0 removes the path (the ablation
            without the fine branch: ``forward_fine`` returns a (B, 0, H/stride, W/stride) tensor).
            Defaults to 64.
        fine_stride (int): Output stride of the fine-grained path, 4 or 8. Defaults to 4.
        fine_frames (str): Frames the fine-grained path sees. ``'key'``: the key frame only
            (``fine_channels`` output channels). ``'all'``: every frame of the clip through the same
            stem, stacked along channels in clip order (``num_frames * fine_channels`` output
            channels), so the head can fetch high-resolution evidence of a joint that is occluded or
            blurred in the key frame from its neighbours. Defaults to ``'key'``.
        frame_embed_std (float): Std of the normal initialisation (truncated at 2 std) of the frame embedding;
            0 initialises it to zeros (a ViTPose checkpoint then starts from its single-frame
            behaviour). Defaults to 0.
        **kwargs: ``mmpretrain.VisionTransformer`` arguments (``arch``, ``img_size``, ``patch_size``,
            ``qkv_bias``, ``drop_path_rate``, ``patch_cfg``, ``init_cfg`` ...).
            ``with_cls_token`` is forced to False and ``out_type`` to ``'featmap'``.
    """

    def __init__(self,
                 num_frames: int = 3,
                 key_frame_index: int = 1,
                 prune_layer: int = 2,
                 fine_channels: int = 64,
                 fine_stride: int = 4,
                 fine_frames: str = 'key',
                 frame_embed_std: float = 0.0,
                 **kwargs):
        kwargs.update(with_cls_token=False, out_type='featmap')
        super().__init__(**kwargs)
        if num_frames < 1:
            raise ConfigValueError(
                f'MGFEViT: num_frames must be >= 1, got {num_frames}')
        if not 0 <= key_frame_index < num_frames:
            raise ConfigValueError(
                f'MGFEViT: key_frame_index={key_frame_index} is outside the '
                f'clip of num_frames={num_frames} frames')
        if not 0 <= prune_layer <= self.num_layers:
            raise ConfigValueError(
                f'MGFEViT: prune_layer must be in [0, {self.num_layers}], got {prune_layer}'
            )
        if fine_channels < 0:
            raise ConfigValueError(
                f'MGFEViT: fine_channels must be >= 0, got {fine_channels}')
        if fine_stride not in (4, 8):
            raise ConfigValueError(
                f'MGFEViT: fine_stride must be 4 or 8, got {fine_stride}')
        if fine_frames not in ('key', 'all'):
            raise ConfigValueError(
                f"MGFEViT: fine_frames must be 'key' or 'all', got {fine_frames!r}"
            )
        self.num_frames = num_frames
        self.fine_frames = fine_frames
        self.key_frame_index = key_frame_index
        self.prune_layer = prune_layer
        self.fine_channels = fine_channels

        # Zero-initialised so that a ViTPose checkpoint starts from its single-frame behaviour.
        self.frame_embed = nn.Parameter(
            torch.zeros(1, num_frames, 1, self.embed_dims))
        if frame_embed_std < 0:
            raise ValueError(
                f'MGFEViT: frame_embed_std must be >= 0, got {frame_embed_std}'
            )
        if frame_embed_std > 0:
            nn.init.trunc_normal_(
                self.frame_embed,
                std=frame_embed_std,
                a=-2 * frame_embed_std,
                b=2 * frame_embed_std)
        self.fine_stride = fine_stride
        if fine_channels == 0:
            self.fine_stem = None
            return
        stem = [
            ConvModule(
                3,
                fine_channels // 2,
                3,
                stride=2,
                padding=1,
                norm_cfg=dict(type='BN')),
            ConvModule(
                fine_channels // 2,
                fine_channels,
                3,
                stride=2,
                padding=1,
                norm_cfg=dict(type='BN'))
        ]
        if fine_stride == 8:
            stem.append(
                ConvModule(
                    fine_channels,
                    fine_channels,
                    3,
                    stride=2,
                    padding=1,
                    norm_cfg=dict(type='BN')))
        stem.append(
            ConvModule(
                fine_channels,
                fine_channels,
                3,
                padding=1,
                norm_cfg=dict(type='BN')))
        self.fine_stem = nn.Sequential(*stem)

    def _check_clip(self, clips: Tensor) -> None:
        if clips.dim() != 5 or clips.shape[2] != 3:
            raise ValueError(
                f'MGFEViT expects clips of shape (B, T, 3, H, W), got {tuple(clips.shape)}'
            )
        if clips.shape[1] != self.num_frames:
            raise ConfigValueError(
                f'MGFEViT: the data gives clips of T={clips.shape[1]} frames but '
                f'backbone.num_frames={self.num_frames}; make the dataset frame_offsets and the '
                'model num_frames agree')

    def forward_frames(self, clips: Tensor) -> VideoTokens:
        """Embed every frame and run the per-frame layers ``0..prune_layer-1``.

        Args:
            clips (Tensor): Normalised clips, shape (B, T, 3, H, W).

        Returns:
            VideoTokens: All ``T * h * w`` tokens per clip, ``tokens`` of shape (B, T*h*w, C).
        """
        self._check_clip(clips)
        batch, num_frames = clips.shape[:2]
        x, grid = self.patch_embed(clips.flatten(0, 1))  # (B*T, h*w, C)
        x = x + resize_pos_embed(
            self.pos_embed,
            self.patch_resolution,
            grid,
            mode=self.interpolate_mode,
            num_extra_tokens=0)
        x = self.pre_norm(self.drop_after_pos(x))
        for layer in self.layers[:self.prune_layer]:
            x = layer(x)
        x = x.view(batch, num_frames, -1, self.embed_dims) + self.frame_embed
        x = x.flatten(1, 2)
        index = torch.arange(x.shape[1], device=x.device).expand(batch, -1)
        return VideoTokens(x, index, num_frames, self.key_frame_index,
                           tuple(grid))

    def forward_joint(self, video_tokens: VideoTokens) -> VideoTokens:
        """Run layers ``prune_layer..L-1`` jointly over all (kept) tokens of
        each clip.

        Args:
            video_tokens (VideoTokens): ``tokens`` of shape (B, M, C), M <= T*h*w.

        Returns:
            VideoTokens: Same tokens after the joint layers and the final norm, (B, M, C).
        """
        x = video_tokens.tokens
        for layer in self.layers[self.prune_layer:]:
            x = layer(x)
        if self.final_norm:
            x = self.ln1(x)
        return video_tokens._replace(tokens=x)

    @property
    def fine_out_channels(self) -> int:
        """Channels of :meth:`forward_fine`'s output (the head's
        ``fine_channels``)."""
        return self.fine_channels * (
            self.num_frames if self.fine_frames == 'all' else 1)

    def forward_fine(self, clips: Tensor) -> Tensor:
        """Fine-grained features, shape (B, fine_out_channels, H/stride,
        W/stride).

        ``fine_frames='key'``: the key frame's stem features. ``'all'``: the stem features of the T
        frames, concatenated along channels in clip order.
        """
        batch, num_frames, _, height, width = clips.shape
        out_size = (height // self.fine_stride, width // self.fine_stride)
        if self.fine_stem is None:
            return clips.new_zeros((batch, 0, *out_size))
        if self.fine_frames == 'key':
            return self.fine_stem(clips[:, self.key_frame_index])
        feats = self.fine_stem(clips.flatten(0, 1))  # (B*T, C_f, H/s, W/s)
        return feats.reshape(batch, num_frames * feats.shape[1],
                             *feats.shape[-2:])

    def forward(self,
                clips: Tensor,
                pruner: Optional[nn.Module] = None
                ) -> Tuple[VideoTokens, Tensor]:
        """Encode clips, optionally pruning tokens between the per-frame and
        joint stages.

        Args:
            clips (Tensor): Normalised clips, shape (B, T, 3, H, W).
            pruner (nn.Module, optional): Maps the full :class:`VideoTokens` to a pruned one
                (the estimator passes its neck here).

        Returns:
            tuple: ``(video_tokens, fine_feats)``: kept tokens (B, M, C) with their positions, and the
            key frame's fine-grained features (B, fine_channels, H/stride, W/stride).
        """
        video_tokens = self.forward_frames(clips)
        if pruner is not None:
            video_tokens = pruner(video_tokens)
        return self.forward_joint(video_tokens), self.forward_fine(clips)
