"""Layer-wise lr decay for ViT backbones that also honours MMEngine's paramwise
options."""
from collections import OrderedDict
from typing import Dict, List, Optional

import torch.nn as nn
from mmengine.optim import DefaultOptimWrapperConstructor
from mmpose.engine.optim_wrappers.layer_decay_optim_wrapper import \
    get_num_layer_for_vit
from mmpose.registry import OPTIM_WRAPPER_CONSTRUCTORS

from mgpose_mm.errors import ConfigValueError

CUSTOM_KEY_OPTIONS = ('lr_mult', 'decay_mult')


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class ViTLayerDecayOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """MMEngine's :class:`DefaultOptimWrapperConstructor` plus ViTPose's layer-
    wise lr decay.

    MMPose's ``LayerDecayOptimWrapperConstructor`` ignores
    ``paramwise_cfg.custom_keys`` (and every other MMEngine paramwise option):
    a ``frame_embed`` ``decay_mult=0`` had no effect. Here the weight decay and
    lr multipliers come from MMEngine's own rules (``custom_keys``,
    ``norm_decay_mult``, ``bias_decay_mult``, ``flat_decay_mult``, ...; custom
    keys win), and the lr of every parameter is then scaled by ViTPose's layer
    factor ``layer_decay_rate ** (num_layers + 1 - layer_id)`` with MMPose's
    ``get_num_layer_for_vit`` (``backbone.patch_embed``/``pos_embed`` -> 0,
    ``backbone.layers.i`` -> i + 1, everything else, e.g. ``frame_embed``, the
    fine stem and head -> ``num_layers + 1``: full lr).

    Parameters with the same settings are merged into one group named
    ``layer_<id>_<decay|no_decay>`` that lists its ``param_names``,
    ``lr_scale`` and ``weight_decay``.

    Args:
        optim_wrapper_cfg (dict): as MMEngine.
        paramwise_cfg (dict): MMEngine's paramwise options plus ``num_layers``
            (the backbone's ViT layers; checked against the model) and
            ``layer_decay_rate`` (in (0, 1]). ``custom_keys`` entries may only
            set ``lr_mult`` and ``decay_mult``, so a typo such as
            ``decay_multi`` is an error instead of being ignored.
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None):
        paramwise_cfg = dict(paramwise_cfg or {})
        missing = [
            key for key in ('num_layers', 'layer_decay_rate')
            if key not in paramwise_cfg
        ]
        if missing:
            raise ConfigValueError(
                f'ViTLayerDecayOptimWrapperConstructor: paramwise_cfg needs '
                f'{" and ".join(missing)}')
        # kept in paramwise_cfg (MMEngine ignores them) so that it is never
        # empty: MMEngine skips add_params, and with it the layer decay, for an
        # empty paramwise_cfg
        self.num_layers = int(paramwise_cfg['num_layers'])
        self.layer_decay_rate = float(paramwise_cfg['layer_decay_rate'])
        if not 0 < self.layer_decay_rate <= 1:
            raise ConfigValueError(
                'paramwise_cfg.layer_decay_rate must be in (0, 1], got '
                f'{self.layer_decay_rate}')
        for key, options in (paramwise_cfg.get('custom_keys') or {}).items():
            unknown = sorted(set(options) - set(CUSTOM_KEY_OPTIONS))
            if unknown:
                raise ConfigValueError(
                    f'paramwise_cfg.custom_keys[{key!r}] has unknown '
                    f'option(s) {unknown}; '
                    f'allowed: {list(CUSTOM_KEY_OPTIONS)}')
        super().__init__(optim_wrapper_cfg, paramwise_cfg)
        if self.base_lr is None:
            raise ConfigValueError(
                'ViTLayerDecayOptimWrapperConstructor needs optimizer.lr')

    def lr_scale(self, param_name: str) -> float:
        """Layer-wise lr factor of a parameter (see the class docstring)."""
        layer_id = get_num_layer_for_vit(param_name, self.num_layers + 2)
        return self.layer_decay_rate**(self.num_layers + 1 - layer_id)

    def _check_num_layers(self, names: List[str]) -> None:
        layers = {
            int(name.split('.')[2])
            for name in names if name.startswith('backbone.layers.')
        }
        if layers and max(layers) + 1 != self.num_layers:
            raise ConfigValueError(
                f'paramwise_cfg.num_layers={self.num_layers} but the backbone '
                'has '
                f'{max(layers) + 1} layers (backbone.layers.0..{max(layers)})')

    def add_params(self,
                   params: List[dict],
                   module: nn.Module,
                   prefix: str = '',
                   is_dcn_module=None) -> None:
        if prefix:  # MMEngine's recursion into children
            super().add_params(params, module, prefix, is_dcn_module)
            return
        per_param: List[dict] = []
        super().add_params(per_param, module, prefix, is_dcn_module)
        names = {id(param): name for name, param in module.named_parameters()}
        self._check_num_layers(list(names.values()))
        groups: Dict[tuple, dict] = OrderedDict()
        for group in per_param:
            (param, ) = group['params']
            name = names[id(param)]
            layer_id = get_num_layer_for_vit(name, self.num_layers + 2)
            scale = self.lr_scale(name)
            lr = group.get('lr', self.base_lr) * scale
            weight_decay = group.get('weight_decay', self.base_wd)
            decays = 'decay' if weight_decay else 'no_decay'
            key = (layer_id, decays, lr, weight_decay)
            if key not in groups:
                group_name = f'layer_{layer_id}_{decays}'
                if any(g['group_name'] == group_name for g in groups.values()):
                    group_name += f'_lr{lr:g}_wd{weight_decay:g}'
                groups[key] = dict(
                    params=[],
                    param_names=[],
                    group_name=group_name,
                    lr=lr,
                    lr_scale=scale,
                    weight_decay=weight_decay)
            groups[key]['params'].append(param)
            groups[key]['param_names'].append(name)
        for group in groups.values():
            if group['weight_decay'] is None:
                del group['weight_decay']
            params.append(group)
