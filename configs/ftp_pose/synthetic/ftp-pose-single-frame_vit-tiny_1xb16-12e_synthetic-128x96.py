# Single-frame control of the tiny config (T = 1, key frame only): same size,
# no temporal evidence.
_base_ = ['./ftp-pose-full-key-frame_vit-tiny_1xb16-12e_synthetic-128x96.py']

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
