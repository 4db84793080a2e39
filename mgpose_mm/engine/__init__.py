from .cpu_distributed import CPUDistributedDataParallel, setup_cpu_distributed
from .quiet_runner import QuietRunner
from .safe_checkpoint_io import AtomicLocalBackend, load_from_trusted_local

__all__ = ['AtomicLocalBackend', 'load_from_trusted_local', 'CPUDistributedDataParallel',
           'setup_cpu_distributed', 'QuietRunner']
