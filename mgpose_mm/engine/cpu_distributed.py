"""Distributed training and testing on machines without CUDA (gloo), with
MMEngine 0.10.x.

MMEngine 0.10.7 calls ``torch.cuda.set_device(local_rank)`` while initialising
a ``pytorch``-launched process group and wraps the model in DDP with
``device_ids=[local_rank]``; both fail on CPU. The tools call
:func:`setup_cpu_distributed` before building the runner: on a CUDA machine it
does nothing; on a CPU machine it starts the gloo process group itself (the
runner then skips its own initialisation) and selects
:class:`CPUDistributedDataParallel` as the model wrapper.
"""
import os
import warnings

import torch
import torch.distributed as torch_dist
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS

from mgpose_mm.errors import ConfigValueError


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """MMEngine's DDP wrapper for modules that live on the CPU (``device_ids``
    must be None)."""

    def __init__(self, module, device_ids=None, **kwargs):
        super().__init__(module=module, device_ids=None, **kwargs)


def setup_cpu_distributed(cfg) -> None:
    """Prepare ``cfg`` (launcher already merged) for a CPU-only distributed
    run; no-op otherwise."""
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none' or torch.cuda.is_available():
        return
    if launcher != 'pytorch':
        raise ConfigValueError(
            f'launcher={launcher!r} without CUDA is not supported by MMEngine '
            '0.10; on CPU machines launch with torchrun (tools/dist_train.sh) '
            'and --launcher pytorch')
    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    backend = dist_cfg.get('backend', 'nccl')
    if backend != 'gloo':
        warnings.warn(
            f'env_cfg.dist_cfg.backend={backend!r} needs GPUs; no CUDA device '
            'found, using gloo')
        dist_cfg['backend'] = 'gloo'
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(
            backend='gloo',
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']))
    cfg.model_wrapper_cfg = dict(type='CPUDistributedDataParallel')
