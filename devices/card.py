"""The card-reader interface: what the resident flow needs from a My Number card."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class CardData:
    """基本4情報 (and the My Number only when a form's business needs it).

    ``birth_date`` is ``YYYYMMDD``; month or day may be ``00`` for a foreign resident
    whose date is partly unknown. ``sex`` is the card's code: 1 male, 2 female, 9 n/a.
    """

    name: str
    address: str
    birth_date: str
    sex: str
    my_number: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:  # never print personal data, even in a traceback
        return "CardData(<redacted>)"


@dataclass(frozen=True)
class ReaderState:
    reader_present: bool
    card_present: bool


class CardReader(Protocol):
    """Blocking calls, made only from the card reader's own worker thread."""

    name: str

    def state(self) -> ReaderState:
        """Whether a reader is connected and a card is on it (never touches the PIN)."""
        ...

    def pin_tries_left(self) -> int:
        """Remaining PIN tries, read without consuming one.

        Raises NoReader, NoCard, NotMyNumberCard, CardRemoved or ReaderError.
        """
        ...

    def read(self, pin: str, *, include_my_number: bool, allow_last_try: bool = False) -> CardData:
        """Read the remaining tries, then exactly one VERIFY with ``pin``, then the files.
        Never retries. With one try left, no PIN is sent unless ``allow_last_try``.

        Raises WrongPin(tries_left), PinLocked, LastTryNotConfirmed, CardRemoved,
        NotMyNumberCard, NoCard, NoReader or ReaderError.
        """
        ...

    def close(self) -> None: ...
