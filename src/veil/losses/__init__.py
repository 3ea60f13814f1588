"""Named loss terms. Each loss returns a dict of terms plus ``loss``."""
from .qr import module_error, module_logits, qr_hiding_loss

__all__ = ["module_error", "module_logits", "qr_hiding_loss"]
