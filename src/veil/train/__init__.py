"""Training: config dataclasses, the engine (fit), checkpoints, post-training calibration."""
