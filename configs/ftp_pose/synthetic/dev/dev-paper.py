_base_ = ['../ftp-pose_vit-tiny_1xb16-12e_synthetic-128x96.py']
