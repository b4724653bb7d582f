"""The PC/SC adapter's logic against the virtual card, through a scripted backend (no
pcscd): the APDU sequence, PIN safety, chunked reads, removal at every APDU."""

from __future__ import annotations

import pytest

from devices.errors import (
    CardRemoved,
    LastTryNotConfirmed,
    NoCard,
    NoReader,
    NotMyNumberCard,
    PinLocked,
    ReaderError,
    WrongPin,
)
from devices.mynumber.emulator import CardProfile, VirtualCard, demo_profile
from devices.pcsc_reader import PcscCardReader

PROFILE = demo_profile()


class ScriptedConnection:
    def __init__(self, backend: ScriptedBackend) -> None:
        self.backend = backend

    def transmit(self, command: bytes) -> tuple[bytes, int]:
        b = self.backend
        b.sent += 1
        if b.remove_at is not None and b.sent >= b.remove_at:
            b.card_on_reader = False
            raise CardRemoved()
        response = b.card.process(command)
        return response[:-2], (response[-2] << 8) | response[-1]

    def close(self) -> None:
        self.backend.card.power_off()
        self.backend.closed += 1


class ScriptedBackend:
    def __init__(self, card: VirtualCard | None) -> None:
        self.card = card or VirtualCard(CardProfile.from_dict(PROFILE))
        self.card_on_reader = True
        self.readers_connected = True
        self.sent = 0
        self.closed = 0
        self.remove_at: int | None = None

    def readers(self) -> list[str]:
        if not self.readers_connected:
            raise NoReader()
        return ["Scripted 00 00"]

    def card_present(self, reader: str) -> bool:
        return self.card_on_reader

    def connect(self, reader: str) -> ScriptedConnection:
        if not self.card_on_reader:
            raise NoCard()
        self.card.power_on()
        return ScriptedConnection(self)


def make(profile: dict[str, object] | None = None) -> tuple[PcscCardReader, ScriptedBackend]:
    card = VirtualCard(CardProfile.from_dict(profile or PROFILE))
    backend = ScriptedBackend(card)
    return PcscCardReader(backend=backend), backend


def verifies_with_data(card: VirtualCard) -> int:
    return sum(1 for ins, _p1, _p2, length in card.commands if ins == 0x20 and length)


def test_reads_the_basic_four_in_four_apdus_and_unpowers() -> None:
    reader, backend = make()
    data = reader.read("1234", include_my_number=False)
    assert (data.name, data.address, data.birth_date, data.sex) == (
        PROFILE["name"],
        PROFILE["address"],
        "19580412",
        "2",
    )
    assert data.my_number is None
    assert reader.last_stats.apdus == 4  # SELECT AP, empty VERIFY, VERIFY, READ (SFI)
    assert reader.last_stats.used_sfi_verify
    assert reader.last_stats.used_sfi_read
    assert backend.closed == 1
    assert not backend.card.verified  # the verified state did not outlive the read


def test_the_number_only_when_asked_and_long_length_form() -> None:
    reader, _ = make({**PROFILE, "long_length_form": True})
    data = reader.read("1234", include_my_number=True)
    assert data.my_number == "123456789018"
    assert reader.last_stats.apdus == 5


def test_traces_mask_the_pin() -> None:
    reader, _ = make()
    reader.read("1234", include_my_number=False)
    trace = " ".join(reader.last_stats.commands)
    assert "31 32 33 34" not in trace
    assert "00 20 00 91 04 ** ** ** **" in trace


def test_wrong_pin_costs_exactly_one_try_and_is_not_retried() -> None:
    reader, backend = make()
    with pytest.raises(WrongPin) as info:
        reader.read("0000", include_my_number=False)
    assert info.value.tries_left == 2
    assert backend.card.pin_tries_left == 2
    assert verifies_with_data(backend.card) == 1


def test_last_try_needs_confirmation_and_locked_sends_nothing() -> None:
    reader, backend = make({**PROFILE, "pin_tries_left": 1})
    assert reader.pin_tries_left() == 1
    with pytest.raises(LastTryNotConfirmed):
        reader.read("1234", include_my_number=False)
    assert verifies_with_data(backend.card) == 0
    assert reader.read("1234", include_my_number=False, allow_last_try=True).sex == "2"

    reader, backend = make({**PROFILE, "pin_tries_left": 0})
    assert reader.pin_tries_left() == 0
    with pytest.raises(PinLocked):
        reader.read("1234", include_my_number=False, allow_last_try=True)
    assert verifies_with_data(backend.card) == 0


