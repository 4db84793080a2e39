from .cpu_distributed import CPUDistributedDataParallel, setup_cpu_distributed
from .safe_checkpoint_io import AtomicLocalBackend, load_trusted_local_checkpoint

__all__ = ['AtomicLocalBackend', 'load_trusted_local_checkpoint', 'CPUDistributedDataParallel',
           'setup_cpu_distributed']
