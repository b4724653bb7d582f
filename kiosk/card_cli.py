"""`python main.py card read|status|emulate`: the PC/SC card path from the command line.

Exit status of `card read`: 0 read; 2 usage (a PIN that is not 4 digits is refused here and
never sent); 3 wrong PIN; 4 PIN locked (no PIN sent); 5 no PC/SC service, no reader or no
card; 6 not a My Number card; 7 card removed or communication error; 8 one try left and
--confirm-last-try not given (no PIN sent).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from devices.card import CardData
from devices.errors import (
    CardError,
    CardRemoved,
    LastTryNotConfirmed,
    NoCard,
    NoReader,
    NotMyNumberCard,
    PinLocked,
    ReaderError,
    WrongPin,
)
from devices.mynumber.apdu import PIN_PATTERN
from kiosk.i18n import tr

EXIT_OK, EXIT_USAGE, EXIT_WRONG_PIN, EXIT_LOCKED = 0, 2, 3, 4
EXIT_NO_CARD, EXIT_NOT_MY_NUMBER, EXIT_COMMUNICATION, EXIT_LAST_TRY = 5, 6, 7, 8

_EXIT_OF: tuple[tuple[type[CardError], int], ...] = (
    (WrongPin, EXIT_WRONG_PIN),
    (PinLocked, EXIT_LOCKED),
    (LastTryNotConfirmed, EXIT_LAST_TRY),
    (NoReader, EXIT_NO_CARD),
    (NoCard, EXIT_NO_CARD),
    (NotMyNumberCard, EXIT_NOT_MY_NUMBER),
    (CardRemoved, EXIT_COMMUNICATION),
    (ReaderError, EXIT_COMMUNICATION),
)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    card = sub.add_parser("card", help="read a My Number card over PC/SC, or emulate one")
    csub = card.add_subparsers(dest="card_command", required=True)
    read = csub.add_parser("read", help="read the card (asks for the 4-digit PIN)")
    read.add_argument("--reader", help="reader name (default: the first one holding a card)")
    read.add_argument("--with-number", action="store_true", help="also read the My Number")
    read.add_argument("--pin-stdin", action="store_true", help="read the PIN from stdin")
    read.add_argument(
        "--confirm-last-try",
        action="store_true",
        help="allow sending the PIN when only one try is left",
    )
    read.add_argument("--json", action="store_true", help="print JSON")
    status = csub.add_parser("status", help="reader, card and remaining tries (costs no try)")
    status.add_argument("--reader")
    status.add_argument("--json", action="store_true")
    emulate = csub.add_parser("emulate", help="serve a virtual card to vpcd (tests, demos)")
    emulate.add_argument("--profile", type=Path, required=True, help="resident profile JSON")
    emulate.add_argument("--host", default="127.0.0.1")
    emulate.add_argument("--port", type=int, default=35963)


def _fail(exc: CardError) -> int:
    text = tr(exc.message_key, "ja", **exc.params)
    english = tr(exc.message_key, "en", **exc.params)
    sys.stderr.write(f"{text}\n{english}\n")
    for kind, code in _EXIT_OF:
        if isinstance(exc, kind):
            return code
    return EXIT_COMMUNICATION


def _birth(date: str) -> str:
    return f"{date[:4]}-{date[4:6]}-{date[6:8]}"


def card_json(data: CardData, with_number: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": data.name,
        "address": data.address,
        "birth_date": _birth(data.birth_date),
        "sex": data.sex,
    }
    if with_number:
        out["my_number"] = data.my_number
    return out


def _ask_pin(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return getpass.getpass("暗証番号（4桁） / PIN (4 digits): ")


def read_card(args: argparse.Namespace) -> int:
    from devices.pcsc_reader import PcscCardReader

    reader = PcscCardReader(args.reader)
    try:
        tries = reader.pin_tries_left()
        if tries <= 0:
            raise PinLocked()
        if tries == 1 and not args.confirm_last_try:
            raise LastTryNotConfirmed()
        pin = _ask_pin(args.pin_stdin)
        if not PIN_PATTERN.fullmatch(pin):
            sys.stderr.write("暗証番号は数字4けたです / the PIN must be exactly 4 digits\n")
            return EXIT_USAGE
        data = reader.read(
            pin, include_my_number=args.with_number, allow_last_try=args.confirm_last_try
        )
        del pin
    except CardError as exc:
        return _fail(exc)
    out = card_json(data, args.with_number)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        for key, value in out.items():
            print(f"{key}: {value}")
    return EXIT_OK


def card_status(args: argparse.Namespace) -> int:
    from devices.pcsc_reader import PcscCardReader

    reader = PcscCardReader(args.reader)
    out: dict[str, Any] = {"reader": None, "card_present": False, "pin_tries_left": None}
    code = EXIT_OK
    try:
        names = reader.holding_readers() or reader.reader_names()
        out["reader"] = names[0] if names else None
        if not names:
            raise NoReader()
        out["card_present"] = bool(reader.holding_readers())
        if out["card_present"]:
            out["pin_tries_left"] = reader.pin_tries_left()
    except CardError as exc:
        code = _fail(exc)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        for key, value in out.items():
            print(f"{key}: {value}")
    return code


def emulate(args: argparse.Namespace) -> int:
    from devices.mynumber.emulator import ProfileError
    from devices.mynumber.vpcd import serve

    try:
        serve(args.profile, host=args.host, port=args.port)
    except (ProfileError, OSError) as exc:
        sys.stderr.write(f"profile: {exc}\n")
        return EXIT_USAGE
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    commands = {"read": read_card, "status": card_status, "emulate": emulate}
    return commands[args.card_command](args)
