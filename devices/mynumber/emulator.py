"""A virtual My Number card: the 券面事項入力補助AP only (handbook mynumber-card.md §8).

``VirtualCard.process`` answers command APDUs the way the card does, from a ``CardProfile``
(the resident's data, PIN and retry counter, kept as JSON). The vpcd transport that puts it
behind the real pcscd is ``devices.mynumber.vpcd``.

Persistent state is the PIN retry counter (``CardProfile.pin_tries_left``, reported through
``on_counter_change`` every time it changes); volatile state (current DF/EF, verified PIN) is
cleared by power off/on, reset and by selecting the DF again.

The command log (``commands``) holds ``(ins, p1, p2, data_length)`` only, never the PIN:
``data_length`` is Lc (for a malformed APDU: the length of everything after the header), and
an APDU shorter than a header is logged with -1 for the missing bytes.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from devices.mynumber.apdu import (
    AID_TEXT,
    FID_BASIC_FOUR,
    FID_MY_NUMBER,
    FID_PIN,
    SW_BLOCKED,
    SW_CHANNEL_NOT_SUPPORTED,
    SW_CLA_NOT_SUPPORTED,
    SW_END_OF_FILE,
    SW_INS_NOT_SUPPORTED,
    SW_NO_CURRENT_EF,
    SW_NOT_FOUND,
    SW_OK,
    SW_SECURITY,
    SW_WRONG_LENGTH,
    SW_WRONG_P1P2,
)
from devices.mynumber.files import (
    basic_four_offsets,
    encode_basic_four,
    encode_my_number,
    is_valid_my_number,
    offset_table_position,
)

#: contact ATR of the card (T=1 only, no historical bytes), handbook §6.1
ATR = bytes.fromhex("3BE000FF8131FE4514")
PIN_MAX_TRIES = 3
#: physical size of EF 0002 when the TLV fits (the rest is FF filler)
DEFAULT_BASIC_FOUR_SIZE = 256

SW_KEY_NOT_FOUND = 0x6A88  # VERIFY naming an EF that is not a key

INS_SELECT = 0xA4
INS_VERIFY = 0x20
INS_READ_BINARY = 0xB0
INS_COMPUTE_SIGNATURE = 0x2A  # the one proprietary (CLA 80) command of this AP; not emulated

_PIN_RE = re.compile(r"^[0-9]{4}$")
_DATE_RE = re.compile(r"^[0-9]{8}$")
_SEXES = ("1", "2", "9")


class ProfileError(ValueError):
    """A card profile file that cannot be used; the message names the file and the field."""


@dataclass
class CardProfile:
    """The resident on the virtual card. JSON keys are exactly the field names."""

    name: str
    address: str
    birth_date: str  # YYYYMMDD, Gregorian
    sex: str  # "1" male, "2" female, "9" not applicable
    my_number: str = field(repr=False)  # 12 digits with a valid check digit
    pin: str = field(repr=False)  # 4 digits
    pin_tries_left: int = PIN_MAX_TRIES
    long_length_form: bool = False  # EF 0002 outer length as 82 hh ll

    def validate(self) -> None:
        """Raise ProfileError naming the first bad field."""
        for key in ("name", "address", "birth_date", "sex", "my_number", "pin"):
            if not isinstance(getattr(self, key), str):
                raise ProfileError(f"{key}: must be a string")
        if not self.name.strip():
            raise ProfileError("name: must not be empty")
        if not self.address.strip():
            raise ProfileError("address: must not be empty")
        if not _DATE_RE.match(self.birth_date):
            raise ProfileError("birth_date: must be 8 digits YYYYMMDD")
        if self.sex not in _SEXES:
            raise ProfileError('sex: must be "1", "2" or "9"')
        if not re.fullmatch(r"[0-9]{12}", self.my_number):
            raise ProfileError("my_number: must be 12 digits")
        if not is_valid_my_number(self.my_number):
            raise ProfileError("my_number: the check digit (12th digit) is wrong")
        if not _PIN_RE.match(self.pin):
            raise ProfileError("pin: must be exactly 4 digits")
        tries = self.pin_tries_left
        if isinstance(tries, bool) or not isinstance(tries, int):
            raise ProfileError("pin_tries_left: must be an integer")
        if not 0 <= tries <= PIN_MAX_TRIES:
            raise ProfileError(f"pin_tries_left: must be 0..{PIN_MAX_TRIES}")
        if not isinstance(self.long_length_form, bool):
            raise ProfileError("long_length_form: must be true or false")
        try:
            encode_basic_four(self.name, self.address, self.birth_date, self.sex)
        except ValueError as exc:
            raise ProfileError(f"name/address: {exc}") from None

    @classmethod
    def from_dict(cls, raw: Any) -> CardProfile:
        if not isinstance(raw, dict):
            raise ProfileError("the profile must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ProfileError(f"unknown keys: {', '.join(unknown)}")
        required = ("name", "address", "birth_date", "sex", "my_number", "pin")
        missing = [k for k in required if k not in raw]
        if missing:
            raise ProfileError(f"missing keys: {', '.join(missing)}")
        profile = cls(**raw)
        profile.validate()
        return profile

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def load(cls, path: Path | str) -> CardProfile:
        path = Path(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ProfileError(f"{path}: cannot read: {exc.strerror or exc}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProfileError(f"{path}: not valid JSON: {exc}") from None
        try:
            return cls.from_dict(raw)
        except ProfileError as exc:
            raise ProfileError(f"{path}: {exc}") from None

    def save(self, path: Path | str) -> None:
        """Atomic: written to a temporary file in the same folder, then renamed over."""
        path = Path(path)
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@dataclass
class Faults:
    """Misbehaviour for tests. APDU indices are 1-based and count every APDU the vpcd server
    received (over all connections); control codes are not counted."""

    #: the card leaves at this APDU: no answer, connection closed, no reconnect until insert()
    remove_at_apdu: int | None = None
    #: seconds to sleep before answering each APDU
    delay_s: float = 0.0
    #: EF 0002 with a wrong DF21 offset table (each offset one too far)
    malformed_basic_four: bool = False
    #: close the connection at this APDU (no answer) and reconnect at once (re-inserted card)
    drop_connection_at: int | None = None


@dataclass
class _Command:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None  # None: no Le field; 256 / 65536 for 00 / 00 00
    malformed: bool = False
    body_length: int = field(default=0)


def _parse(apdu: bytes) -> _Command:
    """Split a command APDU into its cases 1-4, short or extended (ISO 7816-3 §12.1)."""
    cla, ins, p1, p2 = apdu[0], apdu[1], apdu[2], apdu[3]
    body = apdu[4:]
    cmd = _Command(cla, ins, p1, p2, body_length=len(body))
    n = len(body)
    if n == 0:
        return cmd
    if n == 1:
        cmd.le = body[0] or 256
        return cmd
    if body[0] != 0:
        lc = body[0]
        if n == 1 + lc:
            cmd.data = body[1:]
        elif n == 2 + lc:
            cmd.data = body[1:-1]
            cmd.le = body[-1] or 256
        else:
            cmd.malformed = True
        return cmd
    if n == 3:
        cmd.le = int.from_bytes(body[1:3], "big") or 65536
        return cmd
    lc = int.from_bytes(body[1:3], "big") if n >= 3 else 0
    if lc == 0:
        cmd.malformed = True
    elif n == 3 + lc:
        cmd.data = body[3:]
    elif n == 5 + lc:
        cmd.data = body[3:-2]
        cmd.le = int.from_bytes(body[-2:], "big") or 65536
    else:
        cmd.malformed = True
    return cmd


def _sw(sw: int) -> bytes:
    return sw.to_bytes(2, "big")


def _tries_sw(tries: int) -> bytes:
    return bytes([0x63, 0xC0 | tries])


class VirtualCard:
    """The card logic. Thread-safe (one lock around every entry point).

    ``profile`` is used and updated in place: ``profile.pin_tries_left`` is the retry
    counter; ``on_counter_change(tries)`` is called after every change of it.
    """

    def __init__(
        self,
        profile: CardProfile,
        *,
        on_counter_change: Callable[[int], None] | None = None,
        faults: Faults | None = None,
        basic_four_size: int | None = DEFAULT_BASIC_FOUR_SIZE,
        atr: bytes = ATR,
    ) -> None:
        self.profile = profile
        self.on_counter_change = on_counter_change
        self.faults = faults or Faults()
        self._atr = bytes(atr)
        self._lock = threading.RLock()
        self.apdu_count = 0
        self.commands: list[tuple[int, int, int, int]] = []
        self.powered = False
        self._df: bytes | None = None
        self._ef: int | None = None
        self._verified = False
        basic_four = encode_basic_four(
            profile.name,
            profile.address,
            profile.birth_date,
            profile.sex,
            long_length_form=profile.long_length_form,
        )
        size = None if basic_four_size is None else max(basic_four_size, len(basic_four))
        basic_four = encode_basic_four(
            profile.name,
            profile.address,
            profile.birth_date,
            profile.sex,
            long_length_form=profile.long_length_form,
            size=size,
        )
        if self.faults.malformed_basic_four:
            basic_four = _wrong_offsets(basic_four)
        self.files: dict[int, bytes] = {
            FID_MY_NUMBER: encode_my_number(profile.my_number),
            FID_BASIC_FOUR: basic_four,
        }

    # --- state ---------------------------------------------------------------------------
    @property
    def atr(self) -> bytes:
        return self._atr

    @property
    def pin_tries_left(self) -> int:
        return self.profile.pin_tries_left

    @property
    def verified(self) -> bool:
        return self._verified

    @property
    def current_df(self) -> bytes | None:
        return self._df

    @property
    def current_ef(self) -> int | None:
        return self._ef

    def power_off(self) -> None:
        with self._lock:
            self.powered = False
            self._clear_session()

    def power_on(self) -> None:
        with self._lock:
            self.powered = True
            self._clear_session()

    def reset(self) -> None:
        """Warm reset: volatile state goes, the retry counter stays."""
        with self._lock:
            self.powered = True
            self._clear_session()

    def _clear_session(self) -> None:
        self._df = None
        self._ef = None
        self._verified = False

    def _set_tries(self, tries: int) -> None:
        if tries == self.profile.pin_tries_left:
            return
        self.profile.pin_tries_left = tries
        if self.on_counter_change is not None:
            self.on_counter_change(tries)

    # --- APDUs ---------------------------------------------------------------------------
    def process(self, apdu: bytes) -> bytes:
        """One command APDU → response data + SW1 SW2."""
        with self._lock:
            self.apdu_count += 1
            if len(apdu) < 4:
                self.commands.append((apdu[1] if len(apdu) > 1 else -1, -1, -1, 0))
                return _sw(SW_WRONG_LENGTH)
            cmd = _parse(apdu)
            data_length = cmd.body_length if cmd.malformed else len(cmd.data)
            self.commands.append((cmd.ins, cmd.p1, cmd.p2, data_length))
            return self._dispatch(cmd)

    def _dispatch(self, cmd: _Command) -> bytes:
        cla = cmd.cla
        if cla & 0x80 == 0:
            # interindustry: b7 set = further interindustry class, channels 4..19
            if cla & 0x40 or cla & 0x03:
                return _sw(SW_CHANNEL_NOT_SUPPORTED)
            if cla != 0x00:
                return _sw(SW_CLA_NOT_SUPPORTED)  # secure messaging, command chaining
        elif cla == 0x80 and cmd.ins == INS_COMPUTE_SIGNATURE:
            return _sw(SW_INS_NOT_SUPPORTED)
        else:
            return _sw(SW_CLA_NOT_SUPPORTED)
        handler = {
            INS_SELECT: self._select,
            INS_VERIFY: self._verify,
            INS_READ_BINARY: self._read_binary,
        }.get(cmd.ins)
        if handler is None:
            return _sw(SW_INS_NOT_SUPPORTED)
        if cmd.malformed:
            return _sw(SW_WRONG_LENGTH)
        return handler(cmd)

    def _select(self, cmd: _Command) -> bytes:
        if cmd.p1 == 0x04 and cmd.p2 == 0x0C:
            if not cmd.data:
                return _sw(SW_WRONG_LENGTH)
            if cmd.data != AID_TEXT:
                return _sw(SW_NOT_FOUND)
            self._df = AID_TEXT
            self._ef = None
            self._verified = False
            return _sw(SW_OK)
        if cmd.p1 == 0x02 and cmd.p2 == 0x0C:
            if len(cmd.data) != 2:
                return _sw(SW_WRONG_LENGTH)
            fid = int.from_bytes(cmd.data, "big")
            if self._df != AID_TEXT or fid not in (FID_MY_NUMBER, FID_BASIC_FOUR, FID_PIN):
                return _sw(SW_NOT_FOUND)
            self._ef = fid
            return _sw(SW_OK)
        return _sw(SW_WRONG_P1P2)

    def _verify(self, cmd: _Command) -> bytes:
        if cmd.p1 != 0x00 or not cmd.p2 & 0x80 or cmd.p2 & 0x60:
            return _sw(SW_WRONG_P1P2)
        if cmd.le is not None:
            return _sw(SW_WRONG_LENGTH)
        sfi = cmd.p2 & 0x1F
        if sfi == 0:
            if self._ef is None:
                return _sw(SW_NO_CURRENT_EF)
            key = self._ef
        else:
            key = sfi
        if self._df != AID_TEXT or key != FID_PIN:
            return _sw(SW_KEY_NOT_FOUND)
        tries = self.profile.pin_tries_left
        if not cmd.data:
            return _tries_sw(tries)  # the query costs no try
        if tries <= 0:
            return _sw(SW_BLOCKED)
        if cmd.data == self.profile.pin.encode("ascii"):
            self._set_tries(PIN_MAX_TRIES)
            self._verified = True
            return _sw(SW_OK)
        # wrong PIN, whatever its length (the real card's answer to a bad length is unknown)
        self._verified = False
        self._set_tries(tries - 1)
        return _tries_sw(tries - 1)

    def _read_binary(self, cmd: _Command) -> bytes:
        if cmd.le is None or cmd.data:
            return _sw(SW_WRONG_LENGTH)
        if cmd.p1 & 0x80:
            if cmd.p1 & 0x60:
                return _sw(SW_WRONG_P1P2)
            fid = cmd.p1 & 0x1F
            offset = cmd.p2
            if self._df != AID_TEXT or fid not in (FID_MY_NUMBER, FID_BASIC_FOUR, FID_PIN):
                return _sw(SW_NOT_FOUND)
            self._ef = fid  # a short-EF READ BINARY selects the EF (ISO 7816-4)
        else:
            if self._ef is None:
                return _sw(SW_NO_CURRENT_EF)
            fid = self._ef
            offset = (cmd.p1 << 8) | cmd.p2
        content = self.files.get(fid)
        if content is None or not self._verified:
            return _sw(SW_SECURITY)  # the PIN EF is never readable
        if offset >= len(content):
            return _sw(SW_END_OF_FILE)
        return content[offset : offset + cmd.le] + _sw(SW_OK)


def _wrong_offsets(data: bytes) -> bytes:
    """The same EF 0002 with every DF21 offset pointing one byte past its TLV."""
    offsets = basic_four_offsets(data)
    table = b"".join((o + 1).to_bytes(2, "big") for o in offsets)
    at = offset_table_position(data)
    return data[:at] + table + data[at + 8 :]


def demo_profile() -> dict[str, Any]:
    """The demo resident of the simulated reader, as a virtual-card profile (PIN 1234)."""
    from devices.card_simulated import demo_card

    card = demo_card()
    return {
        "name": card.data.name,
        "address": card.data.address,
        "birth_date": card.data.birth_date,
        "sex": card.data.sex,
        "my_number": card.data.my_number,
        "pin": card.pin,
        "pin_tries_left": card.tries_left,
        "long_length_form": False,
    }
