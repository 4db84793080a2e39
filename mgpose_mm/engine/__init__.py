from .checkpoint_match import (StrictCheckpointHook, check_state_dict_matches,
                               checkpoint_state_dict)
from .cpu_distributed import CPUDistributedDataParallel, setup_cpu_distributed
from .layer_decay_constructor import ViTLayerDecayOptimWrapperConstructor
from .quiet_runner import QuietRunner
from .safe_checkpoint_io import (AtomicLocalBackend, checkpoints_trusted,
                                 load_from_safe_http, load_from_safe_local,
                                 mmengine_checkpoint_globals, safe_torch_load,
                                 trusted_checkpoints)

__all__ = [
    'AtomicLocalBackend', 'load_from_safe_local', 'load_from_safe_http',
    'safe_torch_load', 'mmengine_checkpoint_globals', 'trusted_checkpoints',
    'checkpoints_trusted', 'CPUDistributedDataParallel',
    'setup_cpu_distributed', 'StrictCheckpointHook',
    'check_state_dict_matches', 'checkpoint_state_dict',
    'ViTLayerDecayOptimWrapperConstructor', 'QuietRunner'
]
