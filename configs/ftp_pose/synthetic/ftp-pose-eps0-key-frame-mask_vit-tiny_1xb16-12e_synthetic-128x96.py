# Investigation of the temporal path (configs/ftp_pose/README.md, ablation
# study): the unpruned tiny model trained with RandomKeyFrameMask, which hides
# a random joint in the key frame only (half of the samples), so that the
# supporting frames are the direct source for that joint.
_base_ = ['./ftp-pose-eps0_vit-tiny_1xb16-12e_synthetic-128x96.py']

codec = dict(
    type='UDPHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2)
train_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='RandomFlip', direction='horizontal'),
    dict(
        type='RandomBBoxTransform',
        rotate_factor=15,
        scale_factor=(0.85, 1.15)),
    dict(type='TopdownAffine', input_size=codec['input_size'], use_udp=True),
    dict(type='RandomKeyFrameMask', prob=0.5, size=0.3),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackVideoPoseInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
