"""The spread message codec as shipped (veil.payloads.message: BCH with Chase soft decoding) against a
Reed-Solomon codec with the same parity budget, on a simulated bit channel: does the binary code earn its place?

Channel: every bit independently, soft value p = sigmoid(llr) with llr ~ N(+-mu, 2 mu) (the consistent
Gaussian of a binary-input AWGN channel), mu chosen so that the hard decisions are wrong at the given raw bit
error rate: BER = Phi(-sqrt(mu / 2)). Both codecs see the same noise draw in each trial.

Codecs, at n_bits 256 and the same frame (the spread format's: 1 header byte + message + CRC-24, 16 message
bytes at ECC M and 22 at ECC L):
    bch_chase  the codec as shipped: decode_message (BCH over GF(2^8), t 12 at M; GF(2^9), t 5 at L; hard decisions
               at every level, then Chase over the 9 least reliable bits of each level's codeword)
    bch_hard   the same codec, hard decisions only (msg._decode(soft=False))
    rs_soft    Reed-Solomon over GF(2^8) in the same 32 bytes (12 parity bytes = 96 bits at M, 6 = 48 at L;
               reedsolo, primitive polynomial 0x11d, fcr 0): errors-only, then the e least reliable bytes as
               erasures (a byte's reliability: the smallest |p - 0.5| of its bits) for e = s, 2s, ... up to
               P - 2 (s = 2 ceil(P / 32)), only results within the decoding radius, the first with a matching CRC
               and header wins
    rs_hard    the same Reed-Solomon codec, errors-only
Success = exactly the hidden message (frame) comes back; "wrong" counts a different one accepted (must stay 0).

Needs reedsolo, which veil itself does not depend on: pip install reedsolo.
Run: .venv/bin/python scripts/ecc_compare.py [--trials 1500] -> results/ecc_compare.json (about 3 minutes).
"""
import argparse
import json
import sys
import time
from pathlib import Path
from statistics import NormalDist

import numpy as np
import reedsolo

from veil.payloads import message as msg

N_BITS = 256
BERS = [0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.10, 0.12]
RS_SHARE = {"L": 3 / 16, "M": 3 / 8}
CODECS = ["bch_chase", "bch_hard", "rs_soft", "rs_hard"]


def noise(ber: float, rng) -> tuple[float, np.ndarray]:
    """(mu, noise [N_BITS]) of the Gaussian LLR channel whose hard decisions err at rate ``ber``."""
    mu = 2.0 * NormalDist().inv_cdf(ber) ** 2
    return mu, rng.normal(0.0, np.sqrt(2.0 * mu), N_BITS)


def channel(bits: np.ndarray, mu: float, z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-((2.0 * bits - 1.0) * mu + z)))


