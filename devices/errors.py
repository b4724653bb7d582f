"""Typed device errors; each maps to one message the resident or clerk can act on."""

from __future__ import annotations

from typing import Any


class DeviceError(Exception):
    """Base of device errors. Like ``kiosk.errors.UserFacingError`` it carries a catalog
    key and parameters, never personal data (devices/ does not depend on kiosk/)."""

    message_key = "device_error"

    def __init__(self, **params: Any) -> None:
        self.params = params
        super().__init__(self.message_key)

    def __str__(self) -> str:
        return f"{type(self).__name__}({self.message_key})"


# --- card reader -----------------------------------------------------------------------


class CardError(DeviceError):
    message_key = "card_error"


class NoReader(CardError):
    message_key = "no_reader"


class NoCard(CardError):
    message_key = "place_card"


class NotMyNumberCard(CardError):
    message_key = "not_mynumber"


class WrongPin(CardError):
    message_key = "wrong_pin"

    def __init__(self, tries_left: int) -> None:
        super().__init__(n=tries_left)
        self.tries_left = tries_left


class LastTryNotConfirmed(CardError):
    """One try is left and the resident has not confirmed spending it: no PIN was sent."""

    message_key = "last_try"

    def __init__(self) -> None:
        super().__init__()
        self.tries_left = 1


class PinLocked(CardError):
    message_key = "locked"


class CardRemoved(CardError):
    """The card left the reader during the read; a PIN try may have been used."""

    message_key = "removed"


class CardRemovedAfterVerify(CardRemoved):
    """The card left after the PIN was sent: the try may have been counted."""

    message_key = "removed_try_used"


class ReaderError(CardError):
    message_key = "reader_error"


# --- printer ---------------------------------------------------------------------------


class PrinterError(DeviceError):
    message_key = "printer_error"


class PrinterOffline(PrinterError):
    message_key = "printer_offline"


class PrinterOutOfPaper(PrinterError):
    message_key = "printer_out_of_paper"


class PrinterStopped(PrinterError):
    """The queue is stopped or refuses jobs (e.g. ``cupsdisable``, a failed backend)."""

    message_key = "printer_stopped"


class PrintOutcomeUnknown(PrinterError):
    """The spooler may have accepted the job although the hand-over failed: it is never
    sent again without a clerk's decision."""

    message_key = "print_outcome_unknown"


# --- payment ---------------------------------------------------------------------------


class PaymentError(DeviceError):
    message_key = "payment_error"


class PaymentUnavailable(PaymentError):
    message_key = "payment_unavailable"


class PaymentRejected(PaymentError):
    """The provider refused the request (e.g. a repeated key with a different amount)."""

    message_key = "payment_rejected"


class RefundNotSupported(PaymentError):
    """This provider cannot give money back: the clerk refunds by hand."""

    message_key = "refund_manual"


class PaymentCredentialMissing(PaymentError):
    """No API key for the provider in the OS keyring (or no usable keyring): fail closed."""

    message_key = "payment_credential_missing"
