# Single-frame control of the default config (T = 1, the key frame only, the
# fine-grained stem on it): the same model without temporal evidence.
_base_ = [
    './ftp-pose-full-key-frame_vit-base_8xb32-20e_posetrack18-256x192.py'
]

frame_offsets = (0, )
model = dict(
    backbone=dict(
        num_frames=1,
        key_frame_index=0,
        fine_frames='key',
        pruner=dict(prune_ratio=0.0)))
train_dataloader = dict(dataset=dict(frame_offsets=frame_offsets))
val_dataloader = dict(dataset=dict(frame_offsets=frame_offsets))
test_dataloader = val_dataloader
