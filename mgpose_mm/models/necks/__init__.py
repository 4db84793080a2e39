from .dpc_token_pruning import DPCTokenPruning
from .token_selectors import TOKEN_SCORERS

__all__ = ['DPCTokenPruning', 'TOKEN_SCORERS']
