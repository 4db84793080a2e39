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
import difflib
import os
import os.path as osp
import warnings
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.infer import BaseInferencer
from mmengine.registry import DefaultScope
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.structures import InstanceData
from mmengine.utils import track_iter_progress
from mmpose.apis import init_model
from mmpose.structures import split_instances

# Registers MGFEViT & co. and the video datasets (the config's dataset type
# gives the default dataset_meta).
import mgpose_mm.datasets  # noqa: F401
import mgpose_mm.models  # noqa: F401
from mgpose_mm.engine import (check_state_dict_matches, checkpoint_state_dict,
                              trusted_checkpoints)
from mgpose_mm.errors import CheckpointMismatchError, InputFileError
from mgpose_mm.visualization import CompatPoseLocalVisualizer
from .boxes import Boxes, BoxSource, boxes_from, check_file, select_boxes
from .clips import ClipPoseEstimator, FramePoses
from .frame_sources import (StopOnInterrupt, is_stream_input,
                            open_frame_source, open_stream_source,
                            stream_output_stem)
from .tracking import IoUTracker
from .writers import (DrawnFramesWriter, LatencyStats, PredictionJsonWriter,
                      Window, draw_poses)


def init_video_pose_model(config: Union[str, Path, Config],
                          checkpoint: Optional[str] = None,
                          device: str = 'cpu',
                          cfg_options: Optional[dict] = None,
                          trust_checkpoint: bool = False) -> nn.Module:
    """Build a video top-down pose model (e.g. FTP-Pose) for inference.

    The model is built by :func:`mmpose.apis.init_model`; the checkpoint is
    loaded **strictly**: missing or unexpected keys or shape mismatches raise
    :class:`CheckpointMismatchError` naming the keys. ``dataset_meta`` comes
    from the checkpoint's ``meta['dataset_meta']`` when present, else from the
    config's dataset type.

    Args:
        config (str | Path | Config): pose config.
        checkpoint (str, optional): checkpoint file or ``http(s)://`` URL
            (MMEngine format or a bare state dict). None keeps random weights.
        device (str): e.g. ``'cpu'`` or ``'cuda:0'``.
        cfg_options (dict, optional): overrides merged into the config.
        trust_checkpoint (bool): allow a full unpickle of a checkpoint holding
            other objects than weights (it can run code from the file).

    Returns:
        nn.Module: the model in eval mode on ``device``.
    """
    if isinstance(config, (str, Path)):
        check_file(str(config), 'pose config')
        config = Config.fromfile(str(config))
    config = copy.deepcopy(config)
    if checkpoint is not None:
        check_file(checkpoint, 'pose checkpoint')
    model = init_model(config, None, device='cpu', cfg_options=cfg_options)
    if checkpoint is not None:
        with trusted_checkpoints(trust_checkpoint):
            loaded = CheckpointLoader.load_checkpoint(checkpoint, 'cpu')
        if not isinstance(loaded, dict):
            raise CheckpointMismatchError(
                f'pose checkpoint {checkpoint} does not hold a dict of weights')
        state_dict = checkpoint_state_dict(loaded)
        check_state_dict_matches(model, state_dict,
                                 f'pose checkpoint {checkpoint}')
        model.load_state_dict(state_dict, strict=True)
        model.dataset_meta = (loaded.get('meta') or {}).get(
            'dataset_meta') or model.dataset_meta
    return model.to(device).eval()


def model_zoo_entry(package: str, name: str) -> Tuple[str, Optional[str]]:
    """``(config path, weights URL or None)`` of a model-zoo name or alias in
    the metafiles of ``package`` (``'mgpose_mm'``, ``'mmdet'``), with or
    without ``.py``, or of a packaged config ``'mmdet::<dir>/<name>.py'``."""
    if package == 'mgpose_mm':  # the repository, or the installed .mim
        root = osp.dirname(osp.dirname(osp.dirname(osp.realpath(__file__))))
        mim_dir = next((d for d in (root, osp.join(root, 'mgpose_mm', '.mim'))
                        if osp.isfile(osp.join(d, 'model-index.yml'))), root)
    else:
        mim_dir = BaseInferencer._get_repo_or_mim_dir(package)
    path = name.split('::', 1)[-1]
    bare = osp.splitext(osp.basename(path))[0].lower()
    names = []
    for model in BaseInferencer._get_models_from_metafile(mim_dir):
        aliases = model.get('Alias') or []
        model_names = [model['Name'], *np.atleast_1d(aliases).tolist()]
        if bare in map(str.lower, model_names) and 'Config' in model:
            weights = model.get('Weights')
            weights = weights[0] if isinstance(weights, list) else weights
            return osp.join(mim_dir, model['Config']), weights
        names += model_names
    if '::' in name and osp.isfile(osp.join(mim_dir, 'configs', path)):
        return osp.join(mim_dir, 'configs', path), None
    close = difflib.get_close_matches(bare, names, n=3, cutoff=0.6)
    raise FileNotFoundError(
        f'{name!r} is not a file nor a model-zoo name of {package}; '
        f'{"close" if close else "its"} names: '
        f'{", ".join(close or names[:12])}')


