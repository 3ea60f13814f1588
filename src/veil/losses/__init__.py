"""Named loss terms. Each loss returns a dict of terms plus ``loss``."""
from .image import image_hiding_loss
from .qr import module_error, module_logits, qr_hiding_loss

__all__ = ["image_hiding_loss", "module_error", "module_logits", "qr_hiding_loss"]
from .message import bit_error, cover_loss, message_loss

__all__ += ["bit_error", "cover_loss", "message_loss"]
