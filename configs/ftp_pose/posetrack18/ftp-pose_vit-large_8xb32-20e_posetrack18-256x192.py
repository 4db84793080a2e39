# FTP-Pose with a ViT-L MGFE (ViTPose-L checkpoint): the default's pruning
# (epsilon 0.9 on the supporting frames, half of the key frame's tokens from
# layer 6 of 24, a quarter of the depth as in ViT-B).
_base_ = ['./ftp-pose_vit-base_8xb32-20e_posetrack18-256x192.py']

optim_wrapper = dict(paramwise_cfg=dict(num_layers=24, layer_decay_rate=0.8))
model = dict(
    backbone=dict(
        arch='large',
        key_prune_layer=6,
        drop_path_rate=0.5,
        init_cfg=dict(
            checkpoint=('https://download.openmmlab.com/mmpose/v1/'
                        'body_2d_keypoint/topdown_heatmap/coco/'
                        'td-hm_ViTPose-large_8xb64-210e_coco-256x192-'
                        '53609f55_20230314.pth'))),
    head=dict(in_channels=1024, num_heads=16))
