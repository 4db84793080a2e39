"""mgpose_mm: FTP-Pose (multi-grained feature pruning for video pose estimation) as an MMPose plugin.

Importing the package registers its components in MMPose's registries (configs do it with
``custom_imports = dict(imports=['mgpose_mm'])``) and installs MMEngine checkpoint I/O fixes
(:mod:`mgpose_mm.engine.safe_checkpoint_io`). The video inference API is :mod:`mgpose_mm.apis`.
"""
from . import datasets, engine, evaluation, models, visualization  # noqa: F401
from .version import __version__

__all__ = ['__version__']
