"""Which models the benchmark compares, and how each one is built and fed.

A :class:`ModelSpec` is a small serialisable description (it travels to the
memory-measuring child process as JSON): a config (a file path or an
``mmpose::`` packaged config name) plus the FTP-Pose pruner overrides
(``prune_ratio`` = epsilon, ``selector``). Models are built with random
weights: every ``Pretrained`` ``init_cfg`` and ``load_from`` are removed, so
nothing is downloaded.
"""
import copy
import logging
import os.path as osp
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

from mgpose_mm.utils import check_file

PEER_CONFIGS = {
    'vitpose_b': ('ViTPose-B (MMPose, single frame)',
                  'mmpose::body_2d_keypoint/topdown_heatmap/coco/'
                  'td-hm_ViTPose-base_8xb64-210e_coco-256x192.py'),
    'hrnet_w48': ('HRNet-W48 (MMPose PoseTrack18, single frame)',
                  'mmpose::body_2d_keypoint/topdown_heatmap/posetrack18/'
                  'td-hm_hrnet-w48_8xb64-20e_posetrack18-256x192.py'),
}
BASELINE_KEY = 'ftp_eps0'
VITPOSE_KEY = 'vitpose_b'


@dataclass(frozen=True)
class ModelSpec:
    """One benchmarked model.

    Attributes:
        key (str): Stable identifier, e.g. ``'ftp_eps0'``,
            ``'ftp_dpc_eps0.5'``, ``'ftp_random_eps0.5'``, ``'vitpose_b'``,
            ``'hrnet_w48'`` (also the keys of ``--ap-json``).
        label (str): Human-readable name for tables.
        config (str): Config file path or ``mmpose::...`` packaged config
            name.
        family (str): ``'ftp-pose'`` (clip input) or ``'peer'``
            (single-frame input).
        prune_ratio (float, optional): FTP-Pose epsilon
            (``model.backbone.pruner.prune_ratio``).
        selector (str, optional): FTP-Pose token selector
            (``model.backbone.pruner.selector``).
    """
    key: str
    label: str
    config: str
    family: str
    prune_ratio: Optional[float] = None
    selector: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> 'ModelSpec':
        return cls(**data)


def ftp_key(eps: float, selector: str) -> str:
    """Spec key of an FTP-Pose variant; every selector at epsilon 0 is the same
    baseline."""
    return BASELINE_KEY if eps == 0 else f'ftp_{selector}_eps{eps:g}'


def read_config(config: str) -> Config:
    """Load a config file, or a packaged ``mmpose::`` config through
    :func:`mmengine.hub.get_config`."""
    if '::' in config:
        from mmengine.hub import get_config
        return get_config(config)
    check_file(config, 'benchmark: config file')
    return Config.fromfile(config)


def strip_pretrained(node: Any) -> Any:
    """Copy of a config node without ``Pretrained`` ``init_cfg`` entries (no
    checkpoint download)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == 'init_cfg' and _loads_checkpoint(value):
                continue
            out[key] = strip_pretrained(value)
        return out
    if isinstance(node, (list, tuple)):
        return type(node)(strip_pretrained(v) for v in node)
    return node


def _loads_checkpoint(init_cfg: Any) -> bool:
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return any(
        isinstance(c, dict) and (
            c.get('type') == 'Pretrained' or 'checkpoint' in c) for c in cfgs)


def model_config(spec: ModelSpec) -> Tuple[Config, dict]:
    """The full config and the model dict to build for ``spec`` (pretrained
    weights removed).

    Raises:
        KeyError: ``spec`` overrides the pruner but the config has no
            ``model.backbone.pruner``.
    """
    cfg = read_config(spec.config)
    cfg.load_from = None
    model_cfg = strip_pretrained(copy.deepcopy(cfg.model.to_dict()))
    if spec.prune_ratio is not None or spec.selector is not None:
        pruner = model_cfg['backbone'].get('pruner')
        if not pruner:
            raise KeyError(
                f'benchmark: {spec.config} has no model.backbone.pruner, '
                'so epsilon/selector cannot be overridden; pass an FTP-Pose '
                'config')
        if spec.prune_ratio is not None:
            pruner['prune_ratio'] = float(spec.prune_ratio)
        if spec.selector is not None:
            pruner['selector'] = spec.selector
    return cfg, model_cfg


@contextmanager
def quiet_mmengine_logger():
    """Hide MMEngine's per-parameter ``init_weights`` report (hundreds of INFO
    lines per model)."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def build_model(spec: ModelSpec,
                device: str = 'cpu',
                seed: int = 0) -> torch.nn.Module:
    """Build ``spec``'s model with random init (seeded), in eval mode, on
    ``device``."""
    from mmpose.registry import MODELS

    import mgpose_mm  # noqa: F401  (registers the FTP-Pose components)
    cfg, model_cfg = model_config(spec)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    torch.manual_seed(seed)
    with quiet_mmengine_logger():
        model = MODELS.build(model_cfg)
        model.init_weights()
    return model.to(device).eval()


