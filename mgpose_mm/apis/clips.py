"""Clip assembly: which frames form each person clip, packing the clips and
running them through the model.

:class:`ClipPoseEstimator` turns frames and per-frame person boxes into tracked
poses. For every frame, as it arrives: person boxes (clipped to the image),
track ids from an :class:`IoUTracker`. As soon as a key frame's clip is
complete (its last offset has arrived: at once for online clips such as
``(-2, -1, 0)``, one frame later for centred ones such as ``(-1, 0, 1)``),
every person's clip of the frames at the config's ``frame_offsets`` around it
(clamped to the first frame, and to the last one at the end of the input) is
cropped with that person's key-frame box. Clips of several key frames are run
together in batches of ``batch_size``, or frame by frame for a live source.
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


def clip_frame_offsets(model: nn.Module) -> Tuple[Tuple[int, ...], int]:
    """The clip layout of the model's config: ``(frame_offsets,
    key_frame_index)``.

    Read from ``test_dataloader.dataset.frame_offsets`` (falling back to the
    top-level ``frame_offsets`` of the config) and checked against the
    backbone's ``num_frames`` and ``key_frame_index``
    (:func:`check_clip_layout`).
    """
    cfg = model.cfg
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    offsets = dataset.get('frame_offsets')
    if offsets is None:
        offsets = cfg.get('frame_offsets')
    if offsets is None:
        raise ConfigValueError(
            'the pose config has no test_dataloader.dataset.frame_offsets '
            '(nor a top-level frame_offsets): cannot tell which frames form '
            'a clip; a single-image model runs with MMPose\'s '
            'MMPoseInferencer')
    offsets = check_frame_offsets(offsets)
    check_clip_layout(
        getattr(model, 'backbone', None), offsets, offsets.index(0),
        'the config\'s test_dataloader.dataset')
    return offsets, offsets.index(0)


def is_loading_step(transform) -> bool:
    """True for a pipeline step that reads files (``LoadVideoFrames``,
    ``LoadImage``, ...): by MMCV/MMPose convention their type names start with
    ``Load``."""
    kind = transform.get('type') if isinstance(transform,
                                               dict) else type(transform)
    name = kind if isinstance(kind, str) else getattr(kind, '__name__',
                                                      str(kind))
    return name.split('.')[-1].startswith('Load')


class ClipBuilder:
    """Turns T decoded frames and one person box into a packed model input.

    Runs the config's ``test_dataloader.dataset.pipeline`` without its loading
    step(s): ``GetBBoxCenterScale`` on the key frame's box, ``TopdownAffine``
    applying that one crop to every frame, ``PackPoseInputs`` /
    ``PackVideoPoseInputs`` stacking them to (T, 3, h, w).

    Args:
        model (nn.Module): a model from :func:`init_video_pose_model`
            (``cfg``, ``dataset_meta``).
    """

    def __init__(self, model: nn.Module):
        pipeline_cfg = model.cfg.test_dataloader.dataset.pipeline
        # transforms are named in the model's scope, whatever scope is current
        with DefaultScope.overwrite_default_scope(
                model.cfg.get('default_scope', 'mmpose')):
            self.pipeline = Compose(
                [step for step in pipeline_cfg if not is_loading_step(step)])
        self.frame_offsets, self.key_frame_index = clip_frame_offsets(model)
        self.dataset_meta = dict(model.dataset_meta or {})
        self._next_id = 0

    def build(self, frames: Sequence[np.ndarray], frame_names: Sequence[str],
              bbox: np.ndarray, bbox_score: float, frame_index: int) -> dict:
        """Pack one person clip.

        Args:
            frames: the T frames (H, W, 3) BGR uint8, ordered like
                ``frame_offsets``.
            frame_names: the T frame names (``frame_paths`` meta).
            bbox (np.ndarray): (4,) xyxy box of the person in the key frame.
            bbox_score (float): its detection score.
            frame_index (int): index of the key frame in the video (``img_id``
                meta).

        Returns:
            dict: ``inputs`` (T, 3, h, w) uint8 tensor and ``data_samples``
            (PoseDataSample).
        """
        key_shape = frames[self.key_frame_index].shape[:2]
        results = dict(
            img=list(frames),
            img_shape=key_shape,
            ori_shape=key_shape,
            img_path=frame_names[self.key_frame_index],
            frame_paths=list(frame_names),
            key_frame_index=self.key_frame_index,
            frame_offsets=self.frame_offsets,
            bbox=np.asarray(bbox, np.float32).reshape(1, 4),
            bbox_score=np.asarray([bbox_score], np.float32),
            id=self._next_id,
            img_id=frame_index,
            category_id=1)
        results.update(self.dataset_meta)
        self._next_id += 1
        packed = self.pipeline(results)
        if packed is None:
            raise RuntimeError(
                f'the test pipeline dropped the clip of frame {frame_index}')
        return packed


@torch.no_grad()
def predict_clips(model: nn.Module, clips: Sequence[dict],
                  batch_size: int) -> List[Dict]:
    """Run ``model.test_step`` over packed clips in batches of ``batch_size``.

    Returns:
        list[dict]: per clip, ``keypoints`` (K, 2) and ``keypoint_scores``
        (K,) float arrays in image coordinates of the key frame.
    """
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    predictions = []
    for start in range(0, len(clips), batch_size):
        samples = model.test_step(
            pseudo_collate(list(clips[start:start + batch_size])))
        for sample in samples:
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
        instances (list[dict]): one per person: ``track_id`` (int), ``bbox``
            (4,) xyxy, ``bbox_score`` (float), ``keypoints`` (K, 2) and
            ``keypoint_scores`` (K,) in image coordinates.
        arrived_at (float): ``time.perf_counter()`` when the frame was read.
        emitted_at (float): ``time.perf_counter()`` when its poses were ready.
        frames_read (int): frames read from the source when its clip was
            assembled: ``frame_index + 1 + delay`` until the input ends.
        ended_track_ids (list[int]): tracks the tracker dropped at this frame;
            a person seen again later gets a new id.
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

    def to_dict(self) -> Dict:
        """``{frame_index, instances}`` without the image."""
        return dict(frame_index=self.frame_index, instances=self.instances)


@dataclass
class _Arrival:
    """A frame read from the source whose clip is not complete yet."""
    index: int
    arrived_at: float
    bboxes: np.ndarray  # (N, 4) xyxy
    scores: np.ndarray  # (N,)
    track_ids: np.ndarray  # (N,)
    ended_track_ids: List[int]


@dataclass
class StreamState:
    """What an input holds between frames; every part is bounded whatever its
    length.

    Attributes:
        frames: ``(index, frame)`` of the frames later clips need: at most the
            clip's span ``max(offsets) - min(offsets) + 1``, one copy per frame
            shared by all people.
        waiting: frames read whose clip needs frames not read yet: at most
            ``delay + 1``.
        tracks: track id -> index of the last frame it was seen in, for the
            live tracks only.
        tracker: the input's :class:`IoUTracker`.
    """
    tracker: IoUTracker
    frames: Deque[Tuple[int, np.ndarray]] = field(default_factory=deque)
    waiting: Deque[_Arrival] = field(default_factory=deque)
    tracks: Dict[int, int] = field(default_factory=dict)

    def sizes(self) -> Dict[str, int]:
        """Number of buffered frames, waiting frames, live tracks and tracker
        tracks."""
        return dict(
            frames=len(self.frames),
            waiting=len(self.waiting),
            tracks=len(self.tracks),
            tracker_tracks=len(self.tracker.tracks))


class ClipPoseEstimator:
    """Tracked clip inference of a video pose model (module docstring).

    Args:
        model (nn.Module): from :func:`init_video_pose_model`.
        batch_size (int): person clips per forward pass. Defaults to 16.
        tracker (IoUTracker, optional): the tracker settings; every input is
            tracked with a fresh copy (ids from 0), ``tracker`` itself is left
            unchanged. Defaults to ``IoUTracker()``.

    Attributes:
        frame_offsets (tuple[int]): the config's clip frame offsets.
        delay (int): frames a frame waits for its clip: ``max(frame_offsets)``.
        span (int): frames one clip spans.
        state (StreamState | None): the state of the current (or last) input.
    """

    def __init__(self,
                 model: nn.Module,
                 batch_size: int = 16,
                 tracker: Optional[IoUTracker] = None):
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        self.model, self.batch_size, self.tracker = model, batch_size, tracker
        self.clip_builder = ClipBuilder(model)
        self.frame_offsets = tuple(self.clip_builder.frame_offsets)
        self.delay = max(self.frame_offsets)
        self.span = max(self.frame_offsets) - min(self.frame_offsets) + 1
        self.state: Optional[StreamState] = None

    def new_tracker(self) -> IoUTracker:
        """A fresh copy of the tracker settings for one input."""
        tracker = copy.deepcopy(
            self.tracker) if self.tracker is not None else IoUTracker()
        tracker.reset()
        return tracker

    def __call__(self,
                 frames: FrameSource,
                 box_source: BoxSource,
                 live: bool = False) -> Iterator[FramePoses]:
        """Poses of every frame of ``frames``, in frame order.

        Args:
            frames (FrameSource): the input.
            box_source (BoxSource): person boxes per frame.
            live (bool): yield each frame as soon as its clip is complete
                (clips run frame by frame); otherwise clips of several frames
                are batched and frames come out when their batch is full.
        """
        state = self.state = StreamState(tracker=self.new_tracker())
        box_source.start(frames)
        pending: List[Tuple[FramePoses, List[dict]]] = []
        frame_iter = iter(frames)
        last = -1
        try:
            for last, frame in enumerate(frame_iter):
                state.waiting.append(
                    self._arrive(state, box_source, last, frame))
                state.frames.append((last, frame))
                while state.waiting and \
                        state.waiting[0].index + self.delay <= last:
                    pending.append(self._assemble(state, frames, last))
                    if live or self._batch_full(pending):
                        yield from self._run(pending)
            # every frame of a finite input was read (a live capture may stop)
            if getattr(frames, 'completed', True):
                box_source.finish(last + 1)
            while state.waiting:
                pending.append(self._assemble(state, frames, last))
                if live or self._batch_full(pending):
                    yield from self._run(pending)
            yield from self._run(pending)
        finally:
            close = getattr(frame_iter, 'close', None)
            if close is not None:
                close()  # releases a capture when the consumer stops early
            state.frames.clear()
            state.waiting.clear()

    def _batch_full(self, pending) -> bool:
        num_clips = sum(len(clips) for _, clips in pending)
        return num_clips >= self.batch_size or len(pending) >= self.batch_size

    def _arrive(self, state: StreamState, box_source: BoxSource, index: int,
                frame: np.ndarray) -> _Arrival:
        """Boxes and track ids of a new frame; update the live tracks."""
        arrived_at = time.perf_counter()
        bboxes, scores = box_source(index, frame)
        bboxes, scores = clip_boxes_to_image(bboxes, scores, frame.shape[:2],
                                             index)
        track_ids = state.tracker.update(bboxes)
        alive = {track.track_id for track in state.tracker.tracks}
        ended = sorted(t for t in state.tracks if t not in alive)
        for track_id in ended:
            del state.tracks[track_id]
        for track_id in track_ids:
            state.tracks[int(track_id)] = index
        return _Arrival(index, arrived_at, bboxes, scores, track_ids, ended)

    def _assemble(self, state: StreamState, frames: FrameSource,
                  last: int) -> Tuple[FramePoses, List[dict]]:
        """The clips of the oldest waiting frame, its offsets clamped to frames
        ``[0, last]``; forget the frames no later clip needs."""
        arrival = state.waiting.popleft()
        key = arrival.index
        buffered = dict(state.frames)
        indices = clip_frame_numbers(key, self.frame_offsets, 0, last)
        clip_frames = [buffered[i] for i in indices]
        names = [frames.frame_name(i) for i in indices]
        clips = [
            self.clip_builder.build(clip_frames, names, bbox, float(score),
                                    key)
            for bbox, score in zip(arrival.bboxes, arrival.scores)
        ]
        instances = [
            dict(
                track_id=int(track_id),
                bbox=bbox.copy(),
                bbox_score=float(score)) for bbox, score, track_id in zip(
                    arrival.bboxes, arrival.scores, arrival.track_ids)
        ]
        prediction = FramePoses(
            key,
            buffered[key],
            instances,
            arrived_at=arrival.arrived_at,
            frames_read=last + 1,
            ended_track_ids=arrival.ended_track_ids)
        first_needed = key + 1 + min(self.frame_offsets)
        while state.frames and state.frames[0][0] < first_needed:
            state.frames.popleft()
        return prediction, clips

    def _run(self, pending: List[Tuple[FramePoses,
                                       List[dict]]]) -> Iterator[FramePoses]:
        """Run the pending clips and yield their frames (in order)."""
        clips = [clip for _, frame_clips in pending for clip in frame_clips]
        results = iter(
            predict_clips(self.model, clips, self.batch_size) if clips else [])
        emitted_at = time.perf_counter()
        done = list(pending)
        pending.clear()
        for prediction, _ in done:
            for instance in prediction.instances:
                instance.update(next(results))
            prediction.emitted_at = emitted_at
            yield prediction
