auto_scale_lr = dict(base_batch_size=16)
backend_args = dict(backend='local')
codec = dict(
    heatmap_size=(
        24,
        32,
    ),
    input_size=(
        96,
        128,
    ),
    sigma=2,
    type='UDPHeatmap')
custom_hooks = [
    dict(_scope_='mmpose', type='SyncBuffersHook'),
]
custom_imports = dict(
    allow_failed_imports=False, imports=[
        'mgpose_mm',
    ])
data_mode = 'topdown'
data_root = 'data/synthetic_posetrack/'
dataset_type = 'PoseTrackVideoDataset'
default_hooks = dict(
    badcase=dict(
        _scope_='mmpose',
        badcase_thr=5,
        enable=False,
        metric_type='loss',
        out_dir='badcase',
        type='BadCaseAnalysisHook'),
    checkpoint=dict(
        _scope_='mmpose',
        backend_args=dict(backend='mgpose_atomic_local'),
        interval=4,
        max_keep_ckpts=2,
        rule='greater',
        save_best='posetrack/Total AP',
        type='CheckpointHook'),
    logger=dict(_scope_='mmpose', interval=10, type='LoggerHook'),
    param_scheduler=dict(_scope_='mmpose', type='ParamSchedulerHook'),
    sampler_seed=dict(_scope_='mmpose', type='DistSamplerSeedHook'),
    timer=dict(_scope_='mmpose', type='IterTimerHook'),
    visualization=dict(
        _scope_='mmpose', enable=False, type='PoseVisualizationHook'))
default_scope = 'mmpose'
env_cfg = dict(
    cudnn_benchmark=False,
    dist_cfg=dict(backend='nccl'),
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0))
frame_offsets = (
    -1,
    0,
    1,
)
key_frame_index = 1
launcher = 'none'
load_from = None
log_level = 'INFO'
log_processor = dict(
    _scope_='mmpose',
    by_epoch=True,
    num_digits=6,
    type='LogProcessor',
    window_size=50)
model = dict(
    backbone=dict(
        arch=dict(
            embed_dims=96, feedforward_channels=384, num_heads=3,
            num_layers=4),
        drop_path_rate=0.0,
        fine_channels=32,
        fine_frames='pooled',
        fine_stride=4,
        img_size=(
            128,
            96,
        ),
        key_frame_index=1,
        key_prune_layer=1,
        num_frames=3,
        patch_cfg=dict(padding=2),
        patch_size=16,
        prune_layer=0,
        qkv_bias=True,
        type='MGFEViT'),
    data_preprocessor=dict(
        bgr_to_rgb=True,
        mean=[
            123.675,
            116.28,
            103.53,
        ],
        std=[
            58.395,
            57.12,
            57.375,
        ],
        type='VideoPoseDataPreprocessor'),
    head=dict(
        decoder=dict(
            heatmap_size=(
                24,
                32,
            ),
            input_size=(
                96,
                128,
            ),
            sigma=2,
            type='UDPHeatmap'),
        deconv_kernel_sizes=(
            4,
            4,
        ),
        deconv_out_channels=(
            64,
            64,
        ),
        in_channels=96,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        num_heads=3,
        num_temporal_layers=1,
        out_channels=17,
        type='TemporalTransformerHead'),
    neck=dict(
        k=5,
        key_prune_ratio=0.5,
        merge=True,
        prune_ratio=0.9,
        selector='dpc',
        type='DPCTokenPruning'),
    test_cfg=dict(flip_mode='heatmap', flip_test=True, shift_heatmap=False),
    type='VideoTopdownPoseEstimator')
optim_wrapper = dict(
    clip_grad=dict(max_norm=1.0, norm_type=2),
    optimizer=dict(
        betas=(
            0.9,
            0.999,
        ), lr=0.002, type='AdamW', weight_decay=0.05))
