"""Payment QR throughput: payload encode (JPQR, checked by the strict decoder), strict
decode, and PNG symbol generation (qrcode for the ASCII payload, segno with ECI 26 for
one with template 64 in Japanese)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def _per_second(work: Callable[[int], object], count: int, rounds: int = 3) -> float:
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        for i in range(count):
            work(i)
        rates.append(count / (time.perf_counter() - start))
    return round(statistics.median(rates), 1)


def bench_qr(count: int) -> dict[str, Any]:
    from devices.emv.decode import decode
    from devices.emv.jpqr import build_jpqr_payload
    from devices.emv.merchant import DEMO_MERCHANT, MerchantConfig
    from devices.emv.qr_image import make_payment_qr

    japanese = MerchantConfig(language_template=True, name_ja="松浦市役所 市民課")
    ascii_payload = build_jpqr_payload(DEMO_MERCHANT, amount_yen=300, reference="R06-0001")
    ja_payload = build_jpqr_payload(japanese, amount_yen=300, reference="R06-0001")
    ascii_symbol = make_payment_qr(ascii_payload)
    ja_symbol = make_payment_qr(ja_payload)
    return {
        "payload_encode_per_s": _per_second(
            lambda i: build_jpqr_payload(DEMO_MERCHANT, amount_yen=300 + i, reference=f"R{i}"),
            count * 10,
        ),
        "payload_decode_strict_per_s": _per_second(lambda _: decode(ascii_payload), count * 10),
        "qr_png_qrcode_ascii_per_s": _per_second(lambda _: make_payment_qr(ascii_payload), count),
        "qr_png_segno_eci_per_s": _per_second(lambda _: make_payment_qr(ja_payload), count),
        "payload_chars": {"ascii": len(ascii_payload), "with_template_64": len(ja_payload)},
        "symbol_version": {"ascii": ascii_symbol.version, "with_template_64": ja_symbol.version},
        "png_scale_px_per_module": 8,
        "iterations": count,
    }


if __name__ == "__main__":  # python -m bench.qr: these figures alone
    import json
    import os

    print(json.dumps(bench_qr(int(os.environ.get("BENCH_QR_RUNS", "100"))), indent=2))