def test_a_card_without_the_application_is_not_a_my_number_card() -> None:
    reader, backend = make()
    backend.card.process = lambda command: bytes([0x6A, 0x82])  # type: ignore[method-assign]
    with pytest.raises(NotMyNumberCard):
        reader.pin_tries_left()


def test_no_reader_and_no_card() -> None:
    reader, backend = make()
    backend.card_on_reader = False
    with pytest.raises(NoCard):
        reader.pin_tries_left()
    assert reader.state().card_present is False
    backend.readers_connected = False
    with pytest.raises(NoReader):
        reader.pin_tries_left()
    assert reader.state().reader_present is False


def test_a_long_address_is_read_in_chunks_past_the_short_ef_limit() -> None:
    reader, _ = make({**PROFILE, "address": "長崎県松浦市" + "志佐町" * 60})
    data = reader.read("1234", include_my_number=False)
    assert data.address.endswith("志佐町")
    assert reader.last_stats.apdus > 4


def test_malformed_files_are_a_reader_error_without_values() -> None:
    reader, backend = make()
    backend.card.files[0x0002] = b"\xff\x20\x03\xdf\x21\x01" + b"\xff" * 250
    with pytest.raises(ReaderError):
        reader.read("1234", include_my_number=False)


@pytest.mark.parametrize("index", range(1, 6))
def test_removal_at_every_apdu_gives_a_clean_error_and_the_next_read_works(index: int) -> None:
    reader, backend = make()
    backend.remove_at = index
    with pytest.raises(CardRemoved):
        reader.read("1234", include_my_number=True)
    assert backend.closed == 1
    backend.remove_at = None
    backend.card_on_reader = True
    tries = backend.card.pin_tries_left
    assert tries >= 2  # at most the one VERIFY in flight was spent
    data = reader.read("1234", include_my_number=True)
    assert data.my_number == "123456789018"


def test_the_pin_is_checked_before_anything_is_sent() -> None:
    reader, backend = make()
    with pytest.raises(ValueError, match="4 digits"):
        reader.read("12345", include_my_number=False)
    assert backend.sent == 0


def test_the_wrong_pin_that_uses_the_last_try_is_a_wrong_pin() -> None:
    reader, backend = make({**PROFILE, "pin_tries_left": 1})
    with pytest.raises(WrongPin) as info:
        reader.read("0000", include_my_number=False, allow_last_try=True)
    assert info.value.tries_left == 0
    with pytest.raises(PinLocked):
        reader.read("1234", include_my_number=False, allow_last_try=True)
    assert verifies_with_data(backend.card) == 1


def test_a_pin_with_a_trailing_newline_is_refused() -> None:
    reader, backend = make()
    with pytest.raises(ValueError, match="4 digits"):
        reader.read("1234\n", include_my_number=False)
    assert backend.sent == 0


def test_only_file_not_found_means_not_a_my_number_card() -> None:
    reader, backend = make()
    real = backend.card.process
    answers = iter([bytes([0x6F, 0x00])])  # the first command after power-up

    def first_fails(command: bytes) -> bytes:
        return next(answers, None) or real(command)

    backend.card.process = first_fails  # type: ignore[method-assign]
    assert reader.pin_tries_left() == 3
    backend.card.process = lambda command: bytes([0x6A, 0x86])  # type: ignore[method-assign]
    with pytest.raises(ReaderError):
        reader.pin_tries_left()


def test_removal_says_a_try_may_be_used_only_after_the_pin_was_sent() -> None:
    from devices.errors import CardRemovedAfterVerify

    reader, backend = make()
    backend.remove_at = 2  # during the empty VERIFY
    with pytest.raises(CardRemoved) as before:
        reader.read("1234", include_my_number=False)
    assert not isinstance(before.value, CardRemovedAfterVerify)
    backend.card_on_reader, backend.sent, backend.remove_at = True, 0, 3  # the VERIFY
    with pytest.raises(CardRemovedAfterVerify):
        reader.read("1234", include_my_number=False)
