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


@dataclass(frozen=True)
class PrinterOptions:
    #: where the folder and simulated printers write (demo and tests only)
    print_dir: Path
    #: the CUPS queue or Qt printer name; empty = the system's default printer
    queue: str = ""
    #: CUPS server "host:port"; empty = libcups' default (CUPS_SERVER, client.conf, socket)
    cups_server: str = ""


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


def _cups_printer(options: PrinterOptions) -> Printer:
    from devices.printer_cups import CupsPrinter  # pycups only when CUPS is chosen

    return CupsPrinter(options.queue, options.cups_server)


PRINTERS: dict[str, Callable[[PrinterOptions], Printer]] = {
    "simulated": lambda options: SimulatedPrinter(options.print_dir),
    "folder": lambda options: FolderPrinter(options.print_dir),
    "cups": _cups_printer,
    # "qt" is added by ui/printer_qt.register(): Qt printing needs the window app
}


def register_printer(name: str, factory: Callable[[PrinterOptions], Printer]) -> None:
    """For adapters outside devices/ (the Qt printer lives in ui/, the only Qt side)."""
    PRINTERS[name] = factory


def _pick(table: dict[str, _T], name: str, role: str) -> _T:
    try:
        return table[name]
    except KeyError:
        known = ", ".join(sorted(table))
        raise UnknownAdapter(f"unknown {role} adapter {name!r}; known: {known}") from None


def build_devices(
    *,
    card_reader: str,
    printer: str,
    payment: str,
    printer_options: PrinterOptions,
    payment_delay_s: float,
) -> Devices:
    providers: dict[str, Callable[[], PaymentProvider]] = {
        "simulated": lambda: SimulatedPaymentProvider(delay_s=payment_delay_s),
    }
    return Devices(
        card_reader=_pick(CARD_READERS, card_reader, "card reader")(),
        printer=_pick(PRINTERS, printer, "printer")(printer_options),
        payment=_pick(providers, payment, "payment")(),
    )
