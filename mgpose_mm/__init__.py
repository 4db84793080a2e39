"""mgpose_mm: FTP-Pose (multi-grained feature pruning for video pose
estimation) as an MMPose plugin.

Importing the package registers its components in MMPose's registries
(configs do it with ``custom_imports = dict(imports=['mgpose_mm'])``) and
replaces MMEngine's checkpoint loaders by safe ones
(:mod:`mgpose_mm.engine.safe_checkpoint_io`); docs/plugin.md lists every
change it makes in the process and how to opt out. The video inference API is
:mod:`mgpose_mm.apis`.
"""
from . import datasets, engine, evaluation, models, visualization  # noqa: F401
from .version import __version__

__all__ = ['__version__']
