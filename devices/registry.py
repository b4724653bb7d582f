"""Build the configured device adapters by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from devices.card import CardReader
from devices.card_simulated import SimulatedCardReader, demo_card
from devices.payment import PaymentProvider
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
        self.payment.close()


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


@dataclass(frozen=True)
class PaymentConfig:
    """What the payment adapters need from the settings (no credentials: those come
    from the OS keyring)."""

    name: str = "simulated"
    #: the simulated provider pays this many seconds after the order (None: never)
    simulated_delay_s: float | None = 4.0
    qr_ttl_s: float = 300.0
    url: str = ""
    timeout_s: float = 3.0
    jpqr_merchant_id: str = ""
    jpqr_merchant_name: str = ""
    jpqr_merchant_city: str = ""
    jpqr_postal_code: str = ""
    log_dir: Path | None = None


def _simulated_service(config: PaymentConfig) -> PaymentProvider:
    """The simulated provider as a separate HTTP service on loopback, reached through the
    same HTTP adapter a real provider uses; stopped when the devices close."""
    from devices.payment_http import HttpPaymentProvider
    from devices.payment_sim_process import SimServerProcess

    log_file = config.log_dir / "payment-sim.log" if config.log_dir else None
    server = SimServerProcess(
        delay_s=config.simulated_delay_s, ttl_s=config.qr_ttl_s, log_file=log_file
    ).start()
    key = server.api_key  # a one-run key made for the child; a real provider's is in the keyring
    return HttpPaymentProvider(
        server.url, lambda: key, name="simulated", timeout_s=config.timeout_s, on_close=server.stop
    )


def _http_provider(config: PaymentConfig) -> PaymentProvider:
    from devices.credentials import api_key_from_keyring
    from devices.payment_http import HttpPaymentProvider

    if not config.url:
        raise UnknownAdapter("payment = 'http' needs payment_url")
    return HttpPaymentProvider(
        config.url, api_key_from_keyring("http"), name="http", timeout_s=config.timeout_s
    )


def _local_jpqr(config: PaymentConfig) -> PaymentProvider:
    from devices.payment_local_jpqr import LocalJpqrProvider

    return LocalJpqrProvider(
        merchant_id=config.jpqr_merchant_id,
        merchant_name=config.jpqr_merchant_name,
        merchant_city=config.jpqr_merchant_city,
        postal_code=config.jpqr_postal_code,
        ttl_s=config.qr_ttl_s,
    )


PAYMENT_PROVIDERS: dict[str, Callable[[PaymentConfig], PaymentProvider]] = {
    "simulated": _simulated_service,
    "http": _http_provider,
    "local_jpqr": _local_jpqr,
}


def build_devices(
    *, card_reader: str, printer: str, payment: PaymentConfig, printer_options: PrinterOptions
) -> Devices:
    reader = _pick(CARD_READERS, card_reader, "card reader")()
    made_printer = _pick(PRINTERS, printer, "printer")(printer_options)
    try:
        provider = _pick(PAYMENT_PROVIDERS, payment.name, "payment")(payment)
    except BaseException:
        reader.close()
        raise
    return Devices(card_reader=reader, printer=made_printer, payment=provider)
