"""Build the configured device adapters by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from devices.card import CardReader
from devices.card_simulated import SimulatedCardReader, demo_card
from devices.payment import PaymentProvider
from devices.payment_simulated import SimulatedPaymentProvider
from devices.printer import Printer
from devices.printer_folder import FolderPrinter, SimulatedPrinter


@dataclass
class Devices:
    card_reader: CardReader
    printer: Printer
    payment: PaymentProvider

    def close(self) -> None:
        self.card_reader.close()


_T = TypeVar("_T")


class UnknownAdapter(ValueError):
    pass


def _pcsc_reader() -> CardReader:
    from devices.pcsc_reader import PcscCardReader  # pyscard only when PC/SC is chosen

    return PcscCardReader()


CARD_READERS: dict[str, Callable[[], CardReader]] = {
    "simulated": lambda: SimulatedCardReader(demo_card()),
    "pcsc": _pcsc_reader,
}
PRINTERS: dict[str, Callable[[Path], Printer]] = {
    "simulated": SimulatedPrinter,
    "folder": FolderPrinter,
}


def _pick(table: dict[str, _T], name: str, role: str) -> _T:
    try:
        return table[name]
    except KeyError:
        known = ", ".join(sorted(table))
        raise UnknownAdapter(f"unknown {role} adapter {name!r}; known: {known}") from None


def build_devices(
    *, card_reader: str, printer: str, payment: str, print_dir: Path, payment_delay_s: float
) -> Devices:
    providers: dict[str, Callable[[], PaymentProvider]] = {
        "simulated": lambda: SimulatedPaymentProvider(delay_s=payment_delay_s),
    }
    return Devices(
        card_reader=_pick(CARD_READERS, card_reader, "card reader")(),
        printer=_pick(PRINTERS, printer, "printer")(print_dir),
        payment=_pick(providers, payment, "payment")(),
    )
