# FTP-Pose, ViT-B MGFE, T = 3 (t-1, t, t+1), 256x192: DPC removes 90 % of
# the supporting-frame tokens right after the patch embedding and merges them
# into the kept ones, and half of the key frame's own tokens before ViT layer
# 3 (they come back before the head); the fine-grained stem sees every frame.
# The paper's own setting (pruning after layer 2, epsilon 0.5) is
# ftp-pose-paper_*.py.
_base_ = ['../../_base_/default_runtime.py']

# runtime
train_cfg = dict(max_epochs=20, val_interval=1)

# optimizer: AdamW with layer-wise lr decay over the 12 ViT layers (new modules
# at the full lr); no weight decay on the position and frame embeddings, norms
# and biases (as ViTPose intends). MMPose's LayerDecayOptimWrapperConstructor
# ignores these paramwise options; ours applies both.
optim_wrapper = dict(
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.1),
    paramwise_cfg=dict(
        num_layers=12,
        layer_decay_rate=0.75,
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={
            'pos_embed': dict(decay_mult=0.0),
            'frame_embed': dict(decay_mult=0.0),
        },
    ),
    constructor='ViTLayerDecayOptimWrapperConstructor',
    clip_grad=dict(max_norm=1.0, norm_type=2),
)

# learning policy
param_scheduler = [
    dict(
        type='LinearLR', begin=0, end=500, start_factor=0.001,
        by_epoch=False),  # warm-up
    dict(
        type='MultiStepLR',
        begin=0,
        end=20,
        milestones=[12, 18],
        gamma=0.1,
        by_epoch=True),
]

# automatically scaling LR based on the actual training batch size
auto_scale_lr = dict(base_batch_size=256)

# hooks
default_hooks = dict(
    checkpoint=dict(
        save_best='posetrack/Total AP',
        rule='greater',
        interval=1,
        max_keep_ckpts=3))

# clip layout: frame offsets around the key frame (0); the model's num_frames
# must match
frame_offsets = (-1, 0, 1)
key_frame_index = 1

# codec settings (as ViTPose)
codec = dict(
    type='UDPHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2)

# model settings
model = dict(
    type='VideoTopdownPoseEstimator',
    data_preprocessor=dict(
        type='VideoPoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='MGFEViT',
        num_frames=3,
        key_frame_index=key_frame_index,
        # every ViT layer runs on the kept tokens only
        prune_layer=0,
        # half of the key frame's tokens (DPC among themselves, mostly
        # background) skip layers 3-11
        key_prune_layer=3,
        fine_channels=64,
        fine_stride=4,
        # the high-resolution stem on the key frame and on every supporting
        # frame, pooled over the supporting frames: the head fetches an
        # occluded or blurred key-frame joint from the neighbours at 1/4
        # resolution, with weights that fit any clip length
        fine_frames='pooled',
        # DPC removes 90 % of the supporting-frame tokens after the patch
        # embedding, merging each into its nearest kept one, and half of the
        # key frame's own tokens at key_prune_layer
        pruner=dict(
            type='DPCTokenPruning',
            prune_ratio=0.9,
            k=5,
            selector='dpc',
            merge=True,
            key_prune_ratio=0.5),
        arch='base',
        img_size=(256, 192),
        patch_size=16,
        qkv_bias=True,
        drop_path_rate=0.3,
        patch_cfg=dict(padding=2),
        init_cfg=dict(
            type='Pretrained',
            prefix='backbone.',
            checkpoint='https://download.openmmlab.com/mmpose/v1/'
            'body_2d_keypoint/topdown_heatmap/coco/'
            'td-hm_ViTPose-base_8xb64-210e_coco-256x192-'
            '216eae50_20230314.pth'),
    ),
    head=dict(
        type='TemporalTransformerHead',
        in_channels=768,
        out_channels=17,
        # the joint ViT layers already attend across frames
        num_temporal_layers=0,
        num_heads=12,
        deconv_out_channels=(256, 256),
        deconv_kernel_sizes=(4, 4),
        # 3x3 context at about the cost of a 1x1 fusion
        separable_fusion=True,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=codec),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=False))

# base dataset settings
dataset_type = 'PoseTrackVideoDataset'
data_mode = 'topdown'
data_root = 'data/posetrack18/'

# pipelines: every transform applies the same crop/flip/rotation/scale to all
# frames of a clip
train_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(
        type='RandomBBoxTransform',
        rotate_factor=45,
        scale_factor=(0.65, 1.35)),
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

# data loaders
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/posetrack18_train.json',
        data_prefix=dict(img=''),
        frame_offsets=frame_offsets,
        pipeline=train_pipeline,
    ))
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/posetrack18_val.json',
        # person boxes from a detector, as in the PoseTrack video-pose
        # literature
        bbox_file=data_root +
        'annotations/posetrack18_val_human_detections.json',
        filter_cfg=dict(bbox_score_thr=0.4),
        data_prefix=dict(img=''),
        frame_offsets=frame_offsets,
        test_mode=True,
        pipeline=val_pipeline,
    ))
test_dataloader = val_dataloader

# evaluators: PoseTrack per-joint AP with poseval's rules (the official
# PoseTrack2017/2018 tool)
val_evaluator = dict(
    type='PoseTrackAPMetric',
    protocol='poseval',
    ann_file=data_root + 'annotations/posetrack18_val.json',
    nms_mode='oks_nms',
    nms_thr=0.9)
test_evaluator = val_evaluator
