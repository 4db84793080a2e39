"""Streaming video pose inference: frames -> person boxes -> tracks -> clips ->
keypoints."""
import copy
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np
import torch.nn as nn

from ..utils import clip_frame_numbers
from .box_sources import BoxSource, clip_boxes_to_image
from .clip_inference import ClipBuilder, predict_clips
from .frame_sources import FrameSource, open_frame_source
from .tracking import IoUTracker


@dataclass
class FramePoses:
    """The tracked people's poses in one frame of a video (what
    :class:`VideoPoseInferencer` yields and the writers take).

    Attributes:
        frame_index (int): index of the frame in the input.
        frame (np.ndarray): the frame (H, W, 3) BGR uint8.
        instances (list[dict]): one per person: ``track_id`` (int), ``bbox`` (4,) xyxy,
            ``bbox_score`` (float), ``keypoints`` (K, 2) and ``keypoint_scores`` (K,) in image
            coordinates.
    """
    frame_index: int
    frame: np.ndarray
    instances: List[Dict] = field(default_factory=list)

    def to_dict(self) -> Dict:
        """``{frame_index, instances}`` without the image."""
        return dict(frame_index=self.frame_index, instances=self.instances)


@dataclass
class _PendingFrame:
    prediction: FramePoses
    clips: List[dict]


