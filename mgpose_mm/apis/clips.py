"""Clip assembly: which frames form each person clip, packing the clips and
running them through the model.

:class:`ClipPoseEstimator` turns frames and per-frame person boxes into tracked
poses. For every frame, as it arrives: person boxes (clipped to the image) and
track ids (:class:`IoUTracker`). As soon as a key frame's clip is complete
(its last offset has arrived: at once for online clips such as ``(-2, -1,
0)``, one frame later for centred ones such as ``(-1, 0, 1)``), every person's
clip of the frames at the config's ``frame_offsets`` around it (clamped to the
first frame, and to the last one at the end of the input) is cropped with the
person's key-frame box. Clips of several frames run in batches of
``batch_size``, or frame by frame for a live source.
"""
import copy
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Deque, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope

from mgpose_mm.datasets import check_frame_offsets
from mgpose_mm.errors import ConfigValueError
from mgpose_mm.models.utils import check_clip_layout
from ..utils import clip_frame_numbers, to_numpy
from .boxes import BoxSource, clip_boxes_to_image
from .frame_sources import FrameSource
from .tracking import IoUTracker


class ClipBuilder:
    """Packs T frames and one person box into a model input with the config's
    ``test_dataloader.dataset.pipeline`` without its loading steps (by MMPose
    convention, the ``Load*`` ones): ``GetBBoxCenterScale`` on the key frame's
    box, ``TopdownAffine`` applying that crop to every frame, and
    ``PackVideoPoseInputs`` stacking them to (T, 3, h, w).

    Args:
        model (nn.Module): from :func:`init_video_pose_model` (``cfg``,
            ``dataset_meta``).

    Attributes:
        frame_offsets (tuple[int]): the test dataset's ``frame_offsets``
            (else the config's top-level one), checked against the backbone.
        key_frame_index (int): position of offset 0.
    """

    def __init__(self, model: nn.Module):
        cfg = model.cfg
        dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
        offsets = dataset.get('frame_offsets', cfg.get('frame_offsets'))
        if offsets is None:
            raise ConfigValueError(
                'the pose config has no test_dataloader.dataset.frame_offsets '
                '(nor a top-level frame_offsets): cannot tell which frames '
                'form a clip; a single-image model runs with MMPose\'s '
                'MMPoseInferencer')
        self.frame_offsets = tuple(check_frame_offsets(offsets))
        self.key_frame_index = self.frame_offsets.index(0)
        check_clip_layout(
            getattr(model, 'backbone', None), self.frame_offsets,
            self.key_frame_index, 'the config\'s test_dataloader.dataset')

        def loads(step) -> bool:
            kind = step.get('type') if isinstance(step, dict) else type(step)
            name = getattr(kind, '__name__', str(kind))
            return name.split('.')[-1].startswith('Load')

        # transforms are named in the model's scope, whatever scope is current
        with DefaultScope.overwrite_default_scope(
                cfg.get('default_scope', 'mmpose')):
            self.pipeline = Compose(
                [step for step in dataset.pipeline if not loads(step)])
        self.dataset_meta = dict(model.dataset_meta or {})

    def build(self, frames: Sequence[np.ndarray], frame_names: Sequence[str],
              bbox: np.ndarray, bbox_score: float, frame_index: int) -> dict:
        """Pack one person clip.

        Args:
            frames: the T frames (H, W, 3) BGR uint8, in ``frame_offsets``
                order.
            frame_names: the T frame names (``frame_paths`` meta).
            bbox (np.ndarray): (4,) xyxy box of the person in the key frame.
            bbox_score (float): its score.
            frame_index (int): the key frame's index (``img_id`` meta).

        Returns:
            dict: ``inputs`` (T, 3, h, w) uint8 tensor and ``data_samples``.
        """
        key_shape = frames[self.key_frame_index].shape[:2]
        packed = self.pipeline(
            dict(
                img=list(frames),
                img_shape=key_shape,
                ori_shape=key_shape,
                img_path=frame_names[self.key_frame_index],
                frame_paths=list(frame_names),
                key_frame_index=self.key_frame_index,
                frame_offsets=self.frame_offsets,
                bbox=np.asarray(bbox, np.float32).reshape(1, 4),
                bbox_score=np.asarray([bbox_score], np.float32),
                id=frame_index,
                img_id=frame_index,
                category_id=1,
                **self.dataset_meta))
        if packed is None:
            raise RuntimeError(
                f'the test pipeline dropped the clip of frame {frame_index}')
        return packed


