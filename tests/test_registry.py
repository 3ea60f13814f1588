import json

import pytest

import veil
from veil.errors import InputError, VeilError
from veil.registry import DEFAULTS, get_card, list_cards, resolve_name
from veil.weights import load_weights, sha256_file, weights_path


def test_names_resolve():
    assert resolve_name(None) == DEFAULTS["qr"] == "qr_densenet.quiet"  # the near-invisible one, the seed's aim
    assert resolve_name(None, "message") == DEFAULTS["message"] == "spread.default"
    assert resolve_name("qr_baseline") == "qr_baseline.default"
    assert resolve_name("qr_densenet.quiet") == "qr_densenet.quiet"


def test_every_card_is_complete_and_its_weights_match():
    cards = list_cards()
    assert {c["name"] for c in cards} >= {"qr_densenet.quiet", "qr_baseline.default", "lsb3.default"}
    for c in cards:
        for key in ("arch", "tag", "task", "kwargs", "payload", "weights", "training", "deviations"):
            assert key in c, (c["name"], key)
        if c["task"] == "qr":
            assert "processing_size" in c
        if c["weights"] is None:     # parameter-free baselines (lsbK) ship no weights and were never trained
            assert veil.load_model(c["name"], task=c["task"]).state_dict() == {} and c["training"] is None
            continue
        assert sha256_file(weights_path(c)) == c["weights"]["sha256"]
        assert "command" in c["training"] and c["training"]["wall_time_s"] > 0
        assert c["weights"]["bytes"] < 20e6  # small enough to ship in the package


def test_load_model_is_strict_and_checks_the_hash(tmp_path, monkeypatch):
    m = veil.load_model("qr_densenet")
    assert not m.training and float(m.calibrated_gain) > 0
    card = json.loads(json.dumps(get_card("qr_densenet")))
    card["weights"]["sha256"] = "0" * 64
    with pytest.raises(VeilError, match="corrupt"):
        load_weights(m, card)


def test_loading_is_strict_about_every_tensor():
    # weights whose hash matches their card but which lack a tensor, or carry one too many, are refused
    from safetensors.torch import load_file, save_file

    from veil.weights import user_dir

    card = json.loads(json.dumps(get_card("qr_baseline")))
    state = load_file(str(weights_path(card)))
    edits = (("missing", lambda s: s.pop(sorted(s)[0])), ("extra", lambda s: s.update(x=s[sorted(s)[0]].clone())))
    for name, edit in edits:
        bad = dict(state)
        edit(bad)
        f = user_dir() / f"qr_baseline.{name}.safetensors"
        save_file(bad, str(f))
        card["weights"].update(file=f.name, sha256=sha256_file(f))
        m = veil.load_model("qr_baseline")
        with pytest.raises(VeilError, match="do not fit its architecture"):
            load_weights(m, card)
        f.unlink()


def test_unknown_model():
    with pytest.raises(InputError, match="released models are"):
        get_card("qr_nothing")


def test_any_listed_name_loads_without_a_task():
    # veil.list_models() names them all, so veil.load_model(name) takes any of them; a task, when given, is checked
    for name in ("stegnet", "qrnet.paper", "spread", "lsb3", "xunet.stegnet"):
        m = veil.load_model(name)
        assert m.card["name"] in veil.list_models() and not m.training
    assert veil.load_model(None, task="image").card["name"] == DEFAULTS["image"]
    with pytest.raises(InputError, match="not a qr model"):
        veil.load_model("stegnet", task="qr")
    with pytest.raises(InputError, match="name a model"):
        veil.load_model()


