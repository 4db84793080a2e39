from .cpu_distributed import CPUDistributedDataParallel, setup_cpu_distributed
from .safe_checkpoint_io import AtomicLocalBackend, load_from_trusted_local

__all__ = ['AtomicLocalBackend', 'load_from_trusted_local', 'CPUDistributedDataParallel',
           'setup_cpu_distributed']
