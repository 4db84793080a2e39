from .safe_checkpoint_io import AtomicLocalBackend, load_trusted_local_checkpoint

__all__ = ['AtomicLocalBackend', 'load_trusted_local_checkpoint']