@torch.no_grad()
def predict_clips(model: nn.Module, clips: Sequence[dict],
                  batch_size: int) -> List[Dict]:
    """``model.test_step`` over packed clips in batches of ``batch_size``.

    Returns:
        list[dict]: per clip, ``keypoints`` (K, 2) and ``keypoint_scores``
        (K,) in pixels of the key frame.
    """
    predictions = []
    for start in range(0, len(clips), batch_size):
        for sample in model.test_step(
                pseudo_collate(list(clips[start:start + batch_size]))):
            pred = sample.pred_instances
            predictions.append(
                dict(
                    keypoints=to_numpy(pred.keypoints, np.float32)[0],
                    keypoint_scores=to_numpy(pred.keypoint_scores,
                                             np.float32)[0]))
    return predictions


@dataclass
class FramePoses:
    """The tracked people's poses in one frame.

    Attributes:
        frame_index (int): index of the frame in the input.
        frame (np.ndarray): the frame (H, W, 3) BGR uint8.
        instances (list[dict]): per person ``track_id``, ``bbox`` (4,) xyxy,
            ``bbox_score``, ``keypoints`` (K, 2), ``keypoint_scores`` (K,).
        arrived_at (float): ``time.perf_counter()`` when the frame was read.
        emitted_at (float): ``time.perf_counter()`` when its poses were ready.
        frames_read (int): frames read when its clip was assembled:
            ``frame_index + 1 + delay`` until the input ends.
        ended_track_ids (list[int]): tracks the tracker dropped at this frame.
    """
    frame_index: int
    frame: np.ndarray
    instances: List[Dict] = field(default_factory=list)
    arrived_at: float = 0.0
    emitted_at: float = 0.0
    frames_read: int = 0
    ended_track_ids: List[int] = field(default_factory=list)

    @property
    def latency(self) -> float:
        """Seconds from the frame's arrival to its poses (waiting for the
        clip's later frames included)."""
        return self.emitted_at - self.arrived_at


@dataclass
class StreamState:
    """What an input holds between frames, bounded whatever its length.

    Attributes:
        tracker (IoUTracker): the input's tracker (its live tracks).
        frames: ``(index, frame)`` later clips need: at most the clip's span.
        waiting: :class:`FramePoses` whose clip needs frames not read yet: at
            most ``delay + 1``.
    """
    tracker: IoUTracker
    frames: Deque[Tuple[int, np.ndarray]] = field(default_factory=deque)
    waiting: Deque[FramePoses] = field(default_factory=deque)


