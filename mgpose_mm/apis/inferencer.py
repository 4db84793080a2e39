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
import warnings
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Union

import numpy as np
import torch.nn as nn
from mmengine.config import Config, ConfigDict
from mmengine.dataset import pseudo_collate
from mmengine.infer import BaseInferencer
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.structures import InstanceData
from mmengine.utils import ProgressBar
from mmpose.apis import init_model
from mmpose.structures import split_instances

# Registers MGFEViT & co. and the video datasets (the config's dataset type
# gives the default dataset_meta).
import mgpose_mm.datasets  # noqa: F401
import mgpose_mm.models  # noqa: F401
from mgpose_mm.engine import (check_state_dict_matches, checkpoint_state_dict,
                              trusted_checkpoints)
from mgpose_mm.errors import CheckpointMismatchError, InputFileError
from .boxes import Boxes, BoxSource, MMDetBoxes, _file_kind, boxes_from
from .clips import ClipPoseEstimator, FramePoses
from .frame_sources import (IMAGE_EXTENSIONS, FrameSource, StopOnInterrupt,
                            is_stream_input, open_frame_source,
                            open_stream_source, stream_output_stem)
from .tracking import IoUTracker
from .writers import (AnnotatedImageWriter, AnnotatedVideoWriter, LatencyStats,
                      PoseFrameDrawer, PredictionJsonWriter, Window)

RANDOM_WEIGHTS_WARNING = (
    'Checkpoint is not loaded, and the inference result is calculated by the '
    'randomly initialized model!')


def init_video_pose_model(config: Union[str, Path, Config],
                          checkpoint: Optional[str] = None,
                          device: str = 'cpu',
                          cfg_options: Optional[dict] = None,
                          trust_checkpoint: bool = False) -> nn.Module:
    """Build a video top-down pose model (e.g. FTP-Pose) for inference.

    The model is built by :func:`mmpose.apis.init_model` (``model.cfg``,
    ``model.dataset_meta``, eval mode); the checkpoint is then loaded
    **strictly**: missing or unexpected keys or shape mismatches raise
    :class:`CheckpointMismatchError` naming the keys. ``dataset_meta`` comes
    from the checkpoint's ``meta['dataset_meta']`` when present, else from the
    config's training dataset type.

    Args:
        config (str | Path | Config): pose config.
        checkpoint (str, optional): checkpoint file or ``http(s)://`` URL
            (MMEngine format with ``state_dict``, or a bare state dict). None
            keeps the random initial weights.
        device (str): e.g. ``'cpu'`` or ``'cuda:0'``.
        cfg_options (dict, optional): overrides merged into the config.
        trust_checkpoint (bool): allow a full unpickle of a checkpoint holding
            other types than weights and MMEngine checkpoint objects (it can
            run code from the file). Defaults to False.

    Returns:
        nn.Module: the model in eval mode on ``device``.
    """
    if isinstance(config, (str, Path)):
        if not osp.isfile(str(config)):
            raise FileNotFoundError(
                f'pose config not found: {config} ({_file_kind(str(config))})')
        config = Config.fromfile(str(config))
    elif isinstance(config, Config):
        config = copy.deepcopy(config)
    else:
        raise TypeError('config must be a file path or a Config, got '
                        f'{type(config).__name__}')
    if checkpoint is not None and '://' not in checkpoint and \
            not osp.isfile(checkpoint):
        raise FileNotFoundError(f'pose checkpoint not found: {checkpoint} '
                                f'({_file_kind(checkpoint)})')
    model = init_model(config, None, device='cpu', cfg_options=cfg_options)
    if checkpoint is not None:
        with trusted_checkpoints(trust_checkpoint):
            loaded = CheckpointLoader.load_checkpoint(
                checkpoint, map_location='cpu')
        if not isinstance(loaded, dict):
            raise CheckpointMismatchError(
                f'pose checkpoint {checkpoint} does not hold a dict of '
                'weights')
        state_dict = checkpoint_state_dict(loaded)
        check_state_dict_matches(model, state_dict,
                                 f'pose checkpoint {checkpoint}')
        model.load_state_dict(state_dict, strict=True)
        dataset_meta = (loaded.get('meta') or {}).get('dataset_meta')
        if dataset_meta:
            model.dataset_meta = dataset_meta
    model.to(device)
    model.eval()
    return model