class MMDetBoxes(BoxSource):
    """Person boxes from an MMDetection detector, as MMPose's inferencers get
    them: ``DetInferencer`` on each frame, the labels ``det_cat_ids`` with
    ``score > bbox_thr``, then MMPose's NMS at ``nms_thr``.

    Args:
        det_model (str | Config): a config file or an MMDetection model-zoo
            name or alias (``'rtmdet_tiny_8xb32-300e_coco'``, ``'rtmdet-t'``).
        det_weights (str, optional): weights file or URL. Defaults to the
            model zoo's URL of a model-zoo name (downloaded once).
        device (str, optional): Defaults to MMEngine's choice.
        det_cat_ids (int | Sequence[int]): person label(s). Defaults to 0.
        trust_checkpoint (bool): allow a full unpickle of the weights file.
    """

    def __init__(self,
                 det_model,
                 det_weights: Optional[str] = None,
                 device: Optional[str] = None,
                 det_cat_ids: Union[int, Sequence[int]] = 0,
                 trust_checkpoint: bool = False):
        from mmdet.apis import DetInferencer
        super().__init__()
        if isinstance(det_model, str) and not osp.isfile(det_model):
            det_model, zoo_weights = model_zoo_entry('mmdet', det_model)
            det_weights = det_weights or zoo_weights
        if isinstance(det_model, str):
            det_model = Config.fromfile(det_model)
        if det_weights is not None:
            check_file(det_weights, 'detector weights')
        self.scope = det_model.get('default_scope', 'mmdet')
        self.det_cat_ids = np.atleast_1d(det_cat_ids).tolist()
        self.bbox_thr = self.nms_thr = 0.3
        # DetInferencer switches the global default scope: keep it local
        with DefaultScope.overwrite_default_scope(self.scope), \
                trusted_checkpoints(trust_checkpoint):
            try:
                self.detector = DetInferencer(
                    det_model,
                    det_weights,
                    device=device,
                    scope=self.scope,
                    show_progress=False)
            except OSError as error:  # urllib's URLError included
                if det_weights is not None and '://' not in det_weights:
                    raise
                raise InputFileError(
                    'cannot download the detector weights of '
                    f'{det_model!r} ({error}); without internet, copy the '
                    'weights file from a machine with internet and pass it '
                    'as det_weights (CLI: --det-weights); see '
                    'docs/inference.md, "Offline"') from None

    def __call__(self, frame_index: int, frame: np.ndarray) -> Boxes:
        with DefaultScope.overwrite_default_scope(self.scope):
            sample = self.detector(
                frame, return_datasamples=True)['predictions'][0]
        pred = sample.pred_instances.cpu().numpy()
        person = np.isin(pred.labels, self.det_cat_ids)
        return select_boxes(pred.bboxes[person], pred.scores[person],
                            self.bbox_thr, self.nms_thr)


