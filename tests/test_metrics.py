import math

import pytest
import torch

from veil.metrics import mae, psnr, ssim


def test_psnr_hand_computed():
    a = torch.zeros(1, 3, 16, 16)
    b = torch.full((1, 3, 16, 16), 0.1)
    assert psnr(a, b) == pytest.approx(20.0)           # 10 log10(1 / 0.01)
    assert psnr(a, a) == math.inf


def test_mae_hand_computed():
    a = torch.zeros(1, 1, 2, 2)
    b = torch.tensor([[[[0.0, 0.2], [0.4, 0.2]]]])
    assert mae(a, b) == pytest.approx(0.2)


def test_ssim_bounds_and_ordering():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, 64, 64, generator=g)
    assert ssim(x, x) == pytest.approx(1.0)
    small = (x + 0.02 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    big = (x + 0.2 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    assert 1.0 > ssim(x, small) > ssim(x, big)
    assert ssim(x, 1 - x) < 0  # anti-correlated structure


def test_ssim_constant_shift_hand_computed():
    # Constant images a, b: sigma terms vanish, SSIM = (2ab + c1) / (a^2 + b^2 + c1).
    a = torch.full((1, 1, 16, 16), 0.5, dtype=torch.float64)
    b = torch.full((1, 1, 16, 16), 0.6, dtype=torch.float64)
    c1 = 0.01**2
    assert ssim(a, b) == pytest.approx((2 * 0.5 * 0.6 + c1) / (0.25 + 0.36 + c1), rel=1e-5)


@pytest.mark.parametrize("channels", [1, 3])
def test_ssim_agrees_with_scikit_image(sample, channels):
    # the same definition as skimage.metrics.structural_similarity with Wang et al.'s Gaussian window (sigma 1.5,
    # population covariances, data range 1): one photo against a noisy, blurred and shifted copy of itself
    from skimage.metrics import structural_similarity

    from veil.attacks.pixel import GaussianBlur
    from veil.imaging import pil_to_tensor

    a = pil_to_tensor(sample.resize((96, 80)))[:, :channels]
    g = torch.Generator().manual_seed(channels)
    for b in (a + 0.05 * torch.randn(a.shape, generator=g), GaussianBlur(1.0)(a), a * 0.8 + 0.1):
        b = b.clamp(0, 1)
        ref = structural_similarity(a[0].permute(1, 2, 0).double().numpy(), b[0].permute(1, 2, 0).double().numpy(),
                                    gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0,
                                    channel_axis=2)
        assert ssim(a, b) == pytest.approx(ref, abs=2e-5)
