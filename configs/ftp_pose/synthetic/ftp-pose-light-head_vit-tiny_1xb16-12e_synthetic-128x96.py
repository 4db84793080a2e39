# The default without the head's transformer layer and with a 1x1
# fine-grained fusion.
_base_ = ['./ftp-pose-full-key-frame_vit-tiny_1xb16-12e_synthetic-128x96.py']

model = dict(head=dict(num_temporal_layers=0, fusion_kernel_size=1))
