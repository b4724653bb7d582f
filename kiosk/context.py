"""Wire settings, database, devices and services together: the app, the command-line
tools and the tests all start here, so every entry point creates and upgrades the database
and installs the shipped templates on first use."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from devices.registry import Devices, PaymentConfig, PrinterOptions, build_devices
from kiosk.admin_accounts import AdminAccounts
from kiosk.applications import ApplicationService
from kiosk.clock import Clock, SystemClock
from kiosk.config import Settings
from kiosk.errors import UserFacingError
from kiosk.fee_table import FeeTable
from kiosk.payment_service import PaymentService
from kiosk.print_service import PrintService
from kiosk.storage.db import Database
from kiosk.storage.migrate import upgrade
from kiosk.templates_repo import TemplateRepository, install_shipped

log = logging.getLogger(__name__)


#: a draft older than this belongs to no living resident session on any counter
STALE_DRAFT_S = 30 * 60


class DatabaseDamaged(UserFacingError):
    message_key = "db_damaged"


def open_database(settings: Settings, clock: Clock) -> Database:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.effective_database_url)
    if not db.quick_check():
        raise DatabaseDamaged()
    upgrade(db)
    install_shipped(db, clock)
    return db


def payment_config(settings: Settings) -> PaymentConfig:
    delay = settings.simulated_payment_delay_s
    return PaymentConfig(
        name=settings.payment,
        simulated_delay_s=None if delay < 0 else delay,
        qr_ttl_s=settings.payment_qr_ttl_s,
        url=settings.payment_url,
        timeout_s=settings.payment_timeout_s,
        jpqr_merchant_id=settings.jpqr_merchant_id,
        jpqr_merchant_name=settings.jpqr_merchant_name,
        jpqr_merchant_city=settings.jpqr_merchant_city,
        jpqr_postal_code=settings.jpqr_postal_code,
        log_dir=settings.data_dir / "logs",
    )


@dataclass
class AppContext:
    settings: Settings
    clock: Clock
    db: Database
    devices: Devices
    templates: TemplateRepository
    applications: ApplicationService
    printing: PrintService
    payments: PaymentService
    fees: FeeTable
    admins: AdminAccounts

    def close(self) -> None:
        self.devices.close()
        self.db.dispose()


def build_context(
    settings: Settings, *, clock: Clock | None = None, devices: Devices | None = None
) -> AppContext:
    clock = clock or SystemClock()
    db = open_database(settings, clock)
    devices = devices or build_devices(
        card_reader=settings.card_reader,
        printer=settings.printer,
        payment=payment_config(settings),
        printer_options=PrinterOptions(
            print_dir=settings.print_output_dir,
            queue=settings.printer_queue,
            cups_server=settings.cups_server,
        ),
    )
    templates = TemplateRepository(db)
    fees = FeeTable(db, clock, settings.fee_overrides)
    apps = ApplicationService(db, templates, clock, fees.current, settings.ticket_prefix)
    # drafts left behind by a crash hold personal values no clerk will see (REC-01)
    apps.abandon_stale_drafts(STALE_DRAFT_S)
    printing = PrintService(
        db, apps, devices.printer, clock, settings.addressee, settings.municipality
    )
    # a job this computer was handing to the spooler when it stopped: a clerk decides
    printing.recover_interrupted()
    return AppContext(
        settings=settings,
        clock=clock,
        db=db,
        devices=devices,
        templates=templates,
        applications=apps,
        printing=printing,
        payments=PaymentService(db, apps, devices.payment, clock),
        fees=fees,
        admins=AdminAccounts(db, clock),
    )
