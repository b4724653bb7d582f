"""An in-process My Number card on a simulated reader, for the demo and UI tests.

It keeps the card's rules — a retry counter that locks at zero, no automatic retry,
no tries spent by reading the counter — so the resident flow meets the same outcomes as
with a real card. The PC/SC adapter and the vpcd card emulator come with their own module.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from devices.card import CardData, ReaderState
from devices.errors import (
    CardRemovedAfterVerify,
    LastTryNotConfirmed,
    NoCard,
    NoReader,
    NotMyNumberCard,
    PinLocked,
    ReaderError,
    WrongPin,
)

PIN_TRIES = 3


@dataclass
class SimulatedCard:
    data: CardData
    pin: str
    tries_left: int = PIN_TRIES
    #: a card without the 券面事項入力補助AP (a bank card, an old 住基カード)
    is_my_number_card: bool = True


def demo_card() -> SimulatedCard:
    """The demo resident (fictional). PIN 1234. 髙 and 﨑 exercise the JIS X 0213 font."""
    return SimulatedCard(
        CardData(
            name="髙﨑　花子",
            address="長崎県松浦市志佐町里免３６５番地",
            birth_date="19580412",
            sex="2",
            my_number="123456789018",
        ),
        pin="1234",
    )


class SimulatedCardReader:
    name = "simulated"

    def __init__(self, card: SimulatedCard | None = None, *, connected: bool = True) -> None:
        self._lock = threading.Lock()
        self._card = card
        self.connected = connected
        #: fault injection: the card leaves the reader during the next read
        self.remove_during_next_read = False
        #: fault injection: the next command fails with a communication error
        self.fail_next = False
        #: fault injection: a slow card (seconds added to each read)
        self.read_delay_s = 0.0
        self.verify_count = 0

    # --- simulation controls (the demo's device panel and tests) ----------------------
    def insert(self, card: SimulatedCard) -> None:
        with self._lock:
            self._card = card

    def remove(self) -> None:
        with self._lock:
            self._card = None

    @property
    def card(self) -> SimulatedCard | None:
        return self._card

    # --- CardReader --------------------------------------------------------------------
    def state(self) -> ReaderState:
        with self._lock:
            return ReaderState(self.connected, self.connected and self._card is not None)

    def _present_card(self) -> SimulatedCard:
        if not self.connected:
            raise NoReader()
        if self._card is None:
            raise NoCard()
        if not self._card.is_my_number_card:
            raise NotMyNumberCard()
        if self.fail_next:
            self.fail_next = False
            raise ReaderError()
        return self._card

    def pin_tries_left(self) -> int:
        with self._lock:
            return self._present_card().tries_left

    def read(self, pin: str, *, include_my_number: bool, allow_last_try: bool = False) -> CardData:
        if self.read_delay_s:
            time.sleep(self.read_delay_s)
        with self._lock:
            card = self._present_card()
            if card.tries_left == 0:
                raise PinLocked()
            if card.tries_left == 1 and not allow_last_try:
                raise LastTryNotConfirmed()
            self.verify_count += 1
            if self.remove_during_next_read:
                self.remove_during_next_read = False
                self._card = None
                card.tries_left -= 1 if pin != card.pin else 0
                raise CardRemovedAfterVerify()  # the PIN had been sent
            if pin != card.pin:
                card.tries_left -= 1
                raise WrongPin(card.tries_left)  # 0: this one locked the card
            card.tries_left = PIN_TRIES
            data = card.data
            if include_my_number:
                return data
            return CardData(data.name, data.address, data.birth_date, data.sex, None)

    def close(self) -> None:
        pass