class ClipPoseEstimator:
    """Tracked clip inference of a video pose model (module docstring).

    Args:
        model (nn.Module): from :func:`init_video_pose_model`.
        batch_size (int): person clips per forward pass. Defaults to 16.
        tracker (IoUTracker, optional): tracker settings; every input is
            tracked by a fresh copy (ids from 0). Defaults to ``IoUTracker()``.

    Attributes:
        delay (int): frames a frame waits for its clip, ``max(frame_offsets)``.
        span (int): frames one clip spans.
        state (StreamState | None): the state of the current (or last) input.
    """

    def __init__(self,
                 model: nn.Module,
                 batch_size: int = 16,
                 tracker: Optional[IoUTracker] = None):
        self.model, self.batch_size, self.tracker = model, batch_size, tracker
        self.clip_builder = ClipBuilder(model)
        offsets = self.clip_builder.frame_offsets
        self.delay = max(offsets)
        self.span = max(offsets) - min(offsets) + 1
        self.state: Optional[StreamState] = None

    def __call__(self,
                 frames: FrameSource,
                 box_source: BoxSource,
                 live: bool = False) -> Iterator[FramePoses]:
        """Poses of every frame of ``frames``, in order; ``live``: each frame
        as soon as its clip is complete, else when a batch is full."""
        tracker = copy.deepcopy(self.tracker or IoUTracker())
        tracker.reset()
        state = self.state = StreamState(tracker)
        box_source.start(frames)
        pending: List[Tuple[FramePoses, List[dict]]] = []
        frame_iter = iter(frames)
        last = -1
        try:
            for last, frame in enumerate(frame_iter):
                state.waiting.append(self._arrive(box_source, last, frame))
                state.frames.append((last, frame))
                yield from self._assemble_until(last - self.delay, frames,
                                                last, pending, live)
            # every frame of a finite input was read (a live capture may stop)
            if getattr(frames, 'completed', True):
                box_source.finish(last + 1)
            yield from self._assemble_until(last, frames, last, pending, live)
            yield from self._run(pending)
        finally:
            getattr(frame_iter, 'close', lambda: None)()  # releases a capture
            state.frames.clear()
            state.waiting.clear()

    def _assemble_until(self, key: int, frames: FrameSource, last: int,
                        pending: List, live: bool) -> Iterator[FramePoses]:
        """Assemble the clips of the waiting frames up to ``key``; run them
        live or whenever a batch is full."""
        while self.state.waiting and self.state.waiting[0].frame_index <= key:
            pending.append(self._assemble(frames, last))
            if live or self._batch_full(pending):
                yield from self._run(pending)

    def _batch_full(self, pending) -> bool:
        num_clips = sum(len(clips) for _, clips in pending)
        return max(num_clips, len(pending)) >= self.batch_size

    def _arrive(self, box_source: BoxSource, index: int,
                frame: np.ndarray) -> FramePoses:
        """Boxes and track ids of a new frame."""
        arrived_at, tracker = time.perf_counter(), self.state.tracker
        bboxes, scores = clip_boxes_to_image(*box_source(index, frame),
                                             frame.shape[:2], index)
        instances = [
            dict(track_id=int(t), bbox=b, bbox_score=float(s))
            for b, s, t in zip(bboxes, scores, tracker.update(bboxes))
        ]
        return FramePoses(
            index,
            None,
            instances,
            arrived_at,
            ended_track_ids=list(tracker.ended_ids))

    def _assemble(self, frames: FrameSource,
                  last: int) -> Tuple[FramePoses, List[dict]]:
        """The clips of the oldest waiting frame, offsets clamped to ``[0,
        last]``; forget the frames no later clip needs."""
        poses = self.state.waiting.popleft()
        key = poses.frame_index
        buffered = dict(self.state.frames)
        indices = clip_frame_numbers(key, self.clip_builder.frame_offsets, 0,
                                     last)
        clip_frames = [buffered[i] for i in indices]
        names = [frames.frame_name(i) for i in indices]
        clips = [
            self.clip_builder.build(clip_frames, names, inst['bbox'],
                                    inst['bbox_score'], key)
            for inst in poses.instances
        ]
        poses.frame, poses.frames_read = buffered[key], last + 1
        first_needed = key + 1 + min(self.clip_builder.frame_offsets)
        while self.state.frames and self.state.frames[0][0] < first_needed:
            self.state.frames.popleft()
        return poses, clips

    def _run(self, pending: List[Tuple[FramePoses,
                                       List[dict]]]) -> Iterator[FramePoses]:
        """Run the pending clips and yield their frames, in order."""
        clips = [clip for _, frame_clips in pending for clip in frame_clips]
        results = iter(predict_clips(self.model, clips, self.batch_size))
        emitted_at = time.perf_counter()
        done = list(pending)
        pending.clear()
        for poses, _ in done:
            for instance in poses.instances:
                instance.update(next(results))
            poses.emitted_at = emitted_at
            yield poses
