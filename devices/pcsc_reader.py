"""The real card reader: the 券面事項入力補助AP over PC/SC with pyscard.

Rules the code keeps (handbook mynumber-card.md §2, §4, §9):
- A card is judged by behaviour, never by its ATR: one that refuses SELECT of the AP is
  "not a My Number card".
- The remaining tries are read with the empty VERIFY, which costs no try, in the same
  connection right before every VERIFY; a blocked PIN is never sent, and the last try is
  sent only when the resident confirmed it.
- Exactly one VERIFY per call; never retried. Any communication failure during a session
  ends the session as "card removed / communication error", never as a wrong PIN.
- Each read ends with a disconnect that unpowers the card, so the verified state cannot
  outlive the read.
- The PIN exists only while its APDU is built; traces mask VERIFY data and never contain
  file contents.

pyscard is imported lazily, so a machine without it can still run the simulated set-up.
All calls of one reader object must come from one thread (the card lane).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from devices.card import CardData, ReaderState
from devices.errors import (
    CardRemoved,
    CardRemovedAfterVerify,
    LastTryNotConfirmed,
    NoCard,
    NoReader,
    NotMyNumberCard,
    PinLocked,
    ReaderError,
    WrongPin,
)
from devices.mynumber import apdu
from devices.mynumber.records import (
    CardDataError,
    parse_basic_four,
    parse_my_number,
    tlv_total_length,
)

log = logging.getLogger(__name__)

SFI_PIN = 0x11
SFI_MY_NUMBER = 0x01
SFI_BASIC_FOUR = 0x02
#: the whole read, from connect to disconnect
DEFAULT_DEADLINE_S = 10.0


class Connection(Protocol):
    """One open card connection (pyscard's, or a scripted one in tests)."""

    def transmit(self, command: bytes) -> tuple[bytes, int]:
        """Send one APDU; return (response data, SW1SW2). Raises CardRemoved/ReaderError."""
        ...

    def close(self) -> None:
        """Disconnect and unpower the card."""
        ...


class Backend(Protocol):
    def readers(self) -> list[str]:
        """Names of the connected readers; raises NoReader when PC/SC is not running."""
        ...

    def card_present(self, reader: str) -> bool: ...

    def connect(self, reader: str) -> Connection:
        """Raises NoCard when no card is on the reader."""
        ...


@dataclass
class ReadStats:
    """What the last read cost, for the benchmark and the tests."""

    apdus: int = 0
    used_sfi_verify: bool = False
    used_sfi_read: bool = False
    commands: list[str] = field(default_factory=list)  # masked traces


class _Session:
    def __init__(self, conn: Connection, deadline: float, stats: ReadStats) -> None:
        self.conn = conn
        self.deadline = deadline
        self.stats = stats
        self.pin_sent = False
        #: the card refused READ BINARY by short EF id once: do not ask again this session
        self.sfi_read_refused = False

    def send(self, command: bytes) -> tuple[bytes, int]:
        if time.monotonic() > self.deadline:
            raise ReaderError()
        self.stats.apdus += 1
        self.stats.commands.append(apdu.masked(command))
        carries_pin = len(command) > 5 and command[1] == 0x20
        try:
            data, sw = self.conn.transmit(command)
        except CardRemoved:
            if self.pin_sent or carries_pin:
                raise CardRemovedAfterVerify() from None
            raise
        if carries_pin:
            self.pin_sent = True
        log.debug("APDU %s -> %04X", apdu.masked(command), sw)
        if time.monotonic() > self.deadline:
            raise ReaderError()  # too slow: the answer is not trusted for a resident
        return data, sw

    def select_app(self) -> None:
        _, sw = self.send(apdu.select_df())
        if sw == 0x6F00:  # some cards answer the first command after power-up so
            _, sw = self.send(apdu.select_df())
        if sw == apdu.SW_NOT_FOUND:
            raise NotMyNumberCard()
        if sw != apdu.SW_OK:
            raise ReaderError()

    def tries(self) -> tuple[int, bool]:
        """Remaining PIN tries from the empty VERIFY; and whether the card took the short-EF
        form (P2 = 0x91), learnt here at no cost, so the VERIFY itself can use it."""
        _, sw = self.send(apdu.verify_query(SFI_PIN))
        if apdu.is_tries_status(sw):
            return apdu.tries_of(sw), True
        if sw in (apdu.SW_BLOCKED, apdu.SW_AUTH_BLOCKED):
            return 0, True
        # the card did not take the short-EF form: select the PIN file and ask again
        self.select_ef(apdu.FID_PIN)
        _, sw = self.send(apdu.verify_query())
        if apdu.is_tries_status(sw):
            return apdu.tries_of(sw), False
        if sw in (apdu.SW_BLOCKED, apdu.SW_AUTH_BLOCKED):
            return 0, False
        raise ReaderError()

    def select_ef(self, fid: int) -> None:
        _, sw = self.send(apdu.select_ef(fid))
        if sw != apdu.SW_OK:
            raise ReaderError()

    def verify(self, pin: str, sfi: bool) -> None:
        _, sw = self.send(apdu.verify(pin, SFI_PIN if sfi else None))
        if sw == apdu.SW_OK:
            return
        if apdu.is_tries_status(sw):
            raise WrongPin(apdu.tries_of(sw))  # 0: this wrong PIN locked the card
        if sw in (apdu.SW_BLOCKED, apdu.SW_AUTH_BLOCKED):
            raise PinLocked()
        raise ReaderError()

    def read_file(self, fid: int, sfi: int, *, fixed_size: int | None = None) -> bytes:
        """The file's first TLV, whole: short-EF READ BINARY where the card takes it (it
        saves a SELECT), SELECT + READ BINARY otherwise and for offsets past 255."""
        first_le = fixed_size or 256
        selected = False
        if self.sfi_read_refused:
            data, sw = b"", 0x6A86
        else:
            data, sw = self.send(apdu.read_binary_sfi(sfi, 0, first_le))
        if sw != apdu.SW_OK:
            if sw == apdu.SW_SECURITY:
                raise ReaderError()
            self.sfi_read_refused = True
            self.select_ef(fid)
            selected = True
            data, sw = self.send(apdu.read_binary(0, first_le))
            if sw != apdu.SW_OK:
                raise ReaderError()
        else:
            self.stats.used_sfi_read = True
        buf = bytearray(data)
        total = _total(buf)
        while total is None or len(buf) < total:
            want = 256 if total is None else min(256, total - len(buf))
            if len(buf) <= 0xFF and not selected:
                chunk, sw = self.send(apdu.read_binary_sfi(sfi, len(buf), want))
            else:
                if not selected:
                    self.select_ef(fid)
                    selected = True
                chunk, sw = self.send(apdu.read_binary(len(buf), want))
            if sw != apdu.SW_OK or not chunk:
                raise ReaderError()  # the file ends before its TLV does
            buf.extend(chunk)
            total = _total(buf)
        return bytes(buf[:total])


#: no file of this application is near this size; a larger declared length is a broken card
MAX_FILE_BYTES = 4096


def _total(buf: bytearray) -> int | None:
    try:
        total = tlv_total_length(bytes(buf))
    except CardDataError:
        raise ReaderError() from None
    if total is not None and total > MAX_FILE_BYTES:
        raise ReaderError()
    return total


class PcscCardReader:
    """``CardReader`` over PC/SC. ``reader_name`` None: the first reader holding a card."""

    name = "pcsc"

    def __init__(
        self,
        reader_name: str | None = None,
        *,
        backend: Backend | None = None,
        deadline_s: float = DEFAULT_DEADLINE_S,
    ) -> None:
        self.reader_name = reader_name
        self._backend_given = backend
        self._backend_made: Backend | None = None
        self._deadline_s = deadline_s
        self._thread: int | None = None
        self.last_stats = ReadStats()

    @property
    def _backend(self) -> Backend:
        if self._backend_given is not None:
            return self._backend_given
        if self._backend_made is None:
            self._backend_made = PyscardBackend()
        return self._backend_made

    def _check_thread(self) -> None:
        ident = threading.get_ident()
        if self._thread is None:
            self._thread = ident
        assert self._thread == ident, "card I/O must stay on one thread"

    # --- CardReader ----------------------------------------------------------------------
    def state(self) -> ReaderState:
        self._check_thread()
        try:
            names = self._candidates()
        except NoReader:
            return ReaderState(False, False)
        if not names:
            return ReaderState(False, False)
        present = any(self._backend.card_present(n) for n in names)
        return ReaderState(True, present)

    def pin_tries_left(self) -> int:
        def run(s: _Session) -> int:
            s.select_app()
            return s.tries()[0]

        result: int = self._session(run)
        return result

    def read(self, pin: str, *, include_my_number: bool, allow_last_try: bool = False) -> CardData:
        if not apdu.PIN_PATTERN.fullmatch(pin):
            raise ValueError("the PIN must be exactly 4 digits")

        def run(s: _Session) -> CardData:
            s.select_app()
            tries, sfi = s.tries()
            if tries <= 0:
                raise PinLocked()  # never send a PIN to a blocked card
            if tries == 1 and not allow_last_try:
                raise LastTryNotConfirmed()
            s.stats.used_sfi_verify = sfi
            s.verify(pin, sfi)
            try:
                four = parse_basic_four(s.read_file(apdu.FID_BASIC_FOUR, SFI_BASIC_FOUR))
                number = (
                    parse_my_number(s.read_file(apdu.FID_MY_NUMBER, SFI_MY_NUMBER, fixed_size=17))
                    if include_my_number
                    else None
                )
            except CardDataError as exc:
                log.warning("card data rejected: %s", exc)  # the message names no values
                raise ReaderError() from None
            return CardData(four.name, four.address, four.birth_date, four.sex, number)

        data: CardData = self._session(run)
        return data

    def close(self) -> None:
        pass

    def reader_names(self) -> list[str]:
        self._check_thread()
        return self._candidates()

    def holding_readers(self) -> list[str]:
        """The readers (among the candidates) that hold a card now."""
        self._check_thread()
        return [n for n in self._candidates() if self._backend.card_present(n)]

    # --- sessions ------------------------------------------------------------------------
    def _candidates(self) -> list[str]:
        names = self._backend.readers()
        if self.reader_name is not None:
            return [n for n in names if n == self.reader_name]
        return names

    def _session(self, body: Callable[[_Session], Any]) -> Any:
        self._check_thread()
        names = self._candidates()
        if not names:
            raise NoReader()
        holding = [n for n in names if self._backend.card_present(n)]
        if not holding:
            raise NoCard()
        conn = self._backend.connect(holding[0])
        stats = ReadStats()
        self.last_stats = stats
        try:
            return body(_Session(conn, time.monotonic() + self._deadline_s, stats))
        finally:
            try:
                conn.close()  # unpower: the verified state must not outlive the read
            except (CardRemoved, ReaderError):
                pass


# --- pyscard -------------------------------------------------------------------------


class PyscardBackend:
    """PC/SC through pyscard. A PC/SC context is kept and renewed when pcscd restarted."""

    def __init__(self) -> None:
        try:
            from smartcard import scard
        except ImportError as exc:  # pyscard missing: the reader is unavailable
            raise NoReader() from exc
        self._scard = scard
        self._context: Any = None

    def _ctx(self) -> Any:
        s = self._scard
        if self._context is not None:
            if s.SCardIsValidContext(self._context) == s.SCARD_S_SUCCESS:
                return self._context
            s.SCardReleaseContext(self._context)
            self._context = None
        hresult, context = s.SCardEstablishContext(s.SCARD_SCOPE_USER)
        if hresult != s.SCARD_S_SUCCESS:
            raise NoReader()
        self._context = context
        return context

    def _retrying(self, call: Callable[[Any], tuple[int, Any]]) -> tuple[int, Any]:
        """One retry with a fresh context: after a pcscd restart the old one is dead."""
        s = self._scard
        hresult, value = call(self._ctx())
        if hresult in (s.SCARD_E_NO_SERVICE, s.SCARD_E_INVALID_HANDLE, s.SCARD_E_SERVICE_STOPPED):
            self._drop_context()
            hresult, value = call(self._ctx())
        return hresult, value

    def _drop_context(self) -> None:
        if self._context is not None:
            self._scard.SCardReleaseContext(self._context)
        self._context = None

    def readers(self) -> list[str]:
        s = self._scard
        hresult, names = self._retrying(lambda ctx: s.SCardListReaders(ctx, []))
        if hresult == s.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if hresult != s.SCARD_S_SUCCESS:
            self._drop_context()
            raise NoReader()
        return list(names)

    def card_present(self, reader: str) -> bool:
        s = self._scard
        hresult, states = self._retrying(
            lambda ctx: s.SCardGetStatusChange(ctx, 0, [(reader, s.SCARD_STATE_UNAWARE)])
        )
        if hresult not in (s.SCARD_S_SUCCESS, s.SCARD_E_TIMEOUT) or not states:
            return False
        return bool(states[0][1] & s.SCARD_STATE_PRESENT)

    def connect(self, reader: str) -> Connection:
        s = self._scard
        # right after a card arrives pcscd may still be powering it: wait a moment
        settling = (s.SCARD_W_UNPOWERED_CARD, s.SCARD_W_UNRESPONSIVE_CARD, s.SCARD_W_RESET_CARD)
        for _ in range(20):
            hresult, card, protocol = s.SCardConnect(
                self._ctx(),
                reader,
                s.SCARD_SHARE_EXCLUSIVE,  # no other process may use the verified state
                s.SCARD_PROTOCOL_T0 | s.SCARD_PROTOCOL_T1,
            )
            if hresult not in settling:
                break
            time.sleep(0.05)
        if hresult in (s.SCARD_E_NO_SMARTCARD, s.SCARD_W_REMOVED_CARD):
            raise NoCard()
        if hresult in (
            s.SCARD_E_NO_SERVICE,
            s.SCARD_E_UNKNOWN_READER,
            s.SCARD_E_READER_UNAVAILABLE,
        ):
            self._drop_context()
            raise NoReader()
        if hresult != s.SCARD_S_SUCCESS:
            log.warning("SCardConnect failed: %08X", hresult & 0xFFFFFFFF)
            raise ReaderError()
        return _PyscardConnection(s, card, protocol)


class _PyscardConnection:
    def __init__(self, scard: Any, card: Any, protocol: int) -> None:
        self._s = scard
        self._card = card
        self._protocol = protocol

    def transmit(self, command: bytes) -> tuple[bytes, int]:
        s = self._s
        hresult, response = s.SCardTransmit(self._card, self._protocol, list(command))
        if hresult in (s.SCARD_W_REMOVED_CARD, s.SCARD_E_NO_SMARTCARD, s.SCARD_W_RESET_CARD):
            raise CardRemoved()
        if hresult != s.SCARD_S_SUCCESS:
            raise CardRemoved()  # any failure mid-session: the read is over, never a wrong PIN
        if len(response) < 2:  # vpcd answers an emptied card with nothing
            raise CardRemoved()
        return bytes(response[:-2]), (response[-2] << 8) | response[-1]

    def close(self) -> None:
        self._s.SCardDisconnect(self._card, self._s.SCARD_UNPOWER_CARD)