class TrackedClipInference:
    """What file and stream inference share: the model, the box source, the
    batch size, the tracker settings and the clip builder; boxes per frame, a
    fresh tracker per video and the frames of a key frame's clip.

    Args:
        model (nn.Module): from :func:`init_video_pose_model`.
        box_source (BoxSource): person boxes per frame.
        batch_size (int): person clips per forward pass. Defaults to 16.
        tracker (IoUTracker, optional): the tracker settings. Tracks are per video: every video
            or stream is tracked with a fresh copy of it (reset, ids from 0), so no track of one
            video reaches the next and ``tracker`` itself is left unchanged. Defaults to
            ``IoUTracker()`` (IoU 0.3, max age 5).

    Attributes:
        frame_offsets (tuple[int]): the config's clip frame offsets around the key frame.
    """

    def __init__(self,
                 model: nn.Module,
                 box_source: BoxSource,
                 batch_size: int = 16,
                 tracker: Optional[IoUTracker] = None):
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        self.model = model
        self.box_source = box_source
        self.batch_size = batch_size
        self.tracker = tracker
        self.clip_builder = ClipBuilder(model)
        self.frame_offsets: Tuple[int,
                                  ...] = tuple(self.clip_builder.frame_offsets)

    def new_tracker(self) -> IoUTracker:
        """A fresh copy of the tracker settings (reset, ids from 0) for one
        video or stream."""
        tracker = copy.deepcopy(
            self.tracker) if self.tracker is not None else IoUTracker()
        tracker.reset()
        return tracker

    def frame_boxes(self, index: int,
                    frame: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(N, 4) xyxy boxes and (N,) scores of frame ``index`` from the box
        source, clipped to the image (see :func:`clip_boxes_to_image`)."""
        bboxes, scores = self.box_source(index, frame)
        return clip_boxes_to_image(bboxes, scores, frame.shape[:2], index)

    def clip_frames(self, key: int, last: int, frames: FrameSource,
                    decoded: Dict[int, np.ndarray]
                    ) -> Tuple[List[np.ndarray], List[str]]:
        """The T frames and frame names of the clip around frame ``key``, its
        offsets clamped to frames ``[0, last]``; ``decoded`` maps frame index.

        -> frame.
        """
        indices = clip_frame_numbers(key, self.frame_offsets, 0, last)
        return [decoded[i]
                for i in indices], [frames.frame_name(i) for i in indices]


class VideoPoseInferencer(TrackedClipInference):
    """Top-down video pose estimation over a whole video.

    For every frame, in order: person boxes from ``box_source`` (clipped to the image, see
    :func:`clip_boxes_to_image`), track ids from an :class:`IoUTracker`. For every key frame and
    person: one clip of the frames at the config's ``frame_offsets`` around it (clamped to the
    first/last frame), cropped with the person's key-frame box; clips of many people and frames
    are run together in batches of ``batch_size``.

    Frames are streamed: only the frames spanned by one clip, plus the key frames waiting for
    their batch, are held in memory. Results come out in frame order.

    Args:
        model (nn.Module): from :func:`init_video_pose_model`.
        box_source (BoxSource): person boxes per frame.
        batch_size (int): clips per forward pass. Defaults to 16.
        tracker (IoUTracker, optional): the tracker settings, copied afresh for every video (see
            :class:`TrackedClipInference`). Defaults to ``IoUTracker()``.
    """

    def __init__(self,
                 model: nn.Module,
                 box_source: BoxSource,
                 batch_size: int = 16,
                 tracker: Optional[IoUTracker] = None):
        super().__init__(model, box_source, batch_size, tracker)
        self.min_offset, self.max_offset = min(self.frame_offsets), max(
            self.frame_offsets)

    def __call__(self, source) -> Iterator[FramePoses]:
        """Predictions of every frame of ``source`` (anything
        :func:`open_frame_source` takes)."""
        frames: FrameSource = open_frame_source(source)
        tracker = self.new_tracker()
        self.box_source.start(frames)
        buffer: Dict[int, np.ndarray] = {}
        people: Dict[int, tuple] = {}  # frame -> (bboxes, scores, track_ids)
        pending: List[_PendingFrame] = []
        next_key = 0
        num_frames = 0
        for index, frame in enumerate(frames):
            bboxes, scores = self.frame_boxes(index, frame)
            people[index] = (bboxes, scores, tracker.update(bboxes))
            buffer[index] = frame
            num_frames = index + 1
            while next_key + self.max_offset <= index:
                pending.append(
                    self._key_frame(next_key, index, frames, buffer, people))
                next_key += 1
                self._forget(buffer, next_key)
                yield from self._flush(pending, force=False)
        self.box_source.finish(num_frames)
        while next_key < num_frames:
            pending.append(
                self._key_frame(next_key, num_frames - 1, frames, buffer,
                                people))
            next_key += 1
        yield from self._flush(pending, force=True)

    def _forget(self, buffer: Dict[int, np.ndarray], next_key: int) -> None:
        """Drop frames no later clip needs (before ``next_key +
        min_offset``)."""
        for index in [i for i in buffer if i < next_key + self.min_offset]:
            del buffer[index]

    def _key_frame(self, key: int, last: int, frames: FrameSource,
                   buffer: Dict[int, np.ndarray],
                   people: Dict[int, tuple]) -> _PendingFrame:
        bboxes, scores, track_ids = people.pop(key)
        clip_frames, names = self.clip_frames(key, last, frames, buffer)
        prediction = FramePoses(key, buffer[key])
        clips = []
        for bbox, score, track_id in zip(bboxes, scores, track_ids):
            clips.append(
                self.clip_builder.build(clip_frames, names, bbox, float(score),
                                        key))
            prediction.instances.append(
                dict(
                    track_id=int(track_id),
                    bbox=bbox.copy(),
                    bbox_score=float(score)))
        return _PendingFrame(prediction, clips)

    def _flush(self, pending: List[_PendingFrame],
               force: bool) -> Iterator[FramePoses]:
        """Run the pending clips once a batch is full (or at the end) and emit
        their frames."""
        num_clips = sum(len(p.clips) for p in pending)
        if not pending or not (force or num_clips >= self.batch_size
                               or len(pending) >= self.batch_size):
            return
        results = predict_clips(self.model,
                                [c for p in pending for c in p.clips],
                                self.batch_size)
        position = 0
        for item in pending:
            for instance in item.prediction.instances:
                instance.update(results[position])
                position += 1
            yield item.prediction
        pending.clear()


def inference_video(model: nn.Module,
                    source,
                    box_source: BoxSource,
                    batch_size: int = 16,
                    tracker: Optional[IoUTracker] = None) -> List[Dict]:
    """Pose of every person in every frame of ``source``.

    Returns:
        list[dict]: per frame ``{frame_index, instances: [{track_id, bbox (4,), bbox_score,
        keypoints (K, 2), keypoint_scores (K,)}]}`` in image coordinates.
    """
    inferencer = VideoPoseInferencer(
        model, box_source, batch_size=batch_size, tracker=tracker)
    return [prediction.to_dict() for prediction in inferencer(source)]
