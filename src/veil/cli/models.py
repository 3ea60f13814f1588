"""``veil models``: registered architectures, released weights and the numbers their cards report."""
from __future__ import annotations

import json


def add_parser(sub) -> None:
    p = sub.add_parser("models", help="list models, their weights and measured numbers")
    p.add_argument("--json", action="store_true", help="print the cards as JSON")
    p.set_defaults(func=run)


def _fmt_metrics(m: dict) -> str:
    parts = []
    for key, label, fmt in (("success_256", "ok@256", "{:.1%}"), ("success_native", "ok@native", "{:.1%}"),
                            ("psnr", "PSNR", "{:.1f} dB"), ("ssim", "SSIM", "{:.4f}")):
        if key in m:
            parts.append(f"{label} {fmt.format(m[key])}")
    by_attack = m.get("success_by_attack") or {}
    for spec in ("jpeg:50", "blur:1+jpeg:75", "crop:0.9"):
        if spec in by_attack:
            parts.append(f"after {spec} {by_attack[spec]:.1%}")
    if m.get("no_message_on_clean") is not None:
        parts.append(f"no message on clean {m['no_message_on_clean']:.2%}")
    if m.get("success_small") is not None:
        parts.append(f"ok@64-127px {m['success_small']:.1%}")
    image = [(k[6:], v) for k, v in m.items() if k.startswith("image_")]
    for size, r in sorted(image, key=lambda kv: (not kv[0].isdigit(), int(kv[0]) if kv[0].isdigit() else 0)):
        parts.append(f"{size}: cover {r['cover_psnr']:.1f} dB, secret {r['secret_psnr']:.1f} dB, "
                     f"decoded {r['decoded_rate']:.1%}")
    if "clean_seed_format" in m:          # qrnet: the neural QR reader (seed 001)
        c = m["clean_seed_format"]
        parts.append(f"6 digits exact {c['exact']:.2%} ({c['per_digit']:.2%} per digit) on {c['n']} fresh 21x21 codes")
        if "clean_any" in m:
            parts.append(f"any size/quiet zone/turn {m['clean_any']['exact']:.2%}")
        if "read_codes_per_s" in m:
            parts.append(f"read {m['read_codes_per_s']:.0f} codes/s ({m.get('read_threads', '?')} thread)")
    if "steganalysis" in m:
        s = m["steganalysis"]
        parts.append(f"AUC {s['auc']:.3f} against its target on {s['n_clean']}+{s['n_stego']} held-out crops")
    return ", ".join(parts) or "not measured"


def run(args) -> int:
    from ..registry import DEFAULTS, list_archs, list_cards

    cards = list_cards()
    if args.json:
        print(json.dumps(cards, indent=1))
        return 0
    defaults = set(DEFAULTS.values())
    print(f"{'model':<24} {'task':<12} {'weights':<10} measured (photos never trained on, 8-bit PNG)")
    for c in cards:
        star = " *" if c["name"] in defaults else ""
        size = f"{c['weights']['bytes'] / 1e6:.1f} MB" if c.get("weights") else "none"
        print(f"{c['name'] + star:<24} {c.get('task', ''):<12} {size:<10} {_fmt_metrics(c.get('metrics', {}))}")
    released = {c["arch"] for c in cards}
    others = [a for a in list_archs() if a not in released]
    if others:
        print("architectures without released weights: " + ", ".join(others))
    print("* default network of its task (veil image hide defaults to codec, which has no weights: docs/image.md)")
    return 0