class WholeImageBoxes(BoxSource):
    """One box per frame covering the whole image (``det_model='whole_image'``
    without ``bboxes``), score 1, as MMPose's inferencers do."""

    def __call__(self, frame_index: int, frame: np.ndarray) -> Boxes:
        height, width = frame.shape[:2]
        return (np.array([[0, 0, width, height]],
                         np.float32), np.ones(1, np.float32))


class VideoPoseInferencer(BaseInferencer):
    """Video pose estimation with the conventions of MMPose's
    ``MMPoseInferencer``.

    For every frame: person boxes (a detector, ``bboxes`` given to the call,
    or the whole image), track ids (IoU tracking), and for every person the
    clip of the frames at the config's ``frame_offsets`` around the frame
    through the model (see :mod:`mgpose_mm.apis.clips`). The call yields one
    result per frame, in frame order; a live input (``'webcam'``, a camera
    index, a stream URL, ``stream=True``) yields each frame as soon as its clip
    is complete.

    Args:
        pose2d (str | Config): a config file, or a model-zoo name from the
            metafile (``configs/ftp_pose/ftp_pose.yml``), e.g.
            ``'ftp-pose_vit-tiny_1xb16-12e_synthetic-128x96'``.
        pose2d_weights (str, optional): checkpoint file or URL. Without one
            (no released weights exist) the model keeps random weights, with a
            warning, as MMPose does.
        device (str, optional): Defaults to CUDA when available, else CPU.
        det_model (str | Config, optional): the person detector: a config file
            or an MMDetection model-zoo name
            (``'rtmdet_tiny_8xb32-300e_coco'``, ``'rtmdet-t'``);
            ``'whole_image'`` for none (one box per frame covering the image
            unless ``bboxes`` are given). Defaults to MMPose's default person
            detector.
        det_weights (str, optional): detector weights file (or URL).
        det_cat_ids (int | Sequence[int]): person label(s) of the detector.
            Defaults to 0 (COCO).
        tracker (IoUTracker, optional): tracking settings; every input is
            tracked afresh (ids from 0). Defaults to ``IoUTracker()``.
        trust_checkpoint (bool): allow a full unpickle of checkpoints holding
            other Python objects than weights (it runs code from the file).
            Defaults to False.
        show_progress (bool): a progress bar over the frames. Defaults to
            False.
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
        self.tracker = tracker
        self.trust_checkpoint = trust_checkpoint
        if isinstance(pose2d, Path):
            pose2d = str(pose2d)
        super().__init__(
            model=pose2d,
            weights=pose2d_weights,
            device=device,
            scope='mmpose',
            show_progress=show_progress)
        self.estimator: ClipPoseEstimator = self.pipeline
        self.detector: Optional[MMDetBoxes] = None
        if det_model not in ('whole_image', 'whole-image'):
            if det_model is None:
                from mmpose.apis.inferencers.utils import default_det_models
                default = default_det_models['human']
                det_model, det_weights = default['model'], default['weights']
            self.detector = MMDetBoxes(
                det_model,
                det_weights,
                device=str(next(self.model.parameters()).device),
                det_cat_ids=det_cat_ids,
                trust_checkpoint=trust_checkpoint)
        self.latency = LatencyStats()
        self._drawers: Dict[tuple, PoseFrameDrawer] = {}

    # ------------------------------------------------------------ model set-up
    def _load_model_from_metafile(self, model: str):
        """Config and weights of a model-zoo name of this package's metafile
        (``model-index.yml``); the weights are None (none are released)."""
        names = []
        mim_dir = _metafile_dir()
        for entry in BaseInferencer._get_models_from_metafile(mim_dir):
            aliases = entry.get('Alias') or []
            aliases = [aliases] if isinstance(aliases, str) else aliases
            if model.lower() in [a.lower() for a in [entry['Name'], *aliases]]:
                weights = entry.get('Weights')
                weights = weights[0] if isinstance(weights, list) else weights
                return Config.fromfile(osp.join(mim_dir,
                                                entry['Config'])), weights
            names.append(entry['Name'])
        what = (f'{model!r} is not a model-zoo name'
                if not any(c in model
                           for c in '/\\') and not model.endswith('.py') else
                f'pose config not found: {model} ({_file_kind(model)})')
        raise FileNotFoundError(f'{what}; model-zoo names: '
                                f'{", ".join(names)}')

    def _init_model(self, cfg: Union[Config, ConfigDict],
                    weights: Optional[str], device: str) -> nn.Module:
        if not cfg:
            raise ValueError('pose2d is required: a config file or a '
                             'model-zoo name')
        if weights is None:
            warnings.warn(RANDOM_WEIGHTS_WARNING)
        if not isinstance(cfg, Config):
            cfg = Config(cfg.to_dict())
        return init_video_pose_model(
            cfg,
            weights,
            device=device,
            trust_checkpoint=self.trust_checkpoint)

    def _init_pipeline(self, cfg) -> ClipPoseEstimator:
        """Clip assembly and batched model calls (replaces the image pipeline
        of MMPose's inferencers)."""
        return ClipPoseEstimator(self.model, tracker=self.tracker)

    def _init_collate(self, cfg):
        return pseudo_collate  # clips are collated by predict_clips

    def _init_visualizer(self, cfg):
        return None  # a PoseFrameDrawer per drawing setting, built on demand

    # ------------------------------------------------------------------- call
    def __call__(self,
                 inputs,
                 batch_size: int = 16,
                 out_dir: Optional[str] = None,
                 **kwargs) -> Iterator[Dict]:
        """Pose results of every frame of ``inputs``, one dict per frame.

        Args:
            inputs: a video file, a folder of frames, an image file, a list of
                image files or BGR arrays, ``'webcam'`` / ``'webcam:N'``, a
                camera index, a stream URL (``rtsp://``, ``http(s)://``), an
                iterable of BGR frames or a :class:`FrameSource`.
            batch_size (int): person clips per forward pass. Defaults to 16.
            out_dir (str, optional): sets ``vis_out_dir`` to
                ``out_dir/visualizations`` and ``pred_out_dir`` to
                ``out_dir/predictions`` (as MMPose).
            bboxes: per-frame person boxes instead of the detector: a list
                with one (N, 4) xyxy or (N, 5) xyxy + score array per frame, a
                boxes JSON file (``{"frame index": [[x1, y1, x2, y2, score],
                ...]}``) or a :class:`BoxSource`; used as given.
            bbox_thr (float): detector score threshold. Defaults to 0.3.
            nms_thr (float): detector NMS IoU threshold. Defaults to 0.3.
            stream (bool): read a video file as a live stream (each frame
                yielded as soon as its clip is complete). Implied for webcams,
                camera indices, URLs and live sources.
            fps, realtime, max_frames, read_retries: live-source options
                (:class:`CaptureFrames`).
            show (bool): display the drawn frames (skipped with a warning
                without a display).
            vis_out_dir (str): write the drawn frames: ``<name>.mp4`` for a
                video, folder or stream, the image itself for an image.
            pred_out_dir (str): write ``<name>.json``, MMPose's video layout
                ``[{"frame_id": i, "instances": [...]}]``.
            return_vis (bool): put the drawn frame (RGB) in ``visualization``.
            kpt_thr, radius, thickness, draw_bbox: drawing options (defaults
                0.3, 3, 1, True; boxes are drawn with their track ids).

        Yields:
            dict: ``predictions``: a list holding the frame's instances (one
            list, as MMPose's inferencers give per image), each a dict with
            ``keypoints`` (K lists [x, y]), ``keypoint_scores`` (K), ``bbox``
            (``([x1, y1, x2, y2],)`` as MMPose), ``bbox_score`` and
            ``track_id``; ``visualization``: ``[drawn frame]`` with
            ``return_vis``, else ``[]``.
        """
        if out_dir is not None:
            kwargs.setdefault('vis_out_dir', osp.join(out_dir,
                                                      'visualizations'))
            kwargs.setdefault('pred_out_dir', osp.join(out_dir, 'predictions'))
        pre, _, vis, post = self._dispatch_kwargs(**kwargs)
        if isinstance(inputs, str) and inputs.lower().startswith('webcam') \
                and not vis.get('show', False):
            warnings.warn('webcam input: the display is turned on (as in '
                          'MMPose)')
            vis['show'] = True
        for key in ('vis_out_dir', 'pred_out_dir'):
            folder = vis.get(key) or post.get(key)
            if folder and osp.exists(folder) and not osp.isdir(folder):
                raise InputFileError(f'{key} {folder} is a file, not a folder')
        self.estimator.batch_size = _check_batch_size(batch_size)
        frames, live = self._open_inputs(inputs, pre)
        box_source = self._box_source(pre)
        outputs = self._open_outputs(inputs, frames, live, vis, post)
        window = Window() if vis.get('show') else None
        self.latency = LatencyStats()
        bar = ProgressBar(frames.num_frames or 0) \
            if self.show_progress and not live else None
        try:
            with StopOnInterrupt(frames, print):
                for frame_poses in self.estimator(frames, box_source, live):
                    self.latency.add(frame_poses)
                    drawn = self.visualize(frame_poses, outputs, window, **vis)
                    yield self.postprocess(frame_poses, drawn, outputs, **vis)
                    if bar is not None:
                        bar.update()
        except BaseException:
            # a live input keeps what was written; a file's outputs are
            # discarded (an earlier output at the same path stays)
            for writer in outputs.values():
                if live and self.latency.count and \
                        getattr(writer, 'writer', True) is not None:
                    writer.close()
                else:
                    writer.abort()
            raise
        else:
            for writer in outputs.values():
                writer.close()
                print(f'{writer.path} has been saved')
        finally:
            if window is not None:
                window.close()

    def estimate(self,
                 inputs,
                 batch_size: int = 16,
                 **kwargs) -> Iterator[FramePoses]:
        """The per-frame :class:`FramePoses` (arrays, frame, timing) behind
        :meth:`__call__`, with the same input and box arguments and no
        outputs."""
        other = set(kwargs) - self.preprocess_kwargs
        if other:
            raise ValueError(f'estimate() takes no {sorted(other)}: outputs '
                             'are written by calling the inferencer')
        pre = kwargs
        self.estimator.batch_size = _check_batch_size(batch_size)
        frames, live = self._open_inputs(inputs, pre)
        yield from self.estimator(frames, self._box_source(pre), live)

    def _open_inputs(self, inputs, pre: dict):
        """``(FrameSource, live)``: cameras, URLs and ``stream=True`` files are
        live sources."""
        source_kwargs = {
            k: pre[k]
            for k in ('realtime', 'max_frames', 'read_retries') if k in pre
        }
        live = bool(pre.get('stream')) or is_stream_input(inputs) or \
            getattr(inputs, 'stop', None) is not None
        if live:
            return open_stream_source(
                inputs, fps=pre.get('fps'), **source_kwargs), True
        if source_kwargs:
            raise ValueError(f'{sorted(source_kwargs)} apply to live inputs '
                             '(webcam, camera index, URL, or stream=True)')
        return open_frame_source(inputs, fps=pre.get('fps')), False

    def _box_source(self, pre: dict) -> BoxSource:
        if pre.get('bboxes') is not None:
            return boxes_from(pre['bboxes'])
        if self.detector is None:
            return WholeImageBoxes()
        self.detector.bbox_thr = pre.get('bbox_thr', 0.3)
        self.detector.nms_thr = pre.get('nms_thr', 0.3)
        return self.detector

    def _drawer(self, kpt_thr=0.3, radius=3, thickness=1, draw_bbox=True):
        key = (kpt_thr, radius, thickness, draw_bbox)
        if key not in self._drawers:
            self._drawers[key] = PoseFrameDrawer(self.model, kpt_thr, radius,
                                                 thickness, draw_bbox)
        return self._drawers[key]

    def _open_outputs(self, inputs, frames: FrameSource, live: bool, vis: dict,
                      post: dict) -> dict:
        """The writers of ``vis_out_dir`` / ``pred_out_dir``, named after the
        input."""
        if isinstance(inputs, (str, os.PathLike)):
            name = osp.basename(osp.normpath(str(inputs)))
            stem = stream_output_stem(inputs) if live else osp.splitext(
                name)[0]
        else:
            name = stem = 'frames'
        outputs = {}
        if vis.get('vis_out_dir'):
            is_image = not live and frames.num_frames == 1 and \
                name.lower().endswith(IMAGE_EXTENSIONS)
            if is_image:
                outputs['vis'] = AnnotatedImageWriter(
                    osp.join(vis['vis_out_dir'], name), None)
            else:
                outputs['vis'] = AnnotatedVideoWriter(
                    osp.join(vis['vis_out_dir'], f'{stem}.mp4'), frames.fps,
                    None)
        if post.get('pred_out_dir'):
            outputs['pred'] = PredictionJsonWriter(
                osp.join(post['pred_out_dir'], f'{stem}.json'),
                self.model.dataset_meta,
                frames.name,
                frames.fps,
                layout='inferencer')
        return outputs

    def visualize(self,
                  frame_poses: FramePoses,
                  outputs: dict,
                  window: Optional[Window],
                  return_vis: bool = False,
                  show: bool = False,
                  vis_out_dir: str = '',
                  **draw_kwargs) -> Optional[np.ndarray]:
        """Draw the frame (BGR) when it is shown, written or returned."""
        if not (return_vis or show or vis_out_dir):
            return None
        drawer = self._drawer(**draw_kwargs)
        drawn = drawer.draw(frame_poses.frame, frame_poses.instances)
        if 'vis' in outputs:
            outputs['vis'].write_drawn(drawn)
        if window is not None:
            window.show(drawn)
        return drawn

    def postprocess(self,
                    frame_poses: FramePoses,
                    drawn: Optional[np.ndarray],
                    outputs: dict,
                    return_vis: bool = False,
                    **kwargs) -> Dict[str, List]:
        """MMPose's result dict of one frame; the frame's predictions go to the
        ``pred_out_dir`` writer."""
        instances = mmpose_instances(frame_poses.instances)
        if 'pred' in outputs:
            outputs['pred'].write(frame_poses, instances)
        visualization = [np.ascontiguousarray(drawn[..., ::-1])
                         ] if return_vis and drawn is not None else []
        return dict(predictions=[instances], visualization=visualization)


def _metafile_dir() -> str:
    """The folder of this package's ``model-index.yml``: the repository of an
    editable install (the real one, through symbolic links), or the installed
    package's ``.mim``."""
    package = osp.dirname(osp.dirname(osp.realpath(__file__)))
    for root in (osp.dirname(package), osp.join(package, '.mim')):
        if osp.isfile(osp.join(root, 'model-index.yml')):
            return root
    raise FileNotFoundError(
        f'model-index.yml not found next to {package} (nor in its .mim): '
        'reinstall mgpose_mm, or give pose2d as a config file')


def mmpose_instances(instances: List[Dict]) -> List[Dict]:
    """Our per-person dicts in the layout of MMPose's inferencers
    (:func:`mmpose.structures.split_instances`), plus ``track_id``."""
    if not instances:
        return []
    pred = InstanceData()
    pred.keypoints = np.stack([inst['keypoints'] for inst in instances])
    pred.keypoint_scores = np.stack(
        [inst['keypoint_scores'] for inst in instances])
    pred.bboxes = np.stack([inst['bbox'] for inst in instances])
    pred.bbox_scores = np.array([inst['bbox_score'] for inst in instances],
                                np.float32)
    results = split_instances(pred)
    for result, inst in zip(results, instances):
        result['bbox_score'] = float(result['bbox_score'])
        result['track_id'] = int(inst['track_id'])
    return results


def _check_batch_size(batch_size: int) -> int:
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f'batch_size must be an integer >= 1, got '
                         f'{batch_size!r}')
    return batch_size
