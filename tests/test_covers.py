"""Training cover sampler: sizes, value range, determinism."""
import torch

from veil.data.covers import CoverSampler


def test_sampler_single_size():
    s = CoverSampler(None, crop=96, seed=0)
    x = s.sample(3)
    assert x.shape == (3, 3, 96, 96) and x.dtype == torch.float32
    assert 0 <= float(x.min()) and float(x.max()) <= 1


def test_sampler_draws_each_batch_size_from_the_list():
    s = CoverSampler(None, crop=256, seed=0, sizes=[64, 96, 160])
    seen = {s.sample(2).shape[-1] for _ in range(30)}
    assert seen == {64, 96, 160}


def test_sampler_is_seeded():
    a = CoverSampler(None, sizes=[64, 128], seed=3).sample(2)
    b = CoverSampler(None, sizes=[64, 128], seed=3).sample(2)
    assert torch.equal(a, b)
