"""False positives of the spread message codec (veil.payloads.message) on bits that hold no message, and a
check of the calculation in its docstring.

1. --trials images of uniform random probabilities. For each, every attempt decode_message makes (each level's
   hard decisions and all its Chase flip patterns; decode_message stops at the first full pass, this does
   not), counted by stage: how often BCH lands on a codeword within t bits (the calculation predicts
   ``2^CHASE_BITS * sum V / 2^r`` per image), how many of those would pass the header and padding checks
   without the CRC (predicted 1/64 * (1/2 + 1/2 * 1/255) = 1/127.5 of distinct codewords; the UTF-8 check of
   text frames would lower it further; the flip patterns of one image often land on the same codeword, so
   decodes come in clumps and distinct codewords are counted too), and how many pass everything (a false
   positive: must be none). decode_message itself is timed on the first --timed of them.
2. Real messages (16 random bytes at ECC M) damaged past repair, --damaged of them at --damaged-ber raw bit
   errors on the Gaussian LLR channel of scripts/ecc_compare.py: how often decode_message still reads them,
   how often an attempt lands on a wrong codeword, and how often that passes the header checks. A wrong
   message needs one of those to pass the CRC too (2^-24 each). The codes of the levels can be nested (at 256
   bits an M codeword followed by zeros is an L codeword), so the sent word itself can decode at another level:
   counted apart, and the level in its header must reject every such read.

Run: .venv/bin/python scripts/spread_false_positives.py [--trials 6000] [--n-bits 256]
     -> results/spread_false_positives.json (about 2 minutes on one core at 256 bits).
"""
import argparse
import json
import sys
import time
from math import comb
from pathlib import Path
from statistics import NormalDist

import numpy as np

from veil.payloads import message as msg


def predicted_bch_hits(n_bits: int) -> float:
    """Expected BCH decodes within t per random image, over all attempts."""
    total = 0.0
    for name in msg.ECC_LEVELS:
        lay = msg._layout(n_bits, name)
        total += sum(comb(lay.codeword_bits, i) for i in range(lay.t + 1)) / 2**lay.ecc_bits
    return total * 2**msg.CHASE_BITS


def header_ok(frame: bytes, level: str, cap: int) -> bool:
    """The checks of msg._parse other than the CRC and UTF-8: version, level, reserved bit, padding."""
    h = frame[0]
    if h >> 5 != msg.FORMAT_VERSION or (h >> 1) & 3 != msg.ECC_LEVELS[level].code or h & 1:
        return False
    data = frame[1:1 + cap]
    if not (h >> 3) & 1:
        data = data.rstrip(b"\0")
        if len(data) < 2 or data[-1] != msg.PAD_MARK:
            return False
    return True


