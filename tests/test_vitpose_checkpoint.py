"""The MGFE backbone loads MMPose ViTPose-B checkpoints."""
import torch
from conftest import PAPER_CONFIG
from mmengine.config import Config
from mmengine.hub import get_config
from mmpose.registry import MODELS

VITPOSE_B = ('mmpose::body_2d_keypoint/topdown_heatmap/coco/'
             'td-hm_ViTPose-base_8xb64-210e_coco-256x192.py')


def test_mgfe_loads_vitpose_base_checkpoint(tmp_path):
    import mgpose_mm  # noqa: F401
    torch.manual_seed(0)
    vitpose_cfg = get_config(VITPOSE_B).model
    vitpose_cfg.backbone.init_cfg = None
    vitpose = MODELS.build(vitpose_cfg)
    ckpt_path = tmp_path / 'vitpose_b_random.pth'
    torch.save({'state_dict': vitpose.state_dict()}, ckpt_path)

    paper_backbone = Config.fromfile(PAPER_CONFIG).model.backbone
    paper_backbone.init_cfg = dict(
        type='Pretrained', checkpoint=str(ckpt_path), prefix='backbone.')
    mgfe = MODELS.build(paper_backbone)

    vit_state = {
        k[len('backbone.'):]: v
        for k, v in vitpose.state_dict().items() if k.startswith('backbone.')
    }
    missing, unexpected = mgfe.load_state_dict(vit_state, strict=False)
    assert unexpected == []
    assert all(k == 'frame_embed' or k.startswith('fine_stem.')
               for k in missing), missing

    mgfe.init_weights()  # through init_cfg, as a config user would
    mgfe_state = mgfe.state_dict()
    assert len(
        vit_state
    ) == 149  # patch embed 2 + pos embed 1 + 12 layers x 12 + final norm 2
    for name, value in vit_state.items():
        torch.testing.assert_close(
            mgfe_state[name], value, rtol=0, atol=0, msg=name)
