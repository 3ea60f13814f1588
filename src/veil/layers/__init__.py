"""Reusable network blocks."""
from .blocks import ConvBNAct, DenseBlock, TransitionDown, TransitionUp

__all__ = ["ConvBNAct", "DenseBlock", "TransitionDown", "TransitionUp"]