param_scheduler = [
    dict(begin=0, by_epoch=False, end=100, start_factor=0.01, type='LinearLR'),
    dict(
        T_max=12,
        begin=0,
        by_epoch=True,
        end=12,
        eta_min=1e-05,
        type='CosineAnnealingLR'),
]
randomness = dict(seed=0)
resume = False
test_cfg = dict()
test_dataloader = dict(
    batch_size=32,
    dataset=dict(
        ann_file='annotations/posetrack18_val.json',
        bbox_file=
        'data/synthetic_posetrack/annotations/posetrack18_val_human_detections.json',
        data_mode='topdown',
        data_prefix=dict(img=''),
        data_root='data/synthetic_posetrack/',
        filter_cfg=dict(bbox_score_thr=0.4),
        frame_offsets=(
            -1,
            0,
            1,
        ),
        pipeline=[
            dict(type='LoadVideoFrames'),
            dict(padding=1.25, type='GetBBoxCenterScale'),
            dict(input_size=(
                96,
                128,
            ), type='TopdownAffine', use_udp=True),
            dict(type='PackVideoPoseInputs'),
        ],
        test_mode=True,
        type='PoseTrackVideoDataset'),
    drop_last=False,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(round_up=False, shuffle=False, type='DefaultSampler'))
test_evaluator = dict(
    ann_file='data/synthetic_posetrack/annotations/posetrack18_val.json',
    attribute_subsets=True,
    nms_mode='oks_nms',
    nms_thr=0.9,
    protocol='poseval',
    type='PoseTrackAPMetric')
train_cfg = dict(by_epoch=True, max_epochs=12, val_interval=4)
train_dataloader = dict(
    batch_size=16,
    dataset=dict(
        ann_file='annotations/posetrack18_train.json',
        data_mode='topdown',
        data_prefix=dict(img=''),
        data_root='data/synthetic_ablation/',
        frame_offsets=(
            -1,
            0,
            1,
        ),
        pipeline=[
            dict(type='LoadVideoFrames'),
            dict(padding=1.25, type='GetBBoxCenterScale'),
            dict(direction='horizontal', type='RandomFlip'),
            dict(
                rotate_factor=15,
                scale_factor=(
                    0.85,
                    1.15,
                ),
                type='RandomBBoxTransform'),
            dict(input_size=(
                96,
                128,
            ), type='TopdownAffine', use_udp=True),
            dict(
                encoder=dict(
                    heatmap_size=(
                        24,
                        32,
                    ),
                    input_size=(
                        96,
                        128,
                    ),
                    sigma=2,
                    type='UDPHeatmap'),
                type='GenerateTarget'),
            dict(type='PackVideoPoseInputs'),
        ],
        type='PoseTrackVideoDataset'),
    num_workers=2,
    persistent_workers=True,
    sampler=dict(shuffle=True, type='DefaultSampler'))
train_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(padding=1.25, type='GetBBoxCenterScale'),
    dict(direction='horizontal', type='RandomFlip'),
    dict(
        rotate_factor=15,
        scale_factor=(
            0.85,
            1.15,
        ),
        type='RandomBBoxTransform'),
    dict(input_size=(
        96,
        128,
    ), type='TopdownAffine', use_udp=True),
    dict(
        encoder=dict(
            heatmap_size=(
                24,
                32,
            ),
            input_size=(
                96,
                128,
            ),
            sigma=2,
            type='UDPHeatmap'),
        type='GenerateTarget'),
    dict(type='PackVideoPoseInputs'),
]
val_cfg = None
val_dataloader = None
val_evaluator = None
val_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(padding=1.25, type='GetBBoxCenterScale'),
    dict(input_size=(
        96,
        128,
    ), type='TopdownAffine', use_udp=True),
    dict(type='PackVideoPoseInputs'),
]
vis_backends = [
    dict(_scope_='mmpose', type='LocalVisBackend'),
]
visualizer = dict(
    _scope_='mmpose',
    name='visualizer',
    type='CompatPoseLocalVisualizer',
    vis_backends=[
        dict(type='LocalVisBackend'),
    ])
work_dir = '/work/main/results/synthetic_study_dev/ftp-pose-key-prune-layer1-full-head_vit-tiny_1xb16-12e_synthetic-128x96/seed0'