def is_video_model(model: torch.nn.Module) -> bool:
    """True for FTP-Pose-style estimators whose backbone takes clips.

    Clips are (B, T, 3, H, W).
    """
    return hasattr(getattr(model, 'backbone', None), 'forward_frames')


def input_hw(spec: ModelSpec) -> Tuple[int, int]:
    """Network input (H, W) from the config's heatmap codec.

    Read from ``model.head.decoder.input_size`` = (W, H).
    """
    _, model_cfg = model_config(spec)
    decoder = model_cfg.get('head', {}).get('decoder')
    if not decoder or 'input_size' not in decoder:
        raise KeyError(
            f'benchmark: {spec.config} has no model.head.decoder.input_size '
            'to size the input')
    width, height = decoder['input_size']
    return int(height), int(width)


def ftp_defaults(config: str) -> Tuple[float, str]:
    """The config's own epsilon (``model.backbone.pruner.prune_ratio``) and
    selector."""
    cfg = read_config(config)
    pruner = cfg.model.backbone.get('pruner')
    if not pruner or 'prune_ratio' not in pruner:
        raise KeyError(f'benchmark: {config} has no '
                       'model.backbone.pruner.prune_ratio; '
                       'pass an FTP-Pose config')
    return float(pruner['prune_ratio']), pruner.get('selector', 'dpc')


def variant_specs(config: str,
                  eps_values: Sequence[float],
                  peers,
                  compare: Sequence[str] = ()) -> List[ModelSpec]:
    """Every model a benchmark run times.

    FTP-Pose at every epsilon with the config's own selector (DPC in the
    shipped configs) and with random selection, other FTP-Pose configs as they
    are, plus the optional peers.

    Epsilon 0 (one baseline, nothing pruned) and the config's default epsilon
    are always included.

    Args:
        peers (bool | Sequence[str]): True for every key of
            :data:`PEER_CONFIGS`, or the keys to add.
        compare (Sequence[str]): More FTP-Pose configs, each one row at its
            own settings (key ``'cfg:<file name>'``).
    """
    default_eps, default_selector = ftp_defaults(config)
    values = sorted({float(e) for e in eps_values} | {0.0, default_eps})
    for eps in values:
        if not 0.0 <= eps < 1.0:
            raise ValueError(
                f'benchmark: epsilon must be in [0, 1), got {eps}')
    specs = [
        ModelSpec(BASELINE_KEY, 'FTP-Pose eps=0 (baseline)', config,
                  'ftp-pose', 0.0, 'dpc')
    ]
    for selector in dict.fromkeys((default_selector, 'random')):
        for eps in values[1:]:
            specs.append(
                ModelSpec(
                    ftp_key(eps, selector),
                    f'FTP-Pose eps={eps:g} ({selector.upper()})', config,
                    'ftp-pose', eps, selector))
    for other in compare:
        ftp_defaults(other)  # an FTP-Pose config
        name = osp.splitext(osp.basename(other))[0]
        specs.append(ModelSpec(f'cfg:{name}', name, other, 'ftp-pose'))
    names = list(PEER_CONFIGS) if peers is True else list(peers or ())
    for key in names:
        if key not in PEER_CONFIGS:
            raise ValueError(f'benchmark: unknown peer {key!r}; peers are '
                             f'{sorted(PEER_CONFIGS)}')
        label, cfg = PEER_CONFIGS[key]
        specs.append(ModelSpec(key, label, cfg, 'peer'))
    return specs


def make_clips(batch_size: int,
               num_frames: int,
               hw: Tuple[int, int],
               device: str,
               seed: int = 0) -> torch.Tensor:
    """Normalised random clips, shape (B, T, 3, H, W) (stand-ins for
    preprocessed person crops)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(
        batch_size, num_frames, 3, *hw, generator=gen).to(device)


def model_inputs(model: torch.nn.Module, clips: torch.Tensor,
                 key_frame_index: int) -> torch.Tensor:
    """What ``model`` consumes from a clip batch (B, T, 3, H, W).

    Video models get their ``num_frames`` frames around the key frame (the
    whole clip when they match), single-frame peers the key frame (B, 3, H, W).
    """
    if not is_video_model(model):
        return clips[:, key_frame_index].contiguous()
    backbone = model.backbone
    start = key_frame_index - backbone.key_frame_index
    stop = start + backbone.num_frames
    if start < 0 or stop > clips.shape[1]:
        raise ValueError(
            f'benchmark: a clip of {clips.shape[1]} frames with the key '
            f'frame at {key_frame_index} cannot feed a model of '
            f'{backbone.num_frames} frames with the key frame at '
            f'{backbone.key_frame_index}')
    return clips[:, start:stop].contiguous()
