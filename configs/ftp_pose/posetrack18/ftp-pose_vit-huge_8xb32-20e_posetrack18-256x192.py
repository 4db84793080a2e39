# FTP-Pose with a ViT-H MGFE (ViTPose-H checkpoint): the default's pruning
# (epsilon 0.9 on the supporting frames, half of the key frame's tokens from
# layer 8 of 32, a quarter of the depth as in ViT-B).
_base_ = ['./ftp-pose_vit-base_8xb32-20e_posetrack18-256x192.py']

optim_wrapper = dict(paramwise_cfg=dict(num_layers=32, layer_decay_rate=0.85))
model = dict(
    backbone=dict(
        arch='huge',
        key_prune_layer=8,
        drop_path_rate=0.55,
        init_cfg=dict(
            checkpoint=('https://download.openmmlab.com/mmpose/v1/'
                        'body_2d_keypoint/topdown_heatmap/coco/'
                        'td-hm_ViTPose-huge_8xb64-210e_coco-256x192-'
                        'e32adcd4_20230314.pth'))),
    head=dict(in_channels=1280, num_heads=16))
