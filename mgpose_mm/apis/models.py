"""Model loading: the video pose model, model-zoo names (this package's and
MMDetection's metafiles) and the MMDetection person detector."""
import copy
import difflib
import os.path as osp
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch.nn as nn
from mmcv.cnn import fuse_conv_bn
from mmengine.config import Config
from mmengine.infer import BaseInferencer
from mmengine.registry import DefaultScope
from mmengine.runner.checkpoint import CheckpointLoader
from mmpose.apis import init_model

# Registers MGFEViT & co. and the video datasets (the config's dataset type
# gives the default dataset_meta).
import mgpose_mm.datasets  # noqa: F401
import mgpose_mm.models  # noqa: F401
from mgpose_mm.engine import (check_state_dict_matches, checkpoint_state_dict,
                              trusted_checkpoints)
from mgpose_mm.errors import CheckpointMismatchError, InputFileError
from mgpose_mm.utils import check_file
from .boxes import Boxes, BoxSource, select_boxes


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
    config's dataset type. Each BatchNorm that follows a convolution is then
    folded into it (:func:`mmcv.cnn.fuse_conv_bn`): the same predictions with
    one pass fewer over each feature map, so the returned model is for
    inference only (its state dict no longer has those BatchNorm keys).

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
                f'pose checkpoint {checkpoint} does not hold a dict of weights'
            )
        state_dict = checkpoint_state_dict(loaded)
        check_state_dict_matches(model, state_dict,
                                 f'pose checkpoint {checkpoint}')
        model.load_state_dict(state_dict, strict=True)
        model.dataset_meta = (loaded.get('meta')
                              or {}).get('dataset_meta') or model.dataset_meta
    return fuse_conv_bn(model.to(device).eval())


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
        f'{", ".join(close or names[:40])}')


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
