"""Streaming video pose inference: each frame's tracked poses as soon as its
clip is complete.

Example::

    from mgpose_mm.apis import MMDetBoxes, init_video_pose_model, stream_video_pose
    model = init_video_pose_model(config, checkpoint, device='cpu')
    for prediction in stream_video_pose(model, 'webcam', MMDetBoxes(det_config, det_ckpt)):
        print(prediction.frame_index, prediction.latency, len(prediction.instances))
"""
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Deque, Dict, Iterator, List, Optional, Tuple

import numpy as np
import torch.nn as nn

from .box_sources import BoxSource
from .clip_inference import predict_clips
from .frame_sources import FrameSource
from .stream_sources import open_stream_source
from .tracking import IoUTracker
from .video_inference import FramePoses, TrackedClipInference


@dataclass
class StreamFramePoses(FramePoses):
    """Pose results of one frame of a stream (see :class:`FramePoses`), plus
    timing.

    Attributes:
        arrived_at (float): ``time.perf_counter()`` when the frame was read from the source.
        emitted_at (float): ``time.perf_counter()`` when its poses were ready.
        frames_read (int): frames read from the source when it was emitted: ``frame_index + 1 +
            delay`` during the stream (delay 1 for centred clips, 0 for online ones); at the end
            of a stream the last frames come out with clips clamped to the last frame.
        ended_track_ids (list[int]): tracks that ended at this frame (the tracker dropped them);
            their state is gone, a person seen again later gets a new id.
    """
    arrived_at: float = 0.0
    emitted_at: float = 0.0
    frames_read: int = 0
    ended_track_ids: List[int] = field(default_factory=list)

    @property
    def latency(self) -> float:
        """Seconds from the frame's arrival to its poses (waiting for later
        frames included)."""
        return self.emitted_at - self.arrived_at


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
    """What a stream holds between frames; every part is bounded whatever the
    stream's length.

    Attributes:
        frames: ``(index, frame)`` of the frames later clips need: at most ``span`` (the clip's
            frame span, ``max(offsets) - min(offsets) + 1``), one copy per frame shared by all
            people (each clip crops them with its own key-frame box).
        waiting: frames read whose clip needs frames not read yet: at most ``delay + 1``.
        tracks: track id -> index of the last frame it was seen in, for the live tracks only
            (a track the tracker drops is removed, and reported in ``ended_track_ids``).
        tracker: the stream's :class:`IoUTracker` (its lost tracks live ``max_age`` frames).
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


class StreamingPoseInferencer(TrackedClipInference):
    """Online top-down video pose estimation over a live stream.

    Each frame, as it arrives: person boxes from ``box_source`` (clipped to the image), track
    ids from the tracker. As soon as a frame's clip is complete (its last offset has arrived:
    at once for online clips such as ``(-2, -1, 0)``, one frame later for the centred
    ``(-1, 0, 1)``), the clips of all its people are cropped exactly as by
    :class:`VideoPoseInferencer` (same pipeline, same clamping at the start of the stream), run
    together in batches of ``batch_size``, and the frame is yielded. When the stream ends, the
    frames still waiting are yielded with their clips clamped to the last frame, as file
    inference does at the end of a video. So the poses equal those of file inference.

    Only the frames later clips need, the frames waiting for their clip and the live tracks are
    kept (:class:`StreamState`), so memory stays bounded over an endless stream.

    Args:
        model (nn.Module): from :func:`init_video_pose_model`.
        box_source (BoxSource): person boxes per frame.
        batch_size (int): person clips per forward pass (a frame's people are run together).
            Defaults to 16.
        tracker (IoUTracker, optional): the tracker settings; every stream is tracked with a
            fresh copy (see :class:`TrackedClipInference`). Defaults to ``IoUTracker()``.

    Attributes:
        frame_offsets (tuple[int]): the config's clip frame offsets.
        delay (int): frames a frame waits for its clip: ``max(frame_offsets)``.
        state (StreamState | None): the state of the current (or last) stream.
    """

    def __init__(self,
                 model: nn.Module,
                 box_source: BoxSource,
                 batch_size: int = 16,
                 tracker: Optional[IoUTracker] = None):
        super().__init__(model, box_source, batch_size, tracker)
        self.delay = max(self.frame_offsets)
        self.span = max(self.frame_offsets) - min(self.frame_offsets) + 1
        self.state: Optional[StreamState] = None

    def __call__(self, source, **source_kwargs) -> Iterator[StreamFramePoses]:
        """Predictions of each frame of ``source``, in frame order, as soon as
        possible.

        Args:
            source: anything :func:`open_stream_source` takes (``'webcam'``, a camera index, a
                stream URL, a video file read as a stream, a :class:`FrameSource`, an iterable
                of BGR arrays).
            **source_kwargs: options of :class:`CaptureFrames` (``fps``, ``realtime``,
                ``read_retries``, ``max_frames``).
        """
        frames: FrameSource = open_stream_source(source, **source_kwargs)
        # tracks are per stream, as in file inference: a fresh copy of the given tracker
        state = self.state = StreamState(tracker=self.new_tracker())
        frame_iter = iter(frames)
        last = -1
        try:
            for last, frame in enumerate(frame_iter):
                state.waiting.append(self._arrive(state, last, frame))
                state.frames.append((last, frame))
                if state.waiting[0].index + self.delay <= last:
                    yield self._emit(state, frames, last)
            if getattr(frames, 'completed',
                       True):  # every frame of a finite input was read
                self.box_source.finish(last + 1)
            while state.waiting:
                yield self._emit(state, frames, last)
        finally:
            close = getattr(frame_iter, 'close', None)
            if close is not None:
                close()  # releases a capture when the consumer stops early
            state.frames.clear()
            state.waiting.clear()

    def _arrive(self, state: StreamState, index: int,
                frame: np.ndarray) -> _Arrival:
        """Boxes and track ids of a new frame; update the live tracks."""
        arrived_at = time.perf_counter()
        bboxes, scores = self.frame_boxes(index, frame)
        track_ids = state.tracker.update(bboxes)
        alive = {track.track_id for track in state.tracker.tracks}
        ended = sorted(track_id for track_id in state.tracks
                       if track_id not in alive)
        for track_id in ended:
            del state.tracks[track_id]
        for track_id in track_ids:
            state.tracks[int(track_id)] = index
        return _Arrival(index, arrived_at, bboxes, scores, track_ids, ended)

    def _emit(self, state: StreamState, frames: FrameSource,
              last: int) -> StreamFramePoses:
        """Run the clips of the oldest waiting frame (clamped to frame
        ``last``) and forget the frames no later clip needs."""
        arrival = state.waiting.popleft()
        key = arrival.index
        buffered = dict(state.frames)
        clip_frames, names = self.clip_frames(key, last, frames, buffered)
        clips = [
            self.clip_builder.build(clip_frames, names, bbox, float(score),
                                    key)
            for bbox, score in zip(arrival.bboxes, arrival.scores)
        ]
        results = predict_clips(self.model, clips,
                                self.batch_size) if clips else []
        instances = [
            dict(
                track_id=int(track_id),
                bbox=bbox.copy(),
                bbox_score=float(score),
                **result) for bbox, score, track_id, result in zip(
                    arrival.bboxes, arrival.scores, arrival.track_ids, results)
        ]
        prediction = StreamFramePoses(
            key,
            buffered[key],
            instances,
            arrived_at=arrival.arrived_at,
            emitted_at=time.perf_counter(),
            frames_read=last + 1,
            ended_track_ids=arrival.ended_track_ids)
        first_needed = key + 1 + min(self.frame_offsets)
        while state.frames and state.frames[0][0] < first_needed:
            state.frames.popleft()
        return prediction


def stream_video_pose(model: nn.Module,
                      source,
                      box_source: BoxSource,
                      batch_size: int = 16,
                      tracker: Optional[IoUTracker] = None,
                      **source_kwargs) -> Iterator[StreamFramePoses]:
    """Generator of each frame's tracked poses of a live ``source`` as soon as its clip is
    complete (see :class:`StreamingPoseInferencer`; ``source_kwargs`` go to
    :class:`CaptureFrames`)."""
    inferencer = StreamingPoseInferencer(
        model, box_source, batch_size=batch_size, tracker=tracker)
    yield from inferencer(source, **source_kwargs)
