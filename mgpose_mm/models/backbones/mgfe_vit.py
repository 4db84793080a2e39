"""Multi-Grained Feature Encoder (MGFE): a ViTPose-compatible ViT split around
token pruning, with a fine-grained convolutional path."""
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

FINE_FRAMES = ('key', 'all', 'pooled')


@MODELS.register_module()
class MGFEViT(VisionTransformer):
    """Multi-grained video backbone of FTP-Pose.

    Two granularities of the same clip (B, T, 3, H, W):

    - **Temporal, low-resolution path** (1/16): the ViT. Its first
      ``prune_layer`` layers run on each frame alone (exactly ViTPose's
      single-image computation); layers ``prune_layer..L-1`` run *jointly*
      over the tokens of all frames (spatio-temporal self-attention), with a
      learned embedding of each token's frame offset from the key frame. The
      backbone's ``pruner`` (the DPC token pruning) removes supporting-frame
      tokens between the two stages, so every joint layer costs what the
      kept tokens cost.
    - **Fine-grained, high-resolution path** (1/``fine_stride``): a light
      convolutional stem, fused with the ViT key-frame features by the head
      (the paper's fine-grained perception compensation). ``fine_frames``
      sets which frames it sees (below).

    No weight depends on the clip length: the frame embedding is indexed by
    the offset from the key frame (``|offset| <= max_frame_offset``) and the
    ``'key'`` and ``'pooled'`` fine paths give maps whose width does not depend
    on T. So one checkpoint loads into centred and online clips of any length
    (only ``fine_frames='all'`` stacks frames along channels).

    Parameter names and shapes of the ViT are those of
    ``mmpretrain.VisionTransformer`` as configured by MMPose's ViTPose configs,
    so a ViTPose checkpoint loads with ``init_cfg=dict(type='Pretrained',
    checkpoint=..., prefix='backbone.')``; only ``frame_embed`` and
    ``fine_stem`` are new.

    Args:
        num_frames (int): Clip length T. Defaults to 3.
        key_frame_index (int): Index of the key frame in the clip. Defaults
            to 1 (t-1, t, t+1).
        prune_layer (int): First ViT layer of the joint stage, in
            [0, num_layers]. Layers before it run per frame, unpruned.
            Defaults to 2.
        fine_channels (int): Channels C_f of the fine-grained stem; 0 removes
            the path (``forward_fine`` then returns a (B, 0, H/s, W/s)
            tensor). Defaults to 64.
        fine_stride (int): Output stride s of the fine-grained path, 4 or 8.
            Defaults to 4.
        fine_frames (str): Frames the fine-grained path sees.

            - ``'key'``: the key frame only (C_f channels).
            - ``'all'``: every frame through the same stem, stacked along
              channels in clip order (T * C_f channels; ties the head to T).
            - ``'pooled'``: the key frame, plus the stem features of the
              supporting frames pooled over frames (mean, max and a coverage
              map of ones: 3 * C_f + 1 channels, for any T).

            Defaults to ``'key'``.
        pruner (dict, optional): Config of the token pruner (e.g.
            ``DPCTokenPruning``), built here and applied between the
            per-frame and joint stages. None: nothing is pruned.
        key_prune_layer (int, optional): ViT layer, in
            (``prune_layer``, num_layers), before which the pruner also
            removes part of the key frame's own tokens (its
            ``key_prune_ratio``; mostly background, which is most of a person
            crop). The removed key-frame tokens skip the remaining layers and
            are put back, with the features they had there, before the final
            norm, so the head still reads the whole key-frame grid. None
            (default): the key frame is never reduced.
        max_frame_offset (int): Largest ``|t - key_frame_index|`` the frame
            embedding covers (it has ``2 * max_frame_offset + 1`` rows).
            Defaults to 4.
        frame_embed_std (float): Std of the normal initialisation (truncated
            at 2 std) of the frame embedding; 0 initialises it to zeros (a
            ViTPose checkpoint then starts from its single-frame behaviour).
            Defaults to 0.
        **kwargs: ``mmpretrain.VisionTransformer`` arguments (``arch``,
            ``img_size``, ``patch_size``, ``qkv_bias``, ``drop_path_rate``,
            ``patch_cfg``, ``init_cfg`` ...). ``with_cls_token`` is forced to
            False and ``out_type`` to ``'featmap'``.
    """

    def __init__(self,
                 num_frames: int = 3,
                 key_frame_index: int = 1,
                 prune_layer: int = 2,
                 fine_channels: int = 64,
                 fine_stride: int = 4,
                 fine_frames: str = 'key',
                 pruner: Optional[dict] = None,
                 key_prune_layer: Optional[int] = None,
                 max_frame_offset: int = 4,
                 frame_embed_std: float = 0.0,
                 **kwargs):
        kwargs.update(with_cls_token=False, out_type='featmap')
        super().__init__(**kwargs)
        self._check_args(num_frames, key_frame_index, prune_layer,
                         self.num_layers, fine_channels, fine_stride,
                         fine_frames, max_frame_offset, frame_embed_std)
        if key_prune_layer is not None and not (prune_layer < key_prune_layer <
                                                self.num_layers):
            raise ConfigValueError(
                f'MGFEViT: key_prune_layer must be in (prune_layer='
                f'{prune_layer}, {self.num_layers}), got {key_prune_layer}')
        self.num_frames = num_frames
        self.key_frame_index = key_frame_index
        self.prune_layer = prune_layer
        self.key_prune_layer = key_prune_layer
        self.fine_channels = fine_channels
        self.fine_stride = fine_stride
        self.fine_frames = fine_frames
        self.max_frame_offset = max_frame_offset

        # Zeros: a ViTPose checkpoint starts from its single-frame behaviour.
        self.frame_embed = nn.Parameter(
            torch.zeros(2 * max_frame_offset + 1, self.embed_dims))
        if frame_embed_std > 0:
            nn.init.trunc_normal_(
                self.frame_embed,
                std=frame_embed_std,
                a=-2 * frame_embed_std,
                b=2 * frame_embed_std)
        self.fine_stem = self._build_fine_stem(fine_channels, fine_stride)
        self.pruner = MODELS.build(pruner) if pruner is not None else None
        if (getattr(self.pruner, 'key_prune_ratio', 0) > 0
                and key_prune_layer is None):
            raise ConfigValueError(
                'MGFEViT: pruner.key_prune_ratio > 0 needs key_prune_layer '
                "(the ViT layer where the key frame's tokens are reduced)")

    @staticmethod
    def _check_args(num_frames, key_frame_index, prune_layer, num_layers,
                    fine_channels, fine_stride, fine_frames, max_frame_offset,
                    frame_embed_std):
        if num_frames < 1:
            raise ConfigValueError(
                f'MGFEViT: num_frames must be >= 1, got {num_frames}')
        if not 0 <= key_frame_index < num_frames:
            raise ConfigValueError(
                f'MGFEViT: key_frame_index={key_frame_index} is outside the '
                f'clip of num_frames={num_frames} frames')
        if max(key_frame_index,
               num_frames - 1 - key_frame_index) > max_frame_offset:
            raise ConfigValueError(
                f'MGFEViT: a clip of num_frames={num_frames} with '
                f'key_frame_index={key_frame_index} has frames '
                f'{max(key_frame_index, num_frames - 1 - key_frame_index)} '
                f'away from the key frame, more than max_frame_offset='
                f'{max_frame_offset}')
        if not 0 <= prune_layer <= num_layers:
            raise ConfigValueError(
                f'MGFEViT: prune_layer must be in [0, {num_layers}], '
                f'got {prune_layer}')
        if fine_channels < 0:
            raise ConfigValueError(
                f'MGFEViT: fine_channels must be >= 0, got {fine_channels}')
        if fine_stride not in (4, 8):
            raise ConfigValueError(
                f'MGFEViT: fine_stride must be 4 or 8, got {fine_stride}')
        if fine_frames not in FINE_FRAMES:
            raise ConfigValueError(
                f'MGFEViT: fine_frames must be one of {FINE_FRAMES}, '
                f'got {fine_frames!r}')
        if frame_embed_std < 0:
            raise ConfigValueError(
                f'MGFEViT: frame_embed_std must be >= 0, got {frame_embed_std}'
            )

    @staticmethod
    def _build_fine_stem(channels: int,
                         stride: int) -> Optional[nn.Sequential]:
        """Conv-BN-ReLU stem from (N, 3, H, W) to (N, C_f, H/s, W/s)."""
        if channels == 0:
            return None

        def conv(in_channels, out_channels, conv_stride):
            return ConvModule(
                in_channels,
                out_channels,
                3,
                stride=conv_stride,
                padding=1,
                norm_cfg=dict(type='BN'))

        stem = [conv(3, channels // 2, 2), conv(channels // 2, channels, 2)]
        if stride == 8:
            stem.append(conv(channels, channels, 2))
        stem.append(conv(channels, channels, 1))
        return nn.Sequential(*stem)

    def _check_clip(self, clips: Tensor) -> None:
        if clips.dim() != 5 or clips.shape[2] != 3:
            raise ValueError('MGFEViT expects clips of shape (B, T, 3, H, W),'
                             f' got {tuple(clips.shape)}')
        if clips.shape[1] != self.num_frames:
            raise ConfigValueError(
                f'MGFEViT: the data gives clips of T={clips.shape[1]} frames '
                f'but backbone.num_frames={self.num_frames}; make the dataset '
                'frame_offsets and the model num_frames agree')

    def forward_frames(self, clips: Tensor) -> VideoTokens:
        """Embed every frame and run the per-frame layers ``0..prune_layer-1``.

        Args:
            clips (Tensor): Normalised clips, shape (B, T, 3, H, W).

        Returns:
            VideoTokens: All ``T * h * w`` tokens per clip, ``tokens`` of
            shape (B, T*h*w, C).
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
        x = x.reshape(batch, num_frames * x.shape[1], self.embed_dims)
        index = torch.arange(x.shape[1], device=x.device).expand(batch, -1)
        return VideoTokens(x, index, num_frames, self.key_frame_index,
                           tuple(grid))

    def frame_embedding(self, video_tokens: VideoTokens) -> Tensor:
        """Embedding of each token's frame offset from the key frame, (B, M,
        C)."""
        offset = video_tokens.frame_of_token - video_tokens.key_frame_index
        return self.frame_embed[offset + self.max_frame_offset]

    def forward_joint(self, video_tokens: VideoTokens) -> VideoTokens:
        """Add the frame embedding, then run layers ``prune_layer..L-1``
        jointly over all (kept) tokens of each clip.

        The embedding is added after pruning, so token scores compare frame
        content only; adding it commutes with the gather. With
        ``key_prune_layer`` and a pruner whose ``key_prune_ratio`` is above 0,
        layers from ``key_prune_layer`` on run on the tokens
        ``pruner.select_key_tokens`` keeps; the others are put back after
        them.

        Args:
            video_tokens (VideoTokens): ``tokens`` of shape (B, M, C),
                M <= T*h*w.

        Returns:
            VideoTokens: Same tokens after the joint layers and the final
            norm, (B, M, C).
        """
        split = self.num_layers
        if (self.key_prune_layer is not None
                and getattr(self.pruner, 'key_prune_ratio', 0) > 0):
            split = self.key_prune_layer
        x = video_tokens.tokens + self.frame_embedding(video_tokens)
        for layer in self.layers[self.prune_layer:split]:
            x = layer(x)
        video_tokens = video_tokens._replace(tokens=x)
        if split < self.num_layers:
            keep = self.pruner.select_key_tokens(video_tokens)
            kept = video_tokens.select(keep)
            x = kept.tokens
            for layer in self.layers[split:]:
                x = layer(x)
            video_tokens = video_tokens.put_back(kept._replace(tokens=x), keep)
        if self.final_norm:
            video_tokens = video_tokens._replace(
                tokens=self.ln1(video_tokens.tokens))
        return video_tokens

    @property
    def fine_out_channels(self) -> int:
        """Channels of :meth:`forward_fine`'s output (the head's
        ``fine_channels`` is derived from it)."""
        if self.fine_channels == 0 or self.fine_frames == 'key':
            return self.fine_channels
        if self.fine_frames == 'all':
            return self.num_frames * self.fine_channels
        return 3 * self.fine_channels + 1  # 'pooled'

    def forward_fine(self, clips: Tensor) -> Tensor:
        """Fine-grained features, shape (B, fine_out_channels, H/s, W/s).

        Args:
            clips (Tensor): Normalised clips, shape (B, T, 3, H, W).

        Returns:
            Tensor: ``'key'``: the key frame's stem features. ``'all'``: the
            stem features of the T frames, concatenated along channels in
            clip order. ``'pooled'``: the key frame's stem features followed
            by the supporting frames' mean, max and coverage maps.
        """
        batch, num_frames, _, height, width = clips.shape
        out_size = (height // self.fine_stride, width // self.fine_stride)
        if self.fine_stem is None:
            return clips.new_zeros((batch, 0, *out_size))
        if self.fine_frames == 'all':
            feats = self._stem(clips.flatten(0, 1))  # (B*T, C_f, h', w')
            return feats.reshape(batch, num_frames * feats.shape[1],
                                 *feats.shape[-2:])
        key = self._stem(clips[:, self.key_frame_index])
        if self.fine_frames == 'key':
            return key
        return torch.cat([key, self._pooled_support(clips, key)], dim=1)

    def _stem(self, frames: Tensor) -> Tensor:
        """The fine stem on frames (N, 3, H, W), in channels-last memory format
        (faster convolutions on CPU, same values)."""
        return self.fine_stem(
            frames.contiguous(memory_format=torch.channels_last))

    def _pooled_support(self, clips: Tensor, key: Tensor) -> Tensor:
        """Stem features of every supporting frame, pooled over frames.

        Args:
            clips (Tensor): Normalised clips, shape (B, T, 3, H, W).
            key (Tensor): The key frame's stem features (B, C_f, H/s, W/s).

        Returns:
            Tensor: [mean, max, coverage = 1], (B, 2 * C_f + 1, H/s, W/s);
            zeros (coverage 0) for a clip without supporting frames.
        """
        batch, num_frames = clips.shape[:2]
        support = [t for t in range(num_frames) if t != self.key_frame_index]
        if not support:
            return key.new_zeros(batch, 2 * key.shape[1] + 1, *key.shape[-2:])
        feats = self._stem(clips[:, support].flatten(0, 1))
        feats = feats.view(batch, len(support), *feats.shape[1:])
        return torch.cat([
            feats.mean(dim=1),
            feats.amax(dim=1),
            torch.ones_like(feats[:, 0, :1])
        ],
                         dim=1)

    def forward(self, clips: Tensor) -> Tuple[VideoTokens, Tensor]:
        """Encode clips, pruning tokens (``pruner``) between the per-frame and
        joint stages.

        Args:
            clips (Tensor): Normalised clips, shape (B, T, 3, H, W).

        Returns:
            tuple: ``(video_tokens, fine_feats)``: kept tokens (B, M, C) with
            their positions, and the fine-grained features
            (B, fine_out_channels, H/s, W/s).
        """
        video_tokens = self.forward_frames(clips)
        if self.pruner is not None:
            video_tokens = self.pruner(video_tokens)
        return self.forward_joint(video_tokens), self.forward_fine(clips)
