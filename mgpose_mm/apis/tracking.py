"""IoU tracking of person boxes across frames (Hungarian matching, lost tracks
kept a while)."""
from dataclasses import dataclass
from typing import List

import numpy as np
import torch
from mmpose.structures.bbox import bbox_overlaps
from scipy.optimize import linear_sum_assignment


@dataclass
class _Track:
    track_id: int
    bbox: np.ndarray  # (4,) xyxy, the last matched box
    age: int = 0  # frames since the last match


class IoUTracker:
    """Assign track ids to the boxes of consecutive frames.

    Each frame's boxes are matched to the live tracks by maximising the total
    IoU with the Hungarian algorithm
    (``scipy.optimize.linear_sum_assignment``); a pair is accepted only when
    its IoU is at least ``iou_thr``. Matched tracks take the new box; unmatched
    boxes start new tracks (ids 0, 1, 2, ... in order of appearance); a track
    unmatched for more than ``max_age`` consecutive frames is dropped, so a
    person missed for up to ``max_age`` frames keeps its id.

    Args:
        iou_thr (float): minimum IoU of a match. Defaults to 0.3.
        max_age (int): frames a lost track is kept. Defaults to 5.
    """

    def __init__(self, iou_thr: float = 0.3, max_age: int = 5):
        if not 0 < iou_thr <= 1:
            raise ValueError(f'iou_thr must be in (0, 1], got {iou_thr}')
        if max_age < 0:
            raise ValueError(f'max_age must be >= 0, got {max_age}')
        self.iou_thr = iou_thr
        self.max_age = max_age
        self.reset()

    def reset(self) -> None:
        """Forget every track; ids start again from 0 (the start of a new
        video)."""
        self.tracks: List[_Track] = []
        self.next_id = 0
        self.ended_ids: List[int] = []

    def update(self, bboxes: np.ndarray) -> np.ndarray:
        """Track ids of the boxes of the next frame.

        Args:
            bboxes (np.ndarray): (N, 4) xyxy boxes of this frame.

        Returns:
            np.ndarray: (N,) int64 track ids; ``ended_ids`` then lists the
            tracks dropped at this frame.
        """
        bboxes = np.asarray(bboxes, dtype=np.float32).reshape(-1, 4)
        track_ids = np.full(len(bboxes), -1, dtype=np.int64)
        matched_tracks = set()
        if self.tracks and len(bboxes):
            iou = bbox_overlaps(
                torch.from_numpy(np.stack([t.bbox for t in self.tracks])),
                torch.from_numpy(bboxes)).numpy()
            rows, cols = linear_sum_assignment(-iou)
            for row, col in zip(rows, cols):
                if iou[row, col] >= self.iou_thr:
                    track = self.tracks[row]
                    track.bbox, track.age = bboxes[col].copy(), 0
                    track_ids[col] = track.track_id
                    matched_tracks.add(row)
        for row, track in enumerate(self.tracks):
            if row not in matched_tracks:
                track.age += 1
        self.ended_ids = [
            t.track_id for t in self.tracks if t.age > self.max_age
        ]
        self.tracks = [t for t in self.tracks if t.age <= self.max_age]
        for col in np.flatnonzero(track_ids < 0):
            self.tracks.append(_Track(self.next_id, bboxes[col].copy()))
            track_ids[col] = self.next_id
            self.next_id += 1
        return track_ids
