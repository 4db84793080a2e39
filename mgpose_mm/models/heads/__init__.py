from .temporal_transformer_head import TemporalTransformerHead

__all__ = ['TemporalTransformerHead']
