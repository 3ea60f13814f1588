"""Pure metric functions on float [0,1] NCHW tensors (or numpy arrays where stated)."""
from .image import color_cast, mae, psnr, ssim
from .stego import cover_changing_rate, decoded_rate, payload_capacity

__all__ = ["color_cast", "mae", "psnr", "ssim", "cover_changing_rate", "decoded_rate", "payload_capacity"]
