from .checkpoint_match import (StrictCheckpointHook, check_state_dict_matches,
                               checkpoint_state_dict)
from .cpu_distributed import CPUDistributedDataParallel, setup_cpu_distributed
from .layer_decay_constructor import ViTLayerDecayOptimWrapperConstructor
from .quiet_runner import QuietRunner
from .safe_checkpoint_io import (ATOMIC_LOCAL_BACKEND, AtomicLocalBackend,
                                 checkpoints_trusted,
                                 install_safe_checkpoint_io,
                                 load_from_safe_http, load_from_safe_local,
                                 mmengine_checkpoint_globals,
                                 restore_mmengine_checkpoint_loaders,
                                 safe_torch_load, trusted_checkpoints)

__all__ = [
    'ATOMIC_LOCAL_BACKEND', 'AtomicLocalBackend', 'install_safe_checkpoint_io',
    'restore_mmengine_checkpoint_loaders', 'load_from_safe_local',
    'load_from_safe_http', 'safe_torch_load', 'mmengine_checkpoint_globals',
    'trusted_checkpoints', 'checkpoints_trusted', 'CPUDistributedDataParallel',
    'setup_cpu_distributed', 'StrictCheckpointHook',
    'check_state_dict_matches', 'checkpoint_state_dict',
    'ViTLayerDecayOptimWrapperConstructor', 'QuietRunner'
]
