import json

import pytest

import veil
from veil.errors import InputError, VeilError
from veil.registry import DEFAULTS, get_card, list_cards, resolve_name
from veil.weights import load_weights, sha256_file, weights_path


def test_names_resolve():
    assert resolve_name(None) == DEFAULTS["qr"] == "qr_densenet.default"  # the near-invisible one, the seed's aim
    assert resolve_name(None, "message") == DEFAULTS["message"] == "spread.default"
    assert resolve_name("qr_baseline") == "qr_baseline.default"
    assert resolve_name("qr_densenet.default") == "qr_densenet.default"


def test_every_card_is_complete_and_its_weights_match():
    cards = list_cards()
    assert {c["name"] for c in cards} >= {"qr_densenet.default", "qr_baseline.default", "lsb3.default"}
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
    assert not m.training and float(m.strength) > 0
    card = json.loads(json.dumps(get_card("qr_densenet")))
    card["weights"]["sha256"] = "0" * 64
    with pytest.raises(VeilError, match="corrupt"):
        load_weights(m, card)


def test_unknown_model():
    with pytest.raises(InputError, match="released models are"):
        get_card("qr_nothing")


def test_any_listed_name_loads_without_a_task():
    # veil.list_models() names them all, so veil.load_model(name) takes any of them; a task, when given, is checked
    for name in ("stegnet", "qrnet.seed", "spread", "lsb3", "xunet.stegnet"):
        m = veil.load_model(name)
        assert m.card["name"] in veil.list_models() and not m.training
    assert veil.load_model(None, task="image").card["name"] == DEFAULTS["image"]
    with pytest.raises(InputError, match="not a qr model"):
        veil.load_model("stegnet", task="qr")
    with pytest.raises(InputError, match="name a model"):
        veil.load_model()
