"""Video pose inference with MMPose's inferencer conventions.

Example::

    from mgpose_mm.apis import VideoPoseInferencer
    inferencer = VideoPoseInferencer(
        pose2d='ftp-pose_vit-tiny_1xb16-12e_synthetic-128x96',
        pose2d_weights='work_dirs/quickstart/epoch_12.pth',
        det_model='whole_image')
    for result in inferencer('video.mp4', vis_out_dir='vis_results'):
        print(result['predictions'][0])  # the people of one frame
"""
import copy
import os
import os.path as osp
import sys
import warnings
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Union

import numpy as np
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.infer import BaseInferencer
from mmengine.utils import track_iter_progress

from mgpose_mm.errors import InputFileError
from mgpose_mm.utils import check_file
from mgpose_mm.visualization import VideoPoseVisualizer
from .boxes import BoxSource, WholeImageBoxes, boxes_from
from .clips import ClipPoseEstimator, FramePoses
from .frame_sources import (StopOnInterrupt, open_input, output_stem,
                            stream_target)
from .models import MMDetBoxes, init_video_pose_model, model_zoo_entry
from .tracking import IoUTracker
from .writers import DrawnFramesWriter, LatencyStats, PredictionJsonWriter


def _show_setting(inputs, show: bool) -> bool:
    """Whether to display: always for a webcam (as MMPose), never without a
    display on Linux (Qt builds of OpenCV abort there)."""
    webcam = stream_target(inputs) is not None and str(
        inputs).strip().lower().startswith('webcam')
    if webcam and not show:
        warnings.warn('webcam input: the display is turned on (as MMPose)')
        show = True
    if show and sys.platform.startswith('linux') and not (
            os.environ.get('DISPLAY') or os.environ.get('WAYLAND_DISPLAY')):
        warnings.warn('show: no display (DISPLAY is not set); continuing '
                      'without display')
        show = False
    return show


