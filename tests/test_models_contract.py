"""Contract tests generated from the registry: every architecture, at tiny size."""
import pytest
import torch

from veil.registry import create_model, list_archs

from .test_disguise import TINY as DISGUISE_TINY
from .test_image import TINY as IMAGE_TINY
from .test_qrnet import TINY as QRNET_TINY
from .test_spread import TINY as SPREAD_TINY
from .test_steganalysis import TINY as STEGANALYSIS_TINY

TINY = {
    "qr_densenet": dict(processing_size=64, first=8, growth=4, down=(1, 1, 1, 1, 1), bottleneck=1, dec_width=8,
                        dec_dilations=(1, 2), max_residual=0.04),
    "qr_baseline": dict(processing_size=64),
}


def test_every_arch_has_a_tiny_config():
    """QR families here; image families (and lsb1..4, parameter-free) in test_image.py; steganalysers in
    test_steganalysis.py; the neural QR reader in test_qrnet.py; the spread-message model in test_spread.py; the
    disguise generator in test_disguise.py."""
    lsb = {f"lsb{k}" for k in range(1, 5)}
    families = set(TINY) | set(IMAGE_TINY) | set(STEGANALYSIS_TINY) | set(QRNET_TINY) | set(SPREAD_TINY) \
        | set(DISGUISE_TINY)
    assert set(list_archs()) == families | lsb


ALL_TINY = {**TINY, **IMAGE_TINY, **STEGANALYSIS_TINY, **QRNET_TINY, **SPREAD_TINY, **DISGUISE_TINY,
            **{f"lsb{k}": {} for k in (1, 2, 4)}}


def _training_inputs(m, b: int = 2):
    """Inputs of ``forward`` for a model of each task, at a small size (a new task must add its own here)."""
    g = torch.Generator().manual_seed(0)
    cover = torch.rand(b, 3, 64, 48, generator=g)
    if m.task == "qr":
        p = m.processing_size
        return cover, (torch.rand(b, 1, p, p, generator=g) > 0.5).float()
    if m.task == "message":
        return cover, (torch.rand(b, m.n_bits, generator=g) > 0.5).float()
    if m.task == "image":
        return cover[..., :32, :32], torch.rand(b, m.secret_channels, 32, 32, generator=g)
    if m.task == "qrnet":
        return (m.prepare(torch.rand(b, 1, 60, 60, generator=g)),)
    if m.task == "steganalysis":
        return (cover,)
    if m.task == "disguise":
        return (torch.rand(b, m.channels, m.size, m.size, generator=g),)
    raise AssertionError(f"no training inputs for task {m.task!r}")