def test_models_released_into_the_user_folder_load_and_nothing_writes_into_the_package(tmp_path, monkeypatch):
    import os
    import shutil

    from veil.registry import update_card
    from veil.train.export import release
    from veil.weights import package_dirs, user_dir

    user = user_dir()
    assert str(user) == os.environ["VEIL_WEIGHTS"]
    # a run folder as training exports it: card and weights side by side, under a new tag
    run = tmp_path / "run"
    run.mkdir()
    card = json.loads(json.dumps(get_card("qr_baseline")))
    card.update(name="qr_baseline.mine", tag="mine")
    card["weights"]["file"] = "qr_baseline.mine.safetensors"
    shutil.copy(package_dirs()[1] / "qr_baseline.default.safetensors", run / card["weights"]["file"])
    (run / "qr_baseline.mine.json").write_text(json.dumps(card))
    package_before = {p.name: p.read_bytes() for p in package_dirs()[0].iterdir()}

    path = release(run, "qr_baseline.mine")                     # default: the user's model folder
    assert path == user / "qr_baseline.mine.json" and (user / "qr_baseline.mine.safetensors").is_file()
    assert "qr_baseline.mine" in veil.list_models()
    assert veil.load_model("qr_baseline.mine").card["tag"] == "mine"

    laid_out = tmp_path / "checkout"                            # a folder laid out as the package: cards/, weights/
    (laid_out / "cards").mkdir(parents=True)
    (laid_out / "weights").mkdir()
    release(run, "qr_baseline.mine", laid_out)
    assert (laid_out / "cards" / "qr_baseline.mine.json").is_file()
    assert (laid_out / "weights" / "qr_baseline.mine.safetensors").is_file()

    # new numbers for a shipped model go into a card in the user's folder, which then wins over the package's
    written = update_card("qr_baseline.default", lambda c: c.__setitem__("metrics", {"psnr": 1.0}))
    assert written.parent == user and get_card("qr_baseline")["metrics"] == {"psnr": 1.0}
    assert veil.load_model("qr_baseline").card["metrics"] == {"psnr": 1.0}     # its weights: still the package's
    assert {p.name: p.read_bytes() for p in package_dirs()[0].iterdir()} == package_before
    for f in user.iterdir():
        f.unlink()
    from veil.registry import _cached_model
    _cached_model.cache_clear()


def test_former_names_still_load_with_one_warning():
    import warnings

    import veil.registry as R

    R._warned.clear()
    assert resolve_name("qr_densenet") == "qr_densenet.quiet"        # an arch alone: the task default of that arch
    assert resolve_name("qrnet", "qrnet") == "qrnet.default" and resolve_name("stegnet") == "stegnet.default"
    with pytest.warns(FutureWarning, match="qr_densenet.default is deprecated: it is qr_densenet.quiet"):
        m = veil.load_model("qr_densenet.default")
    assert m.card["name"] == "qr_densenet.quiet"
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                 # once per process
        assert resolve_name("qr_densenet.default") == "qr_densenet.quiet"
    with pytest.warns(FutureWarning, match="qrnet.paper"):
        assert veil.load_model("qrnet.seed").card["name"] == "qrnet.paper"
    assert not set(R.ALIASES) & set(veil.list_models())


def test_the_cli_says_a_former_name_in_one_line(sample_path, capsys):
    import veil.registry as R
    from veil.cli.main import main

    R._warned.clear()
    assert main(["qrnet", "read", "--model", "qrnet.seed", str(sample_path)]) == 1     # a photo: no code
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == "veil: warning: the model name qrnet.seed is deprecated: it is qrnet.paper now"
    assert len(err) == 2 and "no six-digit QR code" in err[1]


def test_the_calibrated_gain_keeps_its_key_in_weight_files(tmp_path):
    # in code it is calibrated_gain; in state dicts and files the key the shipped weights were released with
    from veil.models.base import GAIN_FILE_KEY
    from veil.registry import create_model
    from veil.weights import save_weights

    m = veil.load_model("qr_densenet")
    calibration = get_card("qr_densenet")["training"]["calibration"]
    assert float(m.calibrated_gain) == pytest.approx(calibration["calibrated_gain"])
    sd = m.state_dict()
    assert GAIN_FILE_KEY in sd and "calibrated_gain" not in sd
    m.calibrated_gain.fill_(1.7)
    save_weights(m, tmp_path / "w.safetensors")
    from safetensors.torch import load_file

    fresh = create_model("qr_densenet", **get_card("qr_densenet")["kwargs"])
    fresh.load_state_dict(load_file(str(tmp_path / "w.safetensors")), strict=True)
    assert float(fresh.calibrated_gain) == pytest.approx(1.7)
