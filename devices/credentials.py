"""Provider credentials from the OS keyring (Windows Credential Manager, macOS Keychain,
Secret Service). Never from the config file or the environment; fail closed when there
is no usable keyring or no key (KEY-01)."""

from __future__ import annotations

from collections.abc import Callable

import keyring
import keyring.errors

from devices.errors import PaymentCredentialMissing

SERVICE = "kakanai-kiosk"

#: backends that would store nothing or store in plain text
_UNSAFE_BACKENDS = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


def _entry(provider: str) -> str:
    return f"payment:{provider}"


def _usable_backend() -> bool:
    backend = keyring.get_keyring()
    module = type(backend).__module__
    return not module.startswith(_UNSAFE_BACKENDS)


def store_api_key(provider: str, api_key: str) -> None:
    if not _usable_backend():
        raise PaymentCredentialMissing()
    keyring.set_password(SERVICE, _entry(provider), api_key)


def api_key_from_keyring(provider: str) -> Callable[[], str]:
    """A callable that reads the key when a request is made (a rotated key needs no
    restart); raises PaymentCredentialMissing if it cannot."""

    def read() -> str:
        if not _usable_backend():
            raise PaymentCredentialMissing()
        try:
            secret = keyring.get_password(SERVICE, _entry(provider))
        except keyring.errors.KeyringError:
            raise PaymentCredentialMissing() from None
        if not secret:
            raise PaymentCredentialMissing()
        return secret

    return read