class WholeImageBoxes(BoxSource):
    """One box per frame covering the image, score 1 (as MMPose)."""

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

    def _init_visualizer(self, cfg) -> CompatPoseLocalVisualizer:
        cfg = copy.deepcopy(cfg)
        cfg.visualizer = dict(
            cfg.get('visualizer') or {},
            type=CompatPoseLocalVisualizer,
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
                of image files or BGR arrays, ``'webcam'`` / ``'webcam:N'``, a
                camera index, a stream URL (``rtsp://``, ``http(s)://``), an
                iterable of BGR frames or a :class:`FrameSource`.
            batch_size (int): person clips per forward pass. Defaults to 16.
            out_dir (str, optional): sets ``vis_out_dir`` to
                ``out_dir/visualizations`` and ``pred_out_dir`` to
                ``out_dir/predictions`` (as MMPose).
            bboxes: person boxes instead of the detector, used as given: per
                frame an (N, 4) xyxy or (N, 5) xyxy + score array, a boxes
                JSON file or a :class:`BoxSource` (e.g.
                :class:`DetectionResultsBoxes`).
            bbox_thr, nms_thr (float): detector score and NMS IoU thresholds.
                Defaults to 0.3.
            stream (bool): read a video file as a live stream. Implied for
                webcams, camera indices, URLs and live sources.
            fps (float): frame rate of the drawn video (default: the input's,
                else 25).
            realtime, max_frames, read_retries: live-input options
                (:class:`CaptureFrames`).
            show (bool): display the drawn frames.
            vis_out_dir (str): write the drawn frames: ``<name>.mp4`` for a
                video, folder or stream, the image itself for an image.
            pred_out_dir (str): write ``<name>.json``
                (:class:`PredictionJsonWriter`).
            return_vis (bool): put the drawn frame (RGB) in ``visualization``.
            kpt_thr, radius, thickness, draw_bbox: drawing options (defaults
                0.3, 3, 1, True; boxes are drawn with their track ids).

        Yields:
            dict: ``predictions``: ``[instances]`` (one list per frame, as
            MMPose's inferencers per image), each instance a dict with
            ``keypoints`` (K lists [x, y]), ``keypoint_scores`` (K),
            ``bbox`` (``([x1, y1, x2, y2],)``), ``bbox_score`` and
            ``track_id``; ``visualization``: ``[drawn frame]`` with
            ``return_vis``, else ``[]``.
        """
        if out_dir is not None:
            kwargs.setdefault('vis_out_dir', osp.join(out_dir,
                                                      'visualizations'))
            kwargs.setdefault('pred_out_dir', osp.join(out_dir, 'predictions'))
        pre, _, vis, post = self._dispatch_kwargs(**kwargs)
        if isinstance(inputs, str) and inputs.lower().startswith('webcam') \
                and not vis.get('show'):
            warnings.warn('webcam input: the display is turned on (as MMPose)')
            vis['show'] = True
        frames, live = self._open_inputs(inputs, batch_size, pre)
        box_source = self._box_source(pre)
        outputs = self._open_outputs(inputs, frames, live, vis, post)
        window = Window() if vis.get('show') else None
        self.latency = LatencyStats()
        poses_iter = self.estimator(frames, box_source, live)
        if self.show_progress and frames.num_frames and not live:
            poses_iter = track_iter_progress((poses_iter, frames.num_frames))
        try:
            with StopOnInterrupt(frames):
                for poses in poses_iter:
                    self.latency.add(poses)
                    drawn = self.visualize(poses, outputs, window, **vis)
                    yield self.postprocess(poses, drawn, outputs, **vis)
        except BaseException:
            # a live input keeps what was written, a file's outputs go (an
            # earlier output at the same path stays)
            for writer in outputs.values():
                (writer.close
                 if live and self.latency.count else writer.abort)()
            raise
        finally:
            if window is not None:
                window.close()
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
        live_kwargs = {
            k: pre[k]
            for k in ('realtime', 'max_frames', 'read_retries') if k in pre
        }
        if pre.get('stream') or is_stream_input(inputs) or hasattr(
                inputs, 'stop'):
            return open_stream_source(inputs, pre.get('fps'),
                                      **live_kwargs), True
        if live_kwargs:
            raise ValueError(f'{sorted(live_kwargs)} apply to live inputs '
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

    def _open_outputs(self, inputs, frames, live: bool, vis: dict,
                      post: dict) -> dict:
        """The writers of ``vis_out_dir`` and ``pred_out_dir``, named after
        the input."""
        for folder in (vis.get('vis_out_dir'), post.get('pred_out_dir')):
            if folder and osp.exists(folder) and not osp.isdir(folder):
                raise InputFileError(f'{folder} is a file, not a folder')
        name = osp.basename(osp.normpath(str(inputs))) if isinstance(
            inputs, (str, os.PathLike)) else 'frames'
        stem = stream_output_stem(inputs) if name != 'frames' else name
        outputs = {}
        if vis.get('vis_out_dir'):
            is_image = not live and frames.num_frames == 1 and name != stem
            outputs['vis'] = DrawnFramesWriter(
                osp.join(vis['vis_out_dir'], name if is_image and osp.isfile(
                    str(inputs)) else f'{stem}.mp4'), frames.fps)
        if post.get('pred_out_dir'):
            outputs['pred'] = PredictionJsonWriter(
                osp.join(post['pred_out_dir'], f'{stem}.json'))
        return outputs

    def visualize(self,
                  poses: FramePoses,
                  outputs: dict,
                  window: Optional[Window],
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
        drawn = draw_poses(self.visualizer, poses.frame, poses.instances,
                           kpt_thr, draw_bbox)
        if 'vis' in outputs:
            outputs['vis'].write(drawn)
        if window is not None:
            window.show(drawn)
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
    if not instances:
        return []
    pred = InstanceData(
        keypoints=np.stack([i['keypoints'] for i in instances]),
        keypoint_scores=np.stack([i['keypoint_scores'] for i in instances]),
        bboxes=np.stack([i['bbox'] for i in instances]),
        bbox_scores=np.array([i['bbox_score'] for i in instances]))
    results = split_instances(pred)
    for result, inst in zip(results, instances):
        result.update(
            bbox_score=float(result['bbox_score']),
            track_id=int(inst['track_id']))
    return results
