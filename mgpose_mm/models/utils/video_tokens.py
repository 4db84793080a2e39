"""The token set that flows from the video backbone through its token pruner to
the head."""
from typing import NamedTuple, Tuple

import torch
from torch import Tensor


class VideoTokens(NamedTuple):
    """Tokens of a batch of person clips, possibly with some tokens pruned.

    Every clip starts with ``num_frames * h * w`` tokens laid out frame by
    frame in row-major order. After pruning each clip keeps the same number
    ``M`` of tokens; ``index`` records where each kept token came from, so
    frame and position identity survive the gather.

    Attributes:
        tokens (Tensor): Token features, shape (B, M, C).
        index (Tensor): Flat source position ``t * h * w + y * w + x`` of each
            token, int64, shape (B, M), strictly increasing along M (kept
            tokens stay in their original order).
        num_frames (int): Clip length T.
        key_frame_index (int): Index of the key frame within the clip.
        grid (Tuple[int, int]): Token grid (h, w) of one frame.
    """
    tokens: Tensor
    index: Tensor
    num_frames: int
    key_frame_index: int
    grid: Tuple[int, int]

    @property
    def tokens_per_frame(self) -> int:
        return self.grid[0] * self.grid[1]

    @property
    def frame_of_token(self) -> Tensor:
        """Frame index of every token, shape (B, M)."""
        return torch.div(
            self.index, self.tokens_per_frame, rounding_mode='floor')

    def key_frame_positions(self) -> Tensor:
        """Positions of the key frame's ``h * w`` tokens along M, (B, h*w).

        The key frame is complete and tokens keep their order, so its tokens
        form one contiguous run that starts after the kept tokens of the
        earlier frames.
        """
        n = self.tokens_per_frame
        start = (self.index < self.key_frame_index * n).sum(
            dim=1, keepdim=True)  # (B, 1)
        return start + torch.arange(n, device=self.index.device)

    def key_frame_map(self) -> Tensor:
        """Gather the key frame's tokens (:meth:`key_frame_positions`) back
        onto its grid.

        Returns:
            Tensor: Key-frame feature map, shape (B, C, h, w), in
            channels-last memory format (a view of the gathered tokens).
        """
        batch, _, channels = self.tokens.shape
        positions = self.key_frame_positions()
        key_tokens = self.tokens.gather(
            1,
            positions.unsqueeze(-1).expand(-1, -1, channels))
        return key_tokens.view(batch, *self.grid, channels).permute(0, 3, 1, 2)

    def select(self, keep: Tensor) -> 'VideoTokens':
        """Keep only the tokens at positions ``keep`` (B, M'), ascending,
        gathering them out."""
        channels = self.tokens.shape[-1]
        return self._replace(
            tokens=self.tokens.gather(
                1,
                keep.unsqueeze(-1).expand(-1, -1, channels)),
            index=self.index.gather(1, keep))

    def put_back(self, kept: 'VideoTokens', keep: Tensor) -> 'VideoTokens':
        """This token set with the tokens at positions ``keep`` (B, M')
        replaced by ``kept.tokens`` (B, M', C), e.g. after later layers ran on
        the subset ``self.select(keep)`` only."""
        channels = kept.tokens.shape[-1]
        return self._replace(
            tokens=self.tokens.to(kept.tokens.dtype).scatter(
                1,
                keep.unsqueeze(-1).expand(-1, -1, channels), kept.tokens))