class RsFrame:
    """The spread format's frame (header, message, CRC-24) under one Reed-Solomon block of N_BITS / 8 bytes."""

    def __init__(self, level: str):
        n = N_BITS // 8
        self.level, self.n = level, n
        self.parity = max(2, 2 * int(n * RS_SHARE[level] / 2 + 0.5))
        self.cap = n - 4 - self.parity
        assert self.cap == msg.capacity(N_BITS, level)
        self.rs = reedsolo.RSCodec(self.parity)
        step = 2 * -(-self.parity // 32)
        self.erasures = [0] + list(range(step, self.parity - 1, step))

    def encode(self, frame: bytes) -> np.ndarray:
        return np.unpackbits(np.frombuffer(bytes(self.rs.encode(frame)), np.uint8))

    def decode(self, probs: np.ndarray, soft: bool) -> bytes | None:
        received = np.packbits((probs > 0.5).astype(np.uint8))
        weakest = np.argsort(np.abs(probs - 0.5).reshape(self.n, 8).min(1), kind="stable")
        for e in self.erasures if soft else [0]:
            erased = sorted(weakest[:e].tolist())
            try:
                _, cw, _ = self.rs.decode(bytearray(received.tobytes()), erase_pos=erased or None)
            except reedsolo.ReedSolomonError:
                continue
            wrong = np.frombuffer(bytes(cw), np.uint8) != received
            wrong[erased] = False
            if 2 * int(wrong.sum()) + e > self.parity:    # reedsolo can answer beyond the radius: a guess
                continue
            frame = bytes(cw[:self.cap + 4])
            if msg._parse(frame, self.level, self.cap) is not None:
                return frame
        return None


def frame_of(data: bytes, level: str) -> bytes:
    """The spread format's frame for bytes that fill the level's capacity (no padding)."""
    header = (msg.FORMAT_VERSION << 5) | (1 << 4) | (1 << 3) | (msg.ECC_LEVELS[level].code << 1)
    body = bytes([header]) + data
    return body + msg.crc24(body).to_bytes(3, "big")


def run_level(level: str, trials: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    lay = msg._layout(N_BITS, level)
    rs = RsFrame(level)
    key = msg._key(None)
    rows = []
    for ber in BERS:
        ok = dict.fromkeys(CODECS, 0)
        wrong = dict.fromkeys(CODECS, 0)
        measured = 0
        seconds = 0.0
        for _ in range(trials):
            data = rng.bytes(lay.capacity)
            mu, z = noise(ber, rng)
            bits = msg.encode_message(data, N_BITS, level)
            p = channel(bits, mu, z)
            measured += int(((p > 0.5) != bits).sum())
            for name, soft in (("bch_chase", True), ("bch_hard", False)):
                t0 = time.perf_counter()
                d = msg._decode(p, key, soft=soft)
                seconds += (time.perf_counter() - t0) if soft else 0.0
                ok[name] += d is not None and d.message == data
                wrong[name] += d is not None and d.message != data
            frame = frame_of(data, level)
            q = channel(rs.encode(frame), mu, z)
            for name, soft in (("rs_soft", True), ("rs_hard", False)):
                got = rs.decode(q, soft)
                ok[name] += got == frame
                wrong[name] += got is not None and got != frame
        rows.append({"ber": ber, "measured_ber": measured / (trials * N_BITS),
                     **{k: ok[k] / trials for k in CODECS}, "wrong": wrong,
                     "bch_chase_ms_per_decode": round(1e3 * seconds / trials, 2)})
        print(f"  {level} ber {ber:5.3f}: " + "  ".join(f"{k} {ok[k] / trials:6.1%}" for k in CODECS), flush=True)
    return {"level": level, "payload_bytes": lay.capacity, "frame_bits": 8 * lay.frame_bytes,
            "bch": {"m": lay.m, "t": lay.t, "ecc_bits": lay.ecc_bits, "spare_bits": lay.spare,
                    "chase_bits": msg.CHASE_BITS},
            "rs": {"parity_bytes": rs.parity, "parity_bits": 8 * rs.parity, "erasure_counts": rs.erasures},
            "rows": rows}


def verdict(res: dict) -> dict:
    """The raw bit error rate where each codec first drops below 95%, and the shipped codec's lead over RS (in
    points) where RS with erasures first does."""
    first = {k: next((r["ber"] for r in res["rows"] if r[k] < 0.95), None) for k in CODECS}
    row = next((r for r in res["rows"] if r["rs_soft"] < 0.95), None)
    out = {"first_ber_below_95": first}
    if row is not None:
        out.update({"ber": row["ber"], **{k: row[k] for k in CODECS},
                    "bch_chase_lead_points": round(100 * (row["bch_chase"] - row["rs_soft"]), 1),
                    "bch_hard_lead_points": round(100 * (row["bch_hard"] - row["rs_soft"]), 1)})
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=1500, help="messages per level and bit error rate")
    p.add_argument("--levels", default="M,L")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="results/ecc_compare.json")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    levels = []
    for i, level in enumerate(args.levels.split(",")):
        res = run_level(level.strip().upper(), args.trials, args.seed + i)
        res["verdict"] = verdict(res)
        levels.append(res)
    out = {"n_bits": N_BITS, "trials": args.trials, "seed": args.seed,
           "channel": "llr ~ N(+-mu, 2 mu), p = sigmoid(llr), BER = Phi(-sqrt(mu/2)); one noise draw per trial, "
                      "shared by both codecs",
           "seconds": round(time.perf_counter() - t0, 1), "levels": levels}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    for res in levels:
        print(f"\nECC {res['level']}: {res['payload_bytes']} bytes, BCH t={res['bch']['t']} "
              f"({res['bch']['ecc_bits']} bits, Chase {res['bch']['chase_bits']}), "
              f"RS {res['rs']['parity_bytes']} parity bytes, {args.trials} trials per row")
        print("   BER    bch_chase  bch_hard  rs_soft  rs_hard")
        for r in res["rows"]:
            print(f"  {100 * r['ber']:4.1f}%  {r['bch_chase']:9.1%}  {r['bch_hard']:8.1%}  {r['rs_soft']:7.1%}  "
                  f"{r['rs_hard']:7.1%}")
        print(f"  verdict: {res['verdict']}")
    print(f"wrote {args.out} ({out['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
