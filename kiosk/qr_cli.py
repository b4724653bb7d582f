"""`python main.py qr decode|encode`: EMV payment codes from the command line, without a
database.

`qr decode PAYLOAD [--tolerant] [--jpqr] [--json]` exits 0 when the payload is valid
(strict) or acceptable (tolerant), 1 otherwise; PAYLOAD "-" reads it from stdin.
`qr encode --amount YEN --reference REF [--config FILE] [--png OUT.png]` prints a JPQR
payload for the merchant in FILE (TOML or JSON), by default the demo merchant, which is
not payable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from devices.emv.decode import DecodedPayload, decode
from devices.emv.errors import EmvError
from devices.emv.jpqr import build_jpqr_payload, validate_jpqr
from devices.emv.merchant import DEMO_MERCHANT, MerchantConfigError, load_merchant_config
from devices.emv.qr_image import make_payment_qr

EXIT_OK, EXIT_INVALID = 0, 1


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    qr = sub.add_parser("qr", help="decode or build EMV (JPQR) payment QR payloads")
    qsub = qr.add_subparsers(dest="qr_command", required=True)
    dec = qsub.add_parser("decode", help="decode and check a payload")
    dec.add_argument("payload", help='the payload text, or "-" to read it from stdin')
    dec.add_argument(
        "--tolerant",
        action="store_true",
        help="accept codes found in the wild: rule breaks become warnings",
    )
    dec.add_argument("--jpqr", action="store_true", help="also check the JPQR profile")
    dec.add_argument("--json", action="store_true", help="print JSON")
    enc = qsub.add_parser("encode", help="build a dynamic JPQR payload for one payment")
    enc.add_argument("--amount", type=int, required=True, metavar="YEN")
    enc.add_argument("--reference", required=True, metavar="REF", help="goes to 62/05")
    enc.add_argument("--config", type=Path, metavar="FILE", help="merchant settings (TOML/JSON)")
    enc.add_argument("--png", type=Path, metavar="OUT.png", help="also write the QR image")


def run(args: argparse.Namespace) -> int:
    if args.qr_command == "decode":
        return _decode(args)
    return _encode(args)


def _decode(args: argparse.Namespace) -> int:
    payload: str = sys.stdin.read().strip("\r\n") if args.payload == "-" else args.payload
    try:
        decoded = decode(payload, tolerant=args.tolerant)
        if args.jpqr:
            validate_jpqr(decoded)
    except EmvError as exc:
        sys.stderr.write(f"QRコードの内容が規則に合いません / invalid payload: {exc}\n")
        if args.json:
            print(json.dumps({"error": exc.issue.as_json()}, ensure_ascii=False))
        return EXIT_INVALID
    if args.json:
        out: dict[str, Any] = decoded.tags()
        if args.tolerant:
            out["warnings"] = [w.as_json() for w in decoded.warnings]
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        _print_tree(decoded)
    return EXIT_OK


def _print_tree(decoded: DecodedPayload) -> None:
    def walk(tags: dict[str, Any], indent: str) -> None:
        for tag, value in tags.items():
            if isinstance(value, dict):
                print(f"{indent}{tag}")
                walk(value, indent + "  ")
            else:
                print(f"{indent}{tag} {value}")

    walk(decoded.tags(), "")
    for warning in decoded.warnings:
        print(f"warning: {warning}")


def _encode(args: argparse.Namespace) -> int:
    try:
        merchant = load_merchant_config(args.config) if args.config else DEMO_MERCHANT
        payload = build_jpqr_payload(merchant, amount_yen=args.amount, reference=args.reference)
    except (MerchantConfigError, EmvError) as exc:
        sys.stderr.write(f"支払いコードを作れません / cannot build the payment code: {exc}\n")
        return EXIT_INVALID
    if merchant.is_demo:
        sys.stderr.write(
            "デモ用の加盟店です。このコードでは支払いできません / "
            "demo merchant: this code is NOT payable\n"
        )
    if args.png:
        args.png.write_bytes(make_payment_qr(payload).png)
    print(payload)
    return EXIT_OK
