"""Devices and mixed precision: the device names a user may give, bf16 autocast training on this CPU (the same model
format and card as float32, a loss curve near float32's), and the one-line refusals where a GPU is needed. The CUDA
path itself (NCCL, fp16 scaling, networks placed on the GPU for inference) runs only where torch sees a GPU."""
import json
import subprocess
import sys

import pytest
import torch

from veil.devices import pick_device, place
from veil.errors import InputError
from veil.train.accel import pick_amp
from veil.train.config import ImageTrainConfig, load_config
from veil.train.image import train_image

no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusals of a machine without a GPU")


def test_device_names():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(InputError, match="auto, cpu or cuda"):
        pick_device("tpu")
    assert pick_amp("auto", torch.device("cpu")) == "none"
    assert pick_amp("bf16", torch.device("cpu")) == "bf16"
    with pytest.raises(InputError, match="auto, none, bf16 or fp16"):
        pick_amp("fp8", torch.device("cpu"))


@no_gpu
def test_gpu_refusals_without_a_gpu():
    with pytest.raises(InputError, match="no CUDA GPU"):
        pick_device("cuda")
    with pytest.raises(InputError, match="needs a CUDA device"):
        pick_amp("fp16", torch.device("cpu"))
    for argv in (["hide", "--device", "cuda", "cover.png", "-t", "hi", "-o", "x.png"],
                 ["train", "image", "--device", "cuda", "--data", "synthetic", "--steps", "1", "--out", "r"],
                 ["train", "image", "--amp", "fp16", "--data", "synthetic", "--steps", "1", "--out", "r"]):
        p = subprocess.run([sys.executable, "-m", "veil", *argv], capture_output=True, text=True, timeout=120)
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, (argv, p.stderr)
        assert "CUDA" in p.stderr


def test_place_on_the_cpu_leaves_the_model_alone():
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 3, 3))
    assert place(model, torch.device("cpu")) is model
    assert not model[0]._forward_pre_hooks and next(model.parameters()).device.type == "cpu"


def _run(tmp_path, amp: str) -> tuple[list[float], dict]:
    cfg = load_config(None, {"arch": "pixinpix", "model": {"widths": [4, 8, 8]}, "crop": 32, "batch": 4, "steps": 6,
                             "log_every": 1, "ckpt_every": 3, "threads": 1, "amp": amp, "device": "cpu",
                             "synthetic_prob": 1.0}, cls=ImageTrainConfig)
    out = tmp_path / amp
    result = train_image(cfg, out, progress=False)
    from veil.train.export import write_card

    card = write_card(result["model"], cfg, result["state"], None, out, "test")
    return [json.loads(x)["loss"] for x in (out / "log.jsonl").read_text().splitlines()], card


def test_bf16_autocast_trains_on_the_cpu_into_the_same_format(tmp_path):
    full, card32 = _run(tmp_path, "none")
    half, card16 = _run(tmp_path, "bf16")
    assert card16["training"]["amp"] == "bf16" and card32["training"]["amp"] == "none"
    assert card16["training"]["device"] == card32["training"]["device"] == "cpu"
    assert card16["weights"]["dtype"] == card32["weights"]["dtype"] == "float32"
    assert half != full                                          # autocast really ran in bf16 ...
    assert half == pytest.approx(full, rel=0.05)                 # ... and follows the float32 curve
    assert half[-1] < half[0]