@pytest.mark.parametrize("arch", list_archs())
def test_every_family_keeps_the_one_contract(arch):
    # the registry drives this: every registered architecture, at tiny size, is a VeilModel of a known task whose
    # forward returns exactly its declared outputs, finite, with the hiding keys where it hides, and a gradient
    # that reaches every parameter
    from veil.models.contract import HIDING_OUTPUTS, TASKS, VeilModel

    torch.manual_seed(0)
    m = create_model(arch, **ALL_TINY[arch])
    assert isinstance(m, VeilModel) and m.task in TASKS
    m.train()
    out = m(*_training_inputs(m))
    assert isinstance(out, dict) and tuple(out) == tuple(m.outputs), (arch, tuple(out))
    if m.task in ("qr", "message", "image"):
        assert set(HIDING_OUTPUTS) <= set(out)
    assert all(torch.isfinite(v).all() for v in out.values())
    params = [p for p in m.parameters() if p.requires_grad]
    if not params:                       # lsbK: no parameters, nothing to train
        return
    sum(v.float().mean() for v in out.values() if v.requires_grad).backward()
    missing = [n for n, p in m.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"no gradient reaches {missing[:5]}"
    assert all(torch.isfinite(p.grad).all() for p in params)


@pytest.fixture(params=sorted(TINY))
def model(request):
    torch.manual_seed(0)
    return create_model(request.param, **TINY[request.param])


def test_forward_shapes_gradients_no_nan(model):
    model.train()
    p = model.processing_size
    cover = torch.rand(2, 3, 96, 80)
    qr = (torch.rand(2, 1, p, p) > 0.5).float()
    out = model(cover, qr)
    assert out["stego"].shape == cover.shape
    assert out["residual"].shape == cover.shape
    assert out["logits"].shape == (2, 1, p, p)
    for k, v in out.items():
        assert torch.isfinite(v).all(), k
    # stego is on the 8-bit grid
    s = out["stego"].detach() * 255
    assert torch.allclose(s, s.round(), atol=1e-3)
    loss = out["logits"].mean() + out["residual"].abs().mean()
    loss.backward()
    for name, prm in model.named_parameters():
        assert prm.grad is not None, f"no gradient reaches {name}"
        assert torch.isfinite(prm.grad).all(), name
    assert sum(float(prm.grad.abs().sum()) for prm in model.parameters()) > 0


@pytest.mark.parametrize("hw", [(64, 64), (97, 150), (300, 41 * 3)])
def test_embed_extract_any_size(model, hw):
    p = model.processing_size
    cover = torch.rand(1, 3, *hw)
    qr = torch.ones(1, 1, p, p)
    stego = model.embed(cover, qr)
    assert stego.shape == cover.shape
    assert 0 <= float(stego.min()) and float(stego.max()) <= 1
    prob = model.extract(stego)
    assert prob.shape == (1, 1, p, p) and 0 <= float(prob.min()) and float(prob.max()) <= 1


def test_inference_is_deterministic_and_keeps_train_mode(model):
    model.train()
    cover = torch.rand(1, 3, 80, 80)
    qr = torch.zeros(1, 1, model.processing_size, model.processing_size)
    a, b = model.embed(cover, qr), model.embed(cover, qr)
    assert torch.equal(a, b)  # eval-mode batch norm and no dropout at inference
    assert model.training


def test_residual_bound():
    torch.manual_seed(0)
    m = create_model("qr_baseline", processing_size=64, max_residual=0.02).eval()
    with torch.no_grad():
        r = m.residual(torch.rand(1, 3, 64, 64), torch.rand(1, 1, 64, 64))
    assert float(r.abs().max()) <= 0.02 + 1e-6


def test_residual_shape_options_keep_luma_and_low_frequencies():
    """residual_luma: the same change in R, G and B (no chroma change); residual_blur: less high-frequency
    energy than the same network's free residual (both parameter-free, so weights load either way)."""
    def build(**kw):
        torch.manual_seed(0)
        return create_model("qr_densenet", **{**TINY["qr_densenet"], **kw}).eval()

    free, shaped = build(), build(residual_luma=True, residual_blur=1.5)
    shaped.load_state_dict(free.state_dict())
    cover, qr = torch.rand(1, 3, 64, 64), (torch.rand(1, 1, 64, 64) > 0.5).float()
    with torch.no_grad():
        r_free, r = free.residual(cover, qr), shaped.residual(cover, qr)
    assert torch.allclose(r[:, 0], r[:, 1]) and torch.allclose(r[:, 1], r[:, 2])
    assert not torch.allclose(r_free[:, 0], r_free[:, 1])

    def high(x):   # energy of neighbour differences, relative to the signal's
        return float((x[..., 1:] - x[..., :-1]).pow(2).mean() / x.pow(2).mean())
    assert high(r) < 0.5 * high(r_free.mean(1, keepdim=True))


def test_strength_scales_the_residual(model):
    model.eval()
    cover = torch.full((1, 3, 64, 64), 0.5)
    qr = torch.zeros(1, 1, model.processing_size, model.processing_size)
    with torch.no_grad():
        r1 = model.residual(cover, qr)
        model.calibrated_gain.fill_(2.0)
        r2 = model.residual(cover, qr)
    assert float(r1.abs().max()) > 0
    assert torch.allclose(r2, 2 * r1, atol=1e-5)


def test_embed_same_for_channels_last_and_contiguous(model):
    """Images read from files are channels-last tensors; hiding must not depend on the memory layout."""
    torch.manual_seed(1)
    cover = torch.rand(1, 3, 96, 160)
    qr = (torch.rand(1, 1, model.processing_size, model.processing_size) > 0.5).float()
    a = model.embed(cover, qr)
    b = model.embed(cover.contiguous(memory_format=torch.channels_last), qr)
    assert a.shape == b.shape == cover.shape
    assert torch.allclose(a, b, atol=1e-6)
