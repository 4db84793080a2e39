"""The parameter groups the optimizer actually gets from the paper config."""
import copy

import pytest
import torch
from conftest import PAPER_CONFIG
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmpose.registry import MODELS

BASE_LR, WEIGHT_DECAY, RATE, NUM_LAYERS = 1e-4, 0.1, 0.75, 12


@pytest.fixture(scope='module')
def paper():
    import mgpose_mm  # noqa: F401
    cfg = Config.fromfile(PAPER_CONFIG)
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    return cfg, MODELS.build(cfg.model)


def settings_by_name(optimizer):
    """``{parameter name: (lr, weight_decay)}`` from the optimizer's
    param_groups."""
    settings = {}
    for group in optimizer.param_groups:
        for name in group['param_names']:
            assert name not in settings, f'{name} is in two groups'
            settings[name] = (group['lr'], group['weight_decay'])
    return settings


def test_paper_config_groups(paper):
    cfg, model = paper
    optimizer = build_optim_wrapper(model,
                                    copy.deepcopy(cfg.optim_wrapper)).optimizer
    settings = settings_by_name(optimizer)
    names = [name for name, p in model.named_parameters() if p.requires_grad]
    assert sorted(settings) == sorted(names)
    grouped = [
        id(p) for group in optimizer.param_groups for p in group['params']
    ]
    assert sorted(grouped) == sorted(
        id(p) for p in model.parameters() if p.requires_grad)

    def scale(layer_id):
        return RATE**(NUM_LAYERS + 1 - layer_id)

    # no decay: embeddings (whatever their shape), norms (ViT LayerNorms
    # ln1/ln2 and the fine stem's BatchNorms), biases
    assert settings['backbone.frame_embed'] == pytest.approx((BASE_LR, 0.0))
    assert settings['backbone.pos_embed'] == pytest.approx(
        (BASE_LR * scale(0), 0.0))
    for name in ('backbone.layers.3.ln1.weight', 'backbone.layers.3.ln2.bias',
                 'backbone.ln1.weight', 'backbone.fine_stem.0.bn.weight',
                 'backbone.layers.3.attn.qkv.bias',
                 'backbone.patch_embed.projection.bias'):
        assert settings[name][1] == 0.0, name
    # decay and layer-wise lr elsewhere
    assert settings['backbone.patch_embed.projection.weight'] == pytest.approx(
        (BASE_LR * scale(0), WEIGHT_DECAY))
    for layer in (0, 5, 11):
        assert settings[
            f'backbone.layers.{layer}.attn.qkv.weight'] == pytest.approx(
                (BASE_LR * scale(layer + 1), WEIGHT_DECAY))
        assert settings[
            f'backbone.layers.{layer}.ln1.weight'] == pytest.approx(
                (BASE_LR * scale(layer + 1), 0.0))
    assert settings['backbone.fine_stem.0.conv.weight'] == pytest.approx(
        (BASE_LR, WEIGHT_DECAY))
    head_weights = [
        n for n in names if n.startswith('head.') and n.endswith('weight')
        and model.get_parameter(n).ndim > 1
    ]
    assert head_weights and all(
        settings[n] == pytest.approx((BASE_LR, WEIGHT_DECAY))
        for n in head_weights)
    # every 1-D parameter (norm or bias) is free of decay
    assert all(settings[n][1] == 0.0 for n in names
               if model.get_parameter(n).ndim == 1)


def test_mmpose_constructor_decays_frame_embed(paper):
    """The old setting (MMPose's constructor) decays the frame embedding: what
    this fixes."""
    cfg, model = paper
    optim_cfg = copy.deepcopy(cfg.optim_wrapper)
    optim_cfg.constructor = 'LayerDecayOptimWrapperConstructor'
    optimizer = build_optim_wrapper(model, optim_cfg).optimizer
    assert settings_by_name(
        optimizer)['backbone.frame_embed'][1] == WEIGHT_DECAY


def test_constructor_rejects_typos_and_wrong_layer_count(paper):
    from mgpose_mm.errors import ConfigValueError
    cfg, model = paper
    typo = copy.deepcopy(cfg.optim_wrapper)
    typo.paramwise_cfg.custom_keys['bias'] = dict(decay_multi=0.0)
    with pytest.raises(
            ConfigValueError, match=r"custom_keys\['bias'\].*decay_multi"):
        build_optim_wrapper(model, typo)
    layers = copy.deepcopy(cfg.optim_wrapper)
    layers.paramwise_cfg.num_layers = 24
    with pytest.raises(
            ConfigValueError,
            match='num_layers=24 but the backbone has 12 layers'):
        build_optim_wrapper(model, layers)


def test_large_and_huge_configs_use_the_constructor():
    for arch in ('large', 'huge'):
        cfg = Config.fromfile(PAPER_CONFIG.replace('vit-base', f'vit-{arch}'))
        assert cfg.optim_wrapper.constructor == \
            'ViTLayerDecayOptimWrapperConstructor'
        assert cfg.optim_wrapper.paramwise_cfg.custom_keys[
            'frame_embed'] == dict(decay_mult=0.0)
        assert cfg.optim_wrapper.paramwise_cfg.num_layers == {
            'large': 24,
            'huge': 32
        }[arch]
