# MMPose's runtime defaults plus the plugin import: every FTP-Pose config
# inherits this.
_base_ = ['mmpose::_base_/default_runtime.py']

custom_imports = dict(imports=['mgpose_mm'], allow_failed_imports=False)
default_scope = 'mmpose'

# MMPose 1.3.2's PoseLocalVisualizer fails to draw keypoints under
# NumPy >= 2.4; same drawing, fixed.
visualizer = dict(type='CompatPoseLocalVisualizer')

# checkpoints are written to a temporary file and renamed into place
default_hooks = dict(
    checkpoint=dict(backend_args=dict(backend='mgpose_atomic_local')))