class VideoPoseInferencer(BaseInferencer):
    """Video pose estimation with the conventions of MMPose's
    ``MMPoseInferencer``.

    For every frame: person boxes (a detector, ``bboxes`` given to the call,
    or the whole image), track ids (IoU tracking), and for every person the
    clip of the frames at the config's ``frame_offsets`` around the frame
    through the model (:mod:`mgpose_mm.apis.clips`). The call yields one
    result per frame, in order; a live input (``'webcam'``, a camera index, a
    stream URL, ``stream=True``) yields each frame as soon as its clip is
    complete.

    Args:
        pose2d (str | Config): a config file, or a model-zoo name of
            ``configs/ftp_pose/ftp_pose.yml``.
        pose2d_weights (str, optional): checkpoint file or URL. Without one
            the model keeps random weights, with a warning, as MMPose does.
        device (str, optional): Defaults to CUDA when available, else CPU.
        det_model (str | Config, optional): the person detector: a config
            file or an MMDetection model-zoo name; ``'whole_image'`` for none.
            Defaults to MMPose's default person detector.
        det_weights (str, optional): detector weights file or URL.
        det_cat_ids (int | Sequence[int]): person label(s) of the detector.
            Defaults to 0 (COCO).
        tracker (IoUTracker, optional): tracking settings; every input is
            tracked afresh. Defaults to ``IoUTracker()``.
        trust_checkpoint (bool): allow a full unpickle of checkpoints holding
            other objects than weights (it runs code from the file).
        show_progress (bool): a progress bar over the frames of a file.
    """

    preprocess_kwargs: set = {
        'bboxes', 'bbox_thr', 'nms_thr', 'stream', 'fps', 'realtime',
        'max_frames', 'read_retries'
    }
    forward_kwargs: set = set()
    visualize_kwargs: set = {
        'return_vis', 'show', 'draw_bbox', 'radius', 'thickness', 'kpt_thr',
        'vis_out_dir'
    }
    postprocess_kwargs: set = {'pred_out_dir'}

    def __init__(self,
                 pose2d: Union[str, Config],
                 pose2d_weights: Optional[str] = None,
                 device: Optional[str] = None,
                 det_model: Optional[Union[str, Config]] = None,
                 det_weights: Optional[str] = None,
                 det_cat_ids: Union[int, Sequence[int]] = 0,
                 tracker: Optional[IoUTracker] = None,
                 trust_checkpoint: bool = False,
                 show_progress: bool = False) -> None:
        self.tracker, self.trust_checkpoint = tracker, trust_checkpoint
        super().__init__(
            model=str(pose2d) if isinstance(pose2d, Path) else pose2d,
            weights=pose2d_weights,
            device=device,
            scope='mmpose',
            show_progress=show_progress)
        self.estimator: ClipPoseEstimator = self.pipeline
        self.detector = None
        if det_model != 'whole_image':
            if det_model is None:
                from mmpose.apis.inferencers.utils import default_det_models
                det_model = default_det_models['human']['model']
                det_weights = default_det_models['human']['weights']
            self.detector = MMDetBoxes(
                det_model,
                det_weights,
                device=str(next(self.model.parameters()).device),
                det_cat_ids=det_cat_ids,
                trust_checkpoint=trust_checkpoint)
        self.latency = LatencyStats()

    def _load_model_from_metafile(self, model: str):
        if '/' in model or os.sep in model or model.endswith('.py'):
            check_file(model, 'pose config')
        config, weights = model_zoo_entry('mgpose_mm', model)
        return Config.fromfile(config), weights

    def _init_model(self, cfg, weights: Optional[str],
                    device: str) -> nn.Module:
        if weights is None:
            warnings.warn('Checkpoint is not loaded, and the inference result '
                          'is calculated by the randomly initialized model!')
        return init_video_pose_model(
            Config(cfg.to_dict()) if not isinstance(cfg, Config) else cfg,
            weights,
            device=device,
            trust_checkpoint=self.trust_checkpoint)

    def _init_pipeline(self, cfg) -> ClipPoseEstimator:
        """Clip assembly and batched model calls (in place of the image
        pipeline of MMPose's inferencers)."""
        return ClipPoseEstimator(self.model, tracker=self.tracker)

    def _init_collate(self, cfg):
        return pseudo_collate  # clips are collated by predict_clips

    def _init_visualizer(self, cfg) -> VideoPoseVisualizer:
        cfg = copy.deepcopy(cfg)
        cfg.visualizer = dict(
            cfg.get('visualizer') or {},
            type=VideoPoseVisualizer,
            vis_backends=None,
            save_dir=None)
        visualizer = super()._init_visualizer(cfg)
        visualizer.set_dataset_meta(
            self.model.dataset_meta, skeleton_style='mmpose')
        return visualizer

    def __call__(self,
                 inputs,
                 batch_size: int = 16,
                 out_dir: Optional[str] = None,
                 **kwargs) -> Iterator[Dict]:
        """Pose results of every frame of ``inputs``, one dict per frame.

        Args:
            inputs: a video file, a folder of frames, an image file, a list
                of image files or (H, W, 3) BGR arrays, ``'webcam'``,
                ``'webcam:N'``, a camera index, a stream URL, any iterable of
                frames or a :class:`FrameSource`.
            batch_size (int): person clips per forward pass. Defaults to 16.
            out_dir (str, optional): ``vis_out_dir`` = ``out_dir/
                visualizations``, ``pred_out_dir`` = ``out_dir/predictions``.
            **kwargs: ``bboxes`` (boxes used as given instead of the
                detector: per frame an (N, 4) or (N, 5) array, a boxes JSON
                file or a :class:`BoxSource`), ``bbox_thr``, ``nms_thr``
                (detector, 0.3), ``stream`` (read a video file live),
                ``fps`` (of the drawn video), ``realtime``, ``max_frames``,
                ``read_retries`` (live inputs, :class:`CaptureFrames`),
                ``show``, ``vis_out_dir`` (``<name>.mp4``, or the image),
                ``pred_out_dir`` (``<name>.json``,
                :class:`PredictionJsonWriter`), ``return_vis``, ``kpt_thr``,
                ``radius``, ``thickness``, ``draw_bbox`` (drawing: 0.3, 3,
                1, True).

        Yields:
            dict: ``predictions``: ``[instances]`` (as MMPose per image),
            each with ``keypoints`` (K, 2), ``keypoint_scores`` (K,),
            ``bbox`` (``([x1, y1, x2, y2],)``), ``bbox_score`` and
            ``track_id``; ``visualization``: ``[drawn RGB frame]`` with
            ``return_vis``, else ``[]``.
        """
        if out_dir is not None:
            kwargs.setdefault('vis_out_dir', osp.join(out_dir,
                                                      'visualizations'))
            kwargs.setdefault('pred_out_dir', osp.join(out_dir, 'predictions'))
        pre, _, vis, post = self._dispatch_kwargs(**kwargs)
        vis['show'] = _show_setting(inputs, vis.get('show', False))
        frames, live = self._open_inputs(inputs, batch_size, pre)
        box_source = self._box_source(pre)
        outputs = self._open_outputs(inputs, frames, live, vis, post)
        self.latency = LatencyStats()
        poses_iter = self.estimator(frames, box_source, live)
        if self.show_progress and frames.num_frames and not live:
            poses_iter = track_iter_progress((poses_iter, frames.num_frames))
        try:
            with StopOnInterrupt(frames):
                for poses in poses_iter:
                    self.latency.add(poses)
                    drawn = self.visualize(poses, outputs, **vis)
                    yield self.postprocess(poses, drawn, outputs, **vis)
        except BaseException:
            # a live input keeps what was written, a file's outputs go (an
            # earlier output at the same path stays)
            for writer in outputs.values():
                (writer.close
                 if live and self.latency.count else writer.abort)()
            raise
        for writer in outputs.values():
            writer.close()
            print(f'{writer.path} has been saved')

    def estimate(self,
                 inputs,
                 batch_size: int = 16,
                 **kwargs) -> Iterator[FramePoses]:
        """The per-frame :class:`FramePoses` (arrays, frame, timing) behind
        :meth:`__call__`, with its input and box arguments, no outputs."""
        other = set(kwargs) - self.preprocess_kwargs
        if other:
            raise ValueError(f'estimate() takes no {sorted(other)}: outputs '
                             'are written by calling the inferencer')
        frames, live = self._open_inputs(inputs, batch_size, kwargs)
        yield from self.estimator(frames, self._box_source(kwargs), live)

    def _open_inputs(self, inputs, batch_size: int, pre: dict):
        """``(FrameSource, live)``; cameras, URLs, live sources and
        ``stream=True`` inputs are live."""
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError('batch_size must be an integer >= 1, got '
                             f'{batch_size!r}')
        self.estimator.batch_size = batch_size
        frames = open_input(
            inputs, **{
                k: pre[k]
                for k in ('stream', 'fps', 'realtime', 'max_frames',
                          'read_retries') if k in pre
            })
        return frames, bool(pre.get('stream')) or hasattr(frames, 'stop')

    def _box_source(self, pre: dict) -> BoxSource:
        if pre.get('bboxes') is not None:
            return boxes_from(pre['bboxes'])
        if self.detector is None:
            return WholeImageBoxes()
        self.detector.bbox_thr = pre.get('bbox_thr', 0.3)
        self.detector.nms_thr = pre.get('nms_thr', 0.3)
        return self.detector

    def _open_outputs(self, inputs, frames, live: bool, vis: dict,
                      post: dict) -> dict:
        """The writers of ``vis_out_dir`` and ``pred_out_dir``, named after the
        input."""
        for folder in (vis.get('vis_out_dir'), post.get('pred_out_dir')):
            if folder and osp.exists(folder) and not osp.isdir(folder):
                raise InputFileError(f'{folder} is a file, not a folder')
        stem, outputs = output_stem(inputs), {}
        if vis.get('vis_out_dir'):
            # a one-image input is drawn as an image of the same name
            image = not live and frames.num_frames == 1 and isinstance(
                inputs, (str, os.PathLike)) and osp.isfile(inputs)
            outputs['vis'] = DrawnFramesWriter(
                osp.join(vis['vis_out_dir'],
                         osp.basename(inputs) if image else f'{stem}.mp4'),
                frames.fps)
        if post.get('pred_out_dir'):
            outputs['pred'] = PredictionJsonWriter(
                osp.join(post['pred_out_dir'], f'{stem}.json'))
        return outputs

    def visualize(self,
                  poses: FramePoses,
                  outputs: dict,
                  return_vis: bool = False,
                  show: bool = False,
                  vis_out_dir: str = '',
                  kpt_thr: float = 0.3,
                  radius: int = 3,
                  thickness: int = 1,
                  draw_bbox: bool = True) -> Optional[np.ndarray]:
        """The drawn frame (BGR) when it is shown, written or returned."""
        if not (return_vis or show or vis_out_dir):
            return None
        self.visualizer.radius, self.visualizer.line_width = radius, thickness
        drawn = self.visualizer.draw_tracked_poses(poses.frame,
                                                   poses.instances, kpt_thr,
                                                   draw_bbox)
        if 'vis' in outputs:
            outputs['vis'].write(drawn)
        if show:
            self.visualizer.show(drawn, 'video pose', 1e-3, backend='cv2')
        return drawn

    def postprocess(self,
                    poses: FramePoses,
                    drawn: Optional[np.ndarray],
                    outputs: dict,
                    return_vis: bool = False,
                    **kwargs) -> Dict[str, List]:
        """MMPose's result dict of one frame; its predictions go to the
        ``pred_out_dir`` writer."""
        instances = mmpose_instances(poses.instances)
        if 'pred' in outputs:
            outputs['pred'].write(poses.frame_index, instances)
        visualization = [np.ascontiguousarray(drawn[..., ::-1])
                         ] if return_vis and drawn is not None else []
        return dict(predictions=[instances], visualization=visualization)


def mmpose_instances(instances: List[Dict]) -> List[Dict]:
    """Per-person dicts in the layout of MMPose's inferencers
    (:func:`mmpose.structures.split_instances`), plus ``track_id``."""
    return [
        dict(
            keypoints=i['keypoints'].tolist(),
            keypoint_scores=i['keypoint_scores'].tolist(),
            bbox=(i['bbox'].tolist(), ),
            bbox_score=float(i['bbox_score']),
            track_id=int(i['track_id'])) for i in instances
    ]
