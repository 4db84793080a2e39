from .mgfe_vit import MGFEViT

__all__ = ['MGFEViT']
