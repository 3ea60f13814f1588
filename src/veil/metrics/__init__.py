"""Pure metric functions on float [0,1] NCHW tensors (or numpy arrays where stated)."""
from .image import mae, psnr, ssim

__all__ = ["mae", "psnr", "ssim"]
