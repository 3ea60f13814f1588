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


def test_a_photo_tree_is_read_recursively(tmp_path, sample):
    from veil.data.covers import CoverSampler, list_images

    for i, sub in enumerate(["", "class_a", "class_b/deeper"]):
        (tmp_path / sub).mkdir(parents=True, exist_ok=True)
        sample.resize((96, 96)).rotate(90 * i).save(tmp_path / sub / f"p{i}.jpg")
    (tmp_path / "class_a" / "notes.txt").write_text("not a photo")
    assert [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path)] == [
        "class_a/p1.jpg", "class_b/deeper/p2.jpg", "p0.jpg"]
    assert len(CoverSampler(tmp_path, 64, 0.0).photos) == 3


def test_lazy_sampling_gives_the_in_memory_crops_and_shards_without_decoding(tmp_path, sample, monkeypatch):
    import numpy as np

    import veil.data.covers as covers
    from veil.data.covers import CoverSampler, sharded

    for i in range(5):
        sample.resize((120 + 10 * i, 100)).rotate(90 * i).save(tmp_path / f"p{i}.png")
    eager = CoverSampler(tmp_path, 64, 0.3, seed=3, sizes=[48, 64])
    lazy = CoverSampler(tmp_path, 64, 0.3, seed=3, sizes=[48, 64], lazy=True)
    assert not eager.lazy and lazy.lazy and all(isinstance(p, type(tmp_path)) for p in lazy.photos)
    for _ in range(4):
        a, b = eager.sample(6), lazy.sample(6)
        assert torch.equal(a, b)
    # a sharded process gets its slice of the whole batch, and decodes only the photos of its slice
    whole = CoverSampler(tmp_path, 64, 0.0, seed=5, lazy=True).sample(8)
    decoded = []
    real = covers._resized
    monkeypatch.setattr(covers, "_resized", lambda *a: decoded.append(1) or real(*a))
    with sharded(1, 2):
        part = CoverSampler(tmp_path, 64, 0.0, seed=5, lazy=True).sample(4)
    assert torch.equal(part, whole[4:]) and len(decoded) == 4
    assert np.isfinite(part.numpy()).all()


def test_workers_decode_the_crops_the_sampler_draws(tmp_path, sample):
    from veil.data.covers import CoverSampler

    for i in range(6):
        sample.resize((130 + 10 * i, 110)).rotate(90 * i).save(tmp_path / f"p{i}.jpg")
    inline = CoverSampler(tmp_path, 64, 0.2, seed=4, sizes=[48, 64], lazy=True)
    pooled = CoverSampler(tmp_path, 64, 0.2, seed=4, sizes=[48, 64], workers=2)
    assert pooled.lazy                                     # workers read the files per crop
    for _ in range(3):
        assert torch.equal(inline.sample(8), pooled.sample(8))
    assert pooled._pool is not None                       # ... and the pool did the decoding
    pooled._pool.shutdown()


def test_validation_split_holds_out_whole_files_and_lists_them(tmp_path, sample):
    from veil.data.covers import CoverSampler, list_images, split_images, write_val_list

    for i in range(40):
        (tmp_path / f"c{i % 3}").mkdir(exist_ok=True)
        sample.resize((64, 64)).rotate(9 * i).save(tmp_path / f"c{i % 3}" / f"p{i}.png")
    train, val = split_images(tmp_path, 0.25)
    assert len(train) + len(val) == 40 and not set(train) & set(val)
    assert 4 <= len(val) <= 18                              # about a quarter, by a hash of each file's name
    assert split_images(tmp_path, 0.25) == (train, val)     # the same every time ...
    moved = tmp_path.parent / (tmp_path.name + "_moved")
    tmp_path.rename(moved)                                  # ... and wherever the tree sits
    assert [p.relative_to(moved) for p in split_images(moved, 0.25)[1]] == [p.relative_to(tmp_path) for p in val]
    assert split_images(moved, 0.0) == (list_images(moved), [])
    n = write_val_list(moved, 0.25, tmp_path.parent / "val_files.txt")
    assert n == len(val) and list_images(tmp_path.parent / "val_files.txt") == [p.resolve() for p in
                                                                                split_images(moved, 0.25)[1]]
    sampler = CoverSampler(moved, 32, 0.0, val_share=0.25, lazy=True)
    assert sorted(sampler.photos) == sorted(split_images(moved, 0.25)[0])