def codeword_bits(p: np.ndarray, key: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(hard decisions, reliabilities) in codeword order, as msg._decode makes them."""
    whiten, perm = msg._scramble(key, p.size)
    q = p[perm]
    return (q > 0.5).astype(np.uint8) ^ whiten, np.abs(q - 0.5)


def attempts(p: np.ndarray, key: bytes, sent: dict[str, bytes] | None = None) -> dict[str, int]:
    """For one image, over every attempt decode_message would make: BCH decodes within t ("bch"), of which
    pass the header checks ("header"), of which pass the CRC and every other check ("full"), and the distinct
    codewords among them ("bch_distinct", "header_distinct": the flip patterns of one image often land on the
    same codeword). With ``sent`` (the bytes each level's reader sees in the clean codeword that was sent)
    decodes back to the sent word are left out and counted apart: "cross" (the sent word at another level)
    and "cross_header" (of which pass the header checks)."""
    hard, reliability = codeword_bits(p, key)
    count = dict.fromkeys(["bch", "header", "full", "cross", "cross_header"], 0)
    distinct, distinct_header = set(), set()
    for name in msg._DECODE_ORDER:
        reader = msg._Reader(hard, reliability, name, p.size)
        cap = reader.lay.capacity
        steps = reader.flips(msg.CHASE_BITS)
        while True:
            cw = reader.correct()
            if cw is not None and sent is not None and cw[0] + cw[1] == sent[name]:
                if name != "M":              # the codes are nested: the sent word may be a codeword here too
                    count["cross"] += 1
                    count["cross_header"] += header_ok(cw[0], name, cap)
            elif cw is not None:
                count["bch"] += 1
                distinct.add((name, cw))
                if header_ok(cw[0], name, cap):
                    count["header"] += 1
                    distinct_header.add((name, cw))
                    count["full"] += msg._parse(cw[0], name, cap) is not None
            if next(steps, StopIteration) is StopIteration:
                break
        reader.reset()
    return count | {"bch_distinct": len(distinct), "header_distinct": len(distinct_header)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=6000, help="random images, every attempt counted")
    ap.add_argument("--timed", type=int, default=300, help="of them, also read with decode_message and timed")
    ap.add_argument("--damaged", type=int, default=2000, help="real messages damaged past repair")
    ap.add_argument("--damaged-ber", type=float, default=0.07)
    ap.add_argument("--n-bits", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results/spread_false_positives.json")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    key = msg._key(None)
    t0 = time.perf_counter()
    total: dict[str, int] = {}
    images_hit = decoded = 0
    times = []
    for i in range(args.trials):
        p = rng.random(args.n_bits)
        if i < args.timed:
            t = time.perf_counter()
            decoded += msg.decode_message(p) is not None
            times.append(time.perf_counter() - t)
        a = attempts(p, key)
        total = {k: total.get(k, 0) + v for k, v in a.items()}
        images_hit += a["full"] > 0
    print(f"{images_hit} false positives in {args.trials} random images, {decoded} in the {len(times)} read by "
          f"decode_message "
          f"({1e3 * np.mean(times):.2f} ms each, at most {1e3 * np.max(times):.2f})", flush=True)
    mu = 2.0 * NormalDist().inv_cdf(args.damaged_ber) ** 2
    whiten, perm = msg._scramble(key, args.n_bits)
    damaged: dict[str, int] = {}
    d_read = d_wrong = 0
    for _ in range(args.damaged):
        data = rng.bytes(msg.capacity(args.n_bits, "M"))
        bits = msg.encode_message(data, args.n_bits, "M")
        sent = {e: msg._Reader(bits[perm] ^ whiten, np.ones(args.n_bits), e, args.n_bits).received
                for e in msg.ECC_LEVELS}
        p = 1.0 / (1.0 + np.exp(-((2.0 * bits - 1.0) * mu + rng.normal(0.0, np.sqrt(2.0 * mu), bits.shape))))
        d = msg.decode_message(p)
        d_read += d is not None and d.message == data
        d_wrong += d is not None and d.message != data
        damaged = {k: damaged.get(k, 0) + v for k, v in attempts(p, key, sent).items()}
    out = {
        "n_bits": args.n_bits, "chase_bits": msg.CHASE_BITS,
        "levels": {e: vars(msg._layout(args.n_bits, e)) for e in msg.ECC_LEVELS},
        "trials": args.trials, "false_positives": images_hit,
        "timed_images": len(times), "timed_false_positives": decoded,
        "ms_per_image": round(1e3 * float(np.mean(times)), 2),
        "ms_per_image_max": round(1e3 * float(np.max(times)), 2),
        "bound_per_image": msg.false_positive_bound(args.n_bits),
        "attempts_per_image": len(msg.ECC_LEVELS) * 2**msg.CHASE_BITS,
        "bch_decodes_per_image": total["bch"] / args.trials,
        "bch_decodes_per_image_predicted": predicted_bch_hits(args.n_bits),
        "distinct_codewords_per_image": total["bch_distinct"] / args.trials,
        "header_pass": total["header"], "header_pass_distinct": total["header_distinct"],
        "header_pass_share_distinct": total["header_distinct"] / max(total["bch_distinct"], 1),
        "header_pass_share_predicted": 1 / 64 * (1 / 2 + 1 / 2 / 255),
        "all_checks_pass": total["full"],
        "damaged_images": args.damaged, "damaged_ber": args.damaged_ber, "damaged_read": d_read,
        "damaged_read_wrong": d_wrong,
        "damaged_wrong_codewords_per_image": damaged["bch"] / max(args.damaged, 1),
        "damaged_wrong_codewords_distinct_per_image": damaged["bch_distinct"] / max(args.damaged, 1),
        "damaged_wrong_codewords_header_pass": damaged["header"],
        "damaged_wrong_codewords_header_pass_distinct": damaged["header_distinct"],
        "damaged_wrong_codewords_all_checks_pass": damaged["full"],
        "damaged_sent_word_at_other_levels_per_image": damaged["cross"] / max(args.damaged, 1),
        "damaged_sent_word_at_other_levels_header_pass": damaged["cross_header"],
        "seed": args.seed, "seconds": round(time.perf_counter() - t0, 1),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
