# Tiny FTP-Pose for CPU: trains in minutes on the synthetic PoseTrack-format
# videos made by `python tools/dataset_converters/make_synthetic_posetrack.py
# --out-dir data/synthetic_posetrack --num-train-videos 24`. Same components
# and pipeline as the paper config; small ViT (4 layers, 96 channels), 128x96
# input.
_base_ = ['../posetrack18/ftp-pose_vit-base_8xb32-20e_posetrack18-256x192.py']

# Reproducible runs: a fixed seed (MMEngine also seeds the dataloader workers
# from it). On CPU this makes repeated runs identical; on CUDA add
# `--cfg-options randomness.deterministic=True` (with
# CUBLAS_WORKSPACE_CONFIG=:4096:8) for bit-identical repeats.
randomness = dict(seed=0)

# 12 epochs: on this data, longer training overfits (validation AP peaks around
# epochs 8-12)
train_cfg = dict(max_epochs=12, val_interval=4)

# trained from scratch: no layer-wise decay
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(
        type='AdamW', lr=2e-3, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=1.0, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.01, by_epoch=False),
    dict(
        type='CosineAnnealingLR',
        begin=0,
        end=12,
        T_max=12,
        eta_min=1e-5,
        by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=4, max_keep_ckpts=2))

codec = dict(
    type='UDPHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2)

model = dict(
    # the ViT-B config's backbone (pruning, key-frame reduction, pooled fine
    # stem) at tiny size, trained from scratch
    backbone=dict(
        arch=dict(
            _delete_=True,
            embed_dims=96,
            num_layers=4,
            num_heads=3,
            feedforward_channels=384),
        img_size=(128, 96),
        # half of the key frame's tokens skip layers 1-3
        key_prune_layer=1,
        fine_channels=32,
        drop_path_rate=0.0,
        init_cfg=None),
    head=dict(
        in_channels=96,
        num_heads=3,
        deconv_out_channels=(64, 64),
        decoder=codec))

data_root = 'data/synthetic_posetrack/'
train_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='RandomFlip', direction='horizontal'),
    # light augmentation: train and val videos come from the same generator
    dict(
        type='RandomBBoxTransform',
        rotate_factor=15,
        scale_factor=(0.85, 1.15)),
    dict(type='TopdownAffine', input_size=codec['input_size'], use_udp=True),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackVideoPoseInputs'),
]
val_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=codec['input_size'], use_udp=True),
    dict(type='PackVideoPoseInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    dataset=dict(
        data_root=data_root,
        bbox_file=data_root +
        'annotations/posetrack18_val_human_detections.json',
        pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    ann_file=data_root + 'annotations/posetrack18_val.json',
    attribute_subsets=True)
test_evaluator = val_evaluator
