"""Parsers of the 券面事項入力補助AP files (devices.mynumber.records; handbook
mynumber-card.md §3, §3.5, §10).

The sample files are the public JPKI *test* card vectors (synthetic holder data) of
soltia48/myna-card, as quoted in /work/shared/testdata/mynumber-card-public-vectors.json.
The variants are built here byte by byte, independently of devices.mynumber.files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from devices.mynumber.records import (
    BasicFour,
    CardDataError,
    parse_basic_four,
    parse_my_number,
    read_tlv,
    tlv_total_length,
    valid_my_number,
)

T = TypeVar("T")

from tests.helpers.card_vectors import (  # noqa: E402 - after the type variable
    ADDRESS,
    BASIC_FOUR_FILE,
    BIRTH,
    INVALID_NUMBERS,
    MY_NUMBER_FILE,
    NAME,
    NUMBER,
    SEX,
    VALID_NUMBERS,
)

#: strings no error message may contain (values and recognisable pieces of them)
SENSITIVE = [
    NUMBER,
    NUMBER[:4],
    NUMBER[-4:],
    NAME,
    "黒桐",
    "幹也",
    ADDRESS,
    "東京都",
    "清瀬",
    "観布子",
    "１２",
    BIRTH,
    "1980",
    "0217",
    NAME.encode().hex(),
    NAME.encode()[:3].hex(),
    NAME.encode()[:3].hex(" "),
    "e9bb",
    "E9BB",
    "E9 BB",
    "\\xe9",
]

SETTINGS = settings(
    max_examples=2000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- builders -----------------------------------------------------------------------------


def ber_length(n: int, form: str = "short") -> bytes:
    """``short`` (upgraded to 81/82 when needed), ``81`` or ``82``."""
    if form == "82" or n > 0xFF:
        return b"\x82" + n.to_bytes(2, "big")
    if form == "81" or n >= 0x80:
        return bytes([0x81, n])
    return bytes([n])


def tlv(tag: int, value: bytes, form: str = "short") -> bytes:
    return tag.to_bytes(2, "big") + ber_length(len(value), form) + value


def build_basic_four(
    name: bytes = NAME.encode(),
    address: bytes = ADDRESS.encode(),
    birth: bytes = BIRTH.encode(),
    sex: bytes = SEX.encode(),
    *,
    outer_form: str = "short",
    inner_form: str = "short",
    offsets: list[int] | None = None,
    fields: list[tuple[int, bytes]] | None = None,
) -> bytes:
    """An EF 0002 with a correct DF21 table unless ``offsets`` is given; ``fields`` replaces
    the DF22..DF25 list (to drop, repeat or add tags)."""
    if fields is None:
        fields = [(0xDF22, name), (0xDF23, address), (0xDF24, birth), (0xDF25, sex)]
    encoded = [tlv(tag, value, inner_form) for tag, value in fields]
    offsets_tlv_size = 2 + len(ber_length(8, inner_form)) + 8
    inner_size = offsets_tlv_size + sum(map(len, encoded))
    outer_header = b"\xff\x20" + ber_length(inner_size, outer_form)
    if offsets is None:
        offsets = []
        position = len(outer_header) + offsets_tlv_size
        for item in encoded:
            offsets.append(position)
            position += len(item)
    offsets = [*offsets, 0, 0, 0, 0][:4]
    table = b"".join(o.to_bytes(2, "big") for o in offsets)
    return outer_header + tlv(0xDF21, table, inner_form) + b"".join(encoded)


def assert_clean(exc: CardDataError, *extra: str) -> None:
    """The message names no value; no chained exception carries the raw bytes."""
    message = str(exc)
    assert message
    for value in [*SENSITIVE, *(e for e in extra if e)]:
        assert value not in message, (value, message)
    assert exc.__cause__ is None
    assert exc.__context__ is None
    assert len(exc.args) == 1


def expect_error(data: bytes, *extra: str) -> str:
    with pytest.raises(CardDataError) as info:
        parse_basic_four(data)
    assert type(info.value) is CardDataError
    assert_clean(info.value, *extra)
    return str(info.value)


# --- the public samples -------------------------------------------------------------------


def test_builder_reproduces_the_public_sample() -> None:
    assert build_basic_four() == BASIC_FOUR_FILE


def test_my_number_sample_decodes() -> None:
    assert parse_my_number(MY_NUMBER_FILE) == NUMBER
    assert parse_my_number(MY_NUMBER_FILE[:15]) == NUMBER  # without the FF FF filler
    assert parse_my_number(MY_NUMBER_FILE + b"\x00" * 40) == NUMBER


def test_basic_four_sample_decodes() -> None:
    four = parse_basic_four(BASIC_FOUR_FILE)
    assert four == BasicFour(
        name=NAME, address=ADDRESS, birth_date=BIRTH, sex=SEX, birth_date_partial=False
    )
    assert four.name == "黒桐　幹也"
    assert four.address == "東京都清瀬市観布子南１２－７－２０２"
    assert four.birth_date == "19800217"
    assert four.sex == "1"
    assert four.birth_date_partial is False


@pytest.mark.parametrize("filler", [b"", b"\xff" * 50, b"\x00" * 50, b"\xdf\x26\x01x"])
def test_bytes_after_the_outer_tlv_are_ignored(filler: bytes) -> None:
    assert parse_basic_four(BASIC_FOUR_FILE + filler) == parse_basic_four(BASIC_FOUR_FILE)


def test_repr_and_str_redact_everything() -> None:
    four = parse_basic_four(BASIC_FOUR_FILE)
    for text in (repr(four), str(four), f"{four}", f"{four!r}", repr([four])):
        assert "BasicFour(<redacted>)" in text
        for value in (NAME, "黒桐", ADDRESS, "東京都", BIRTH, "1980", "sex", "name"):
            assert value not in text


def test_long_outer_length_form_parses_the_same() -> None:
    reencoded = build_basic_four(outer_form="82")
    assert reencoded[:5] == bytes.fromhex("ff20820065")
    # the DF21 offsets move by the two extra header bytes
    assert reencoded[8:16] == bytes.fromhex("0010 0022 005b 0066")
    assert len(reencoded) == len(BASIC_FOUR_FILE) + 2
    assert parse_basic_four(reencoded) == parse_basic_four(BASIC_FOUR_FILE)
    assert parse_basic_four(reencoded + b"\xff" * 20) == parse_basic_four(BASIC_FOUR_FILE)


@pytest.mark.parametrize(("outer", "inner"), [("81", "short"), ("81", "81"), ("82", "82")])
def test_long_inner_length_forms_parse_the_same(outer: str, inner: str) -> None:
    data = build_basic_four(outer_form=outer, inner_form=inner)
    assert parse_basic_four(data) == parse_basic_four(BASIC_FOUR_FILE)


def test_long_fields_use_the_81_and_82_forms() -> None:
    name = "山" * 100  # 300 bytes: DF22 82 01 2C
    address = "あ" * 60  # 180 bytes: DF23 81 B4
    data = build_basic_four(name.encode(), address.encode())
    assert data[2] == 0x82
    four = parse_basic_four(data)
    assert (four.name, four.address) == (name, address)


# --- check digit --------------------------------------------------------------------------


@pytest.mark.parametrize("number", VALID_NUMBERS)
def test_valid_numbers(number: str) -> None:
    assert valid_my_number(number)


@pytest.mark.parametrize(
    "number",
    [
        *INVALID_NUMBERS,
        "",
        "53768667718",
        "5376866771880",
        "53768667718a",
        "５３７６８６６７７１８８",  # full-width digits are digits to str.isdigit
        "５37686677188",
        "٥37686677188",  # Arabic-Indic digit
        " 537686677188",
        "53768667718 ",
        "-53768667718",
    ],
)
def test_invalid_numbers(number: str) -> None:
    assert not valid_my_number(number)


@given(st.text(max_size=14))
@SETTINGS
def test_valid_my_number_never_raises(text: str) -> None:
    assert valid_my_number(text) in (True, False)


def test_every_check_digit_error_is_caught() -> None:
    for number in VALID_NUMBERS:
        for wrong in "0123456789":
            if wrong != number[-1]:
                assert not valid_my_number(number[:11] + wrong)


# --- EF 0001 malformations ----------------------------------------------------------------


def my_number_file(digits: bytes, tag: bytes = b"\xff\x10") -> bytes:
    return tag + ber_length(len(digits)) + digits + b"\xff\xff"


@pytest.mark.parametrize(
    "data",
    [
        my_number_file(b"537686677189"),  # bad check digit
        my_number_file(b"53768667718"),  # 11 digits
        my_number_file(b"5376866771880"),  # 13 digits
        my_number_file(b"53768667718a"),
        my_number_file(b"53768667718\x00"),
        my_number_file("５３７６８６６７７１８８".encode()),
        my_number_file(b"537686677188", tag=b"\xff\x11"),
        my_number_file(b"537686677188", tag=b"\xdf\x10"),
        b"\xff\x10\x80" + b"537686677188\x00\x00",  # indefinite length
        b"\xff\x10\x0d537686677188",  # length past the data
        b"",
        b"\xff",
        b"\xff\x10",
        MY_NUMBER_FILE[:14],
    ],
)
def test_my_number_malformations(data: bytes) -> None:
    with pytest.raises(CardDataError) as info:
        parse_my_number(data)
    assert_clean(info.value, "537686677189", "53768667718")


def test_my_number_truncations() -> None:
    for n in range(15):
        with pytest.raises(CardDataError) as info:
            parse_my_number(MY_NUMBER_FILE[:n])
        assert_clean(info.value)


def test_my_number_long_length_forms() -> None:
    assert parse_my_number(b"\xff\x10\x81\x0c537686677188") == NUMBER
    assert parse_my_number(b"\xff\x10\x82\x00\x0c537686677188\xff\xff") == NUMBER


# --- EF 0002: dates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "partial"),
    [
        ("19800217", False),
        ("19800000", True),
        ("19801100", True),
        ("19801200", True),
        ("20000229", False),
        ("18680101", False),
        ("21001231", False),
    ],
)
def test_birth_dates_kept_as_on_the_card(birth: str, partial: bool) -> None:
    four = parse_basic_four(build_basic_four(birth=birth.encode()))
    assert four.birth_date == birth
    assert four.birth_date_partial is partial


@pytest.mark.parametrize(
    "birth",
    [
        "19800017",  # day without month
        "19801300",
        "19801301",
        "19800230",
        "19000229",  # not a leap year
        "19800431",
        "19800132",
        "18671231",
        "21010101",
        "00000000",
        "1980021",
        "198002170",
        "1980021a",
        "1980-2-1",
        "１９８００２１７",
        "",
    ],
)
def test_bad_birth_dates(birth: str) -> None:
    message = expect_error(build_basic_four(birth=birth.encode()), birth)
    assert "DF24" in message


# --- EF 0002 malformations ----------------------------------------------------------------


@pytest.mark.parametrize("which", range(4))
def test_wrong_offsets(which: int) -> None:
    good = [14, 32, 89, 100]
    for delta in (-1, 1, 2, 0x100):
        offsets = list(good)
        offsets[which] += delta
        message = expect_error(build_basic_four(offsets=offsets))
        assert "DF21" in message


def test_offsets_pointing_into_the_sample_are_rejected() -> None:
    data = bytearray(BASIC_FOUR_FILE)
    data[9] = 0x0F  # DF22 offset 14 -> 15
    assert "DF21" in expect_error(bytes(data))


def test_df21_of_wrong_size() -> None:
    body = BASIC_FOUR_FILE[14:]
    for table in (b"\x00\x0e\x00\x20\x00\x59\x00", b"\x00\x0e\x00\x20\x00\x59\x00\x64\x00\x00"):
        inner = tlv(0xDF21, table) + body
        expect_error(b"\xff\x20" + ber_length(len(inner)) + inner)


def test_missing_sex() -> None:
    fields = [
        (0xDF22, NAME.encode()),
        (0xDF23, ADDRESS.encode()),
        (0xDF24, BIRTH.encode()),
    ]
    assert "DF25" in expect_error(build_basic_four(fields=fields))


@pytest.mark.parametrize("missing", [0xDF22, 0xDF23, 0xDF24])
def test_missing_other_fields(missing: int) -> None:
    fields = [
        (0xDF22, NAME.encode()),
        (0xDF23, ADDRESS.encode()),
        (0xDF24, BIRTH.encode()),
        (0xDF25, SEX.encode()),
    ]
    expect_error(build_basic_four(fields=[f for f in fields if f[0] != missing]))


def test_missing_df21() -> None:
    inner = BASIC_FOUR_FILE[14:]
    expect_error(b"\xff\x20" + ber_length(len(inner)) + inner)


@pytest.mark.parametrize(
    "fields",
    [
        # repeated
        [(0xDF22, b"a"), (0xDF22, b"a"), (0xDF23, b"b"), (0xDF24, b"19800217"), (0xDF25, b"1")],
        # out of order
        [(0xDF23, b"b"), (0xDF22, b"a"), (0xDF24, b"19800217"), (0xDF25, b"1")],
        [(0xDF22, b"a"), (0xDF23, b"b"), (0xDF25, b"1"), (0xDF24, b"19800217")],
        # unknown tag inside
        [(0xDF22, b"a"), (0xDF23, b"b"), (0xDF24, b"19800217"), (0xDF25, b"1"), (0xDF26, b"")],
        [(0xDF22, b"a"), (0xDF30, b"x"), (0xDF23, b"b"), (0xDF24, b"19800217"), (0xDF25, b"1")],
        [(0xDF22, b"a"), (0xDF23, b"b"), (0xDF24, b"19800217"), (0xDF25, b"1"), (0xDF25, b"1")],
    ],
)
def test_field_order_and_unknown_tags(fields: list[tuple[int, bytes]]) -> None:
    expect_error(build_basic_four(fields=fields))


def test_trailing_bytes_inside_ff20() -> None:
    inner = BASIC_FOUR_FILE[3:] + b"\x00"
    expect_error(b"\xff\x20" + ber_length(len(inner)) + inner)


@pytest.mark.parametrize("sex", [b"3", b"0", b"", b"11", b"\x01", b"\xff", "１".encode(), b"M"])
def test_bad_sex(sex: bytes) -> None:
    message = expect_error(build_basic_four(sex=sex))
    assert "DF25" in message
    if sex == b"3":
        assert "3" not in message.replace("DF23", "")


@pytest.mark.parametrize(
    "name",
    [
        NAME.encode()[:-1],  # cut inside the last character
        b"\xe9\xbb" + NAME.encode(),
        b"\xc0\xaf",  # overlong '/'
        b"\xed\xa0\x80",  # a surrogate
        b"\xf4\x90\x80\x80",  # beyond U+10FFFF
        NAME.encode() + b"\xff",
        NAME.encode("shift_jis"),
        NAME.encode("utf-16-be"),
    ],
)
def test_bad_utf8_in_name(name: bytes) -> None:
    assert "DF22" in expect_error(build_basic_four(name=name))


def test_bad_utf8_in_address() -> None:
    assert "DF23" in expect_error(build_basic_four(address=ADDRESS.encode()[:-2]))


@pytest.mark.parametrize(
    "bad",
    [
        "\u202e",
        "\u202a",
        "\u202b",
        "\u202c",
        "\u202d",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
        "\x00",
        "\n",
        "\r",
        "\t",
        "\x1b",
        "\x7f",
        "\x85",
        "\x9f",
    ],
)
@pytest.mark.parametrize("field", ["name", "address"])
def test_control_and_bidi_characters(bad: str, field: str) -> None:
    if field == "name":
        data = build_basic_four(name=("黒桐" + bad + "幹也").encode())
        tag = "DF22"
    else:
        data = build_basic_four(address=("東京都" + bad + "清瀬市").encode())
        tag = "DF23"
    message = expect_error(data)
    assert tag in message
    assert bad not in message


def test_rtl_override_in_name_is_rejected() -> None:
    message = expect_error(build_basic_four(name="黒桐\u202e也幹".encode()))
    assert "\u202e" not in message
    assert "也幹" not in message


def test_empty_name_is_rejected() -> None:
    assert "DF22" in expect_error(build_basic_four(name=b""))


def test_length_limits() -> None:
    assert parse_basic_four(build_basic_four(name=("名" * 200).encode())).name == "名" * 200
    assert "DF22" in expect_error(build_basic_four(name=("名" * 201).encode()))
    long_address = "住" * 500
    assert parse_basic_four(build_basic_four(address=long_address.encode())).address == (
        long_address
    )
    assert "DF23" in expect_error(build_basic_four(address=("住" * 501).encode()))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff",
        b"\xff\x20",
        b"\xff\x20\x80" + BASIC_FOUR_FILE[3:],  # indefinite length
        b"\xff\x20\x83\x00\x00\x65" + BASIC_FOUR_FILE[3:],  # 3-byte length
        b"\xff\x21" + BASIC_FOUR_FILE[2:],  # wrong outer tag
        b"\xff\x10" + BASIC_FOUR_FILE[2:],
        b"\x7f\x20" + BASIC_FOUR_FILE[2:],
        b"\xff\x20\x66" + BASIC_FOUR_FILE[3:],  # outer length one too long
        b"\xff\x20\x64" + BASIC_FOUR_FILE[3:],  # one too short: DF25 runs past FF20
    ],
)
def test_outer_malformations(data: bytes) -> None:
    expect_error(data)


def test_every_truncation_is_rejected() -> None:
    for n in range(len(BASIC_FOUR_FILE)):
        expect_error(BASIC_FOUR_FILE[:n])
    long_form = build_basic_four(outer_form="82")
    for n in range(len(long_form)):
        expect_error(long_form[:n])


def test_truncated_with_filler_is_rejected() -> None:
    # a short read padded by filler must not pass: FF20 says 0x65 but the value ends early
    expect_error(BASIC_FOUR_FILE[:60] + b"\xff" * 44)


def test_the_parser_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="EF0002"):
        parse_basic_four(b"\x00")


# --- BER helpers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "pos", "expected"),
    [
        (b"\xff\x20\x01x", 0, (0xFF20, 3, 4)),
        (b"\xdf\x22\x00", 0, (0xDF22, 3, 3)),
        (b"\x30\x02ab", 0, (0x30, 2, 4)),
        (b"\x5f\x4e\x81\x02ab", 0, (0x5F4E, 4, 6)),
        (b"\x7f\x21\x82\x00\x01a", 0, (0x7F21, 5, 6)),
        (b"\x1f\x81\x01\x00", 0, (0x1F8101, 4, 4)),
        (b"zz\xdf\x25\x011zz", 2, (0xDF25, 5, 6)),
        (BASIC_FOUR_FILE, 0, (0xFF20, 3, 104)),
        (BASIC_FOUR_FILE, 3, (0xDF21, 6, 14)),
        (BASIC_FOUR_FILE, 14, (0xDF22, 17, 32)),
        (BASIC_FOUR_FILE, 100, (0xDF25, 103, 104)),
        (MY_NUMBER_FILE, 0, (0xFF10, 3, 15)),
    ],
)
def test_read_tlv(data: bytes, pos: int, expected: tuple[int, int, int]) -> None:
    assert read_tlv(data, pos) == expected


@pytest.mark.parametrize(
    ("data", "pos"),
    [
        (b"", 0),
        (b"\xff\x20\x01", 0),  # value missing
        (b"\xff\x20", 0),  # length missing
        (b"\xff", 0),  # tag cut
        (b"\x1f\x81", 0),  # tag cut in its continuation
        (b"\xff\x20\x80\x00\x00", 0),  # indefinite
        (b"\xff\x20\x83\x00\x00\x00", 0),
        (b"\xff\x20\x84\x00\x00\x00\x00", 0),
        (b"\xff\x20\x81", 0),
        (b"\xff\x20\x82\x00", 0),
        (b"\xff\x20\x82\x00\x02a", 0),
        (b"\x1f\x80\x80\x80\x80\x01\x00", 0),  # tag too long
        (b"\xdf\x22\x00", 3),
        (b"\xdf\x22\x00", -1),
    ],
)
def test_read_tlv_rejects(data: bytes, pos: int) -> None:
    with pytest.raises(CardDataError):
        read_tlv(data, pos)


def test_tlv_total_length() -> None:
    assert tlv_total_length(MY_NUMBER_FILE) == 15
    assert tlv_total_length(BASIC_FOUR_FILE) == 104
    assert tlv_total_length(BASIC_FOUR_FILE[:3]) == 104
    long_form = build_basic_four(outer_form="82")
    assert tlv_total_length(long_form) == 106
    assert tlv_total_length(long_form[:5]) == 106
    for prefix in (b"", b"\xff", BASIC_FOUR_FILE[:2], MY_NUMBER_FILE[:2], long_form[:4]):
        assert tlv_total_length(prefix) is None
    assert tlv_total_length(b"\xff\x20\x81") is None
    assert tlv_total_length(b"\xff\x20\x81\x80") == 132
    assert tlv_total_length(b"\xff\x20\x82\xff\xff") == 65540


@pytest.mark.parametrize(
    "prefix", [b"\xff\x20\x80", b"\xff\x20\x83", b"\xff\x20\xff", b"\x1f\x80\x80\x80\x80"]
)
def test_tlv_total_length_rejects_malformed_headers(prefix: bytes) -> None:
    with pytest.raises(CardDataError):
        tlv_total_length(prefix)


# --- properties ---------------------------------------------------------------------------


def attempt(parse: Callable[[bytes], T], data: bytes) -> T | CardDataError:
    """The parser's result, or the CardDataError it raised; anything else propagates."""
    try:
        return parse(data)
    except CardDataError as exc:
        return exc


def check_basic_four(data: bytes) -> None:
    """Only a validated BasicFour or CardDataError, with a clean message."""
    four = attempt(parse_basic_four, data)
    if isinstance(four, CardDataError):
        assert type(four) is CardDataError
        assert_clean(four)
        return
    assert isinstance(four, BasicFour)
    assert 1 <= len(four.name) <= 200
    assert len(four.address) <= 500
    assert four.sex in ("1", "2", "9")
    assert len(four.birth_date) == 8
    assert four.birth_date.isascii()
    assert four.birth_date.isdigit()
    assert four.birth_date_partial == (four.birth_date[4:6] == "00" or four.birth_date[6:] == "00")
    for c in four.name + four.address:
        assert ord(c) >= 0x20
        assert not 0x7F <= ord(c) <= 0x9F
        assert not 0x202A <= ord(c) <= 0x202E
        assert not 0x2066 <= ord(c) <= 0x2069


def check_my_number(data: bytes) -> None:
    number = attempt(parse_my_number, data)
    if isinstance(number, CardDataError):
        assert type(number) is CardDataError
        assert_clean(number)
        return
    assert isinstance(number, str)
    assert valid_my_number(number)


def check_tlv_helpers(data: bytes) -> None:
    try:
        total = tlv_total_length(data)
    except CardDataError:
        total = -1
    try:
        tag, start, end = read_tlv(data, 0)
    except CardDataError:
        assert total is None or total == -1 or total > len(data)
    else:
        assert 0 <= start <= end <= len(data)
        assert total == end
        assert tag >= 0


@given(st.binary(max_size=300))
@SETTINGS
def test_random_bytes(data: bytes) -> None:
    check_basic_four(data)
    check_my_number(data)
    check_tlv_helpers(data)


@given(
    st.sampled_from([b"\xff\x20", b"\xff\x10", b"\xdf\x21"]),
    st.sampled_from([b"", b"\x81", b"\x82", b"\x82\x00", b"\x80", b"\x83"]),
    st.binary(max_size=200),
)
@SETTINGS
def test_random_bytes_behind_plausible_headers(tag: bytes, length: bytes, rest: bytes) -> None:
    data = tag + length + rest
    check_basic_four(data)
    check_my_number(data)
    check_tlv_helpers(data)


SAMPLES = [MY_NUMBER_FILE, BASIC_FOUR_FILE, build_basic_four(outer_form="82")]

mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 200), st.integers(1, 255)),
    st.tuples(st.just("set"), st.integers(0, 200), st.integers(0, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 200), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 200), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.integers(0, 200), st.integers(1, 8)),
)


def mutate(data: bytes, ops: list[tuple[str, int, int]]) -> bytes:
    buf = bytearray(data)
    for op, where, arg in ops:
        at = where % (len(buf) + 1)
        if op == "flip" and at < len(buf):
            buf[at] ^= arg
        elif op == "set" and at < len(buf):
            buf[at] = arg
        elif op == "truncate":
            del buf[at:]
        elif op == "insert":
            buf[at:at] = bytes([arg])
        elif op == "delete":
            del buf[at : at + arg]
    return bytes(buf)


@given(st.sampled_from(SAMPLES), st.lists(mutation, min_size=1, max_size=4))
@SETTINGS
def test_mutated_samples(sample: bytes, ops: list[tuple[str, int, int]]) -> None:
    data = mutate(sample, ops)
    check_basic_four(data)
    check_my_number(data)
    check_tlv_helpers(data)


@given(st.integers(0, len(BASIC_FOUR_FILE) - 1), st.integers(1, 255))
@settings(max_examples=500, deadline=None, database=None)
def test_single_byte_flip_inside_the_record_never_passes_unnoticed(at: int, xor: int) -> None:
    """Any one-byte change inside the sample's TLV either is rejected or changes the
    decoded record (or is a change the format allows, which the record then shows)."""
    data = bytearray(BASIC_FOUR_FILE)
    data[at] ^= xor
    four = attempt(parse_basic_four, bytes(data))
    if isinstance(four, CardDataError):
        assert_clean(four)
        return
    assert four != parse_basic_four(BASIC_FOUR_FILE)


safe_text = st.characters(
    exclude_categories=("Cs", "Cc", "Cf", "Zl", "Zp", "Cn"),
    exclude_characters="\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
)


@st.composite
def dates(draw: st.DrawFn) -> str:
    year = draw(st.integers(1868, 2100))
    month = draw(st.integers(0, 12))
    day = 0 if month == 0 else draw(st.integers(0, 28))
    return f"{year:04d}{month:02d}{day:02d}"


@given(
    st.text(safe_text, min_size=1, max_size=200).filter(str.strip),
    st.text(safe_text, min_size=1, max_size=500).filter(str.strip),
    dates(),
    st.sampled_from(["1", "2", "9"]),
    st.sampled_from(["short", "81", "82"]),
    st.sampled_from(["short", "81", "82"]),
    st.binary(max_size=8),
)
@settings(max_examples=300, deadline=None, database=None)
def test_round_trip(
    name: str, address: str, birth: str, sex: str, outer: str, inner: str, filler: bytes
) -> None:
    data = build_basic_four(
        name.encode(),
        address.encode(),
        birth.encode(),
        sex.encode(),
        outer_form=outer,
        inner_form=inner,
    )
    assume(len(data) <= 0xFFFF)
    four = parse_basic_four(data + filler)
    assert four == BasicFour(name, address, birth, sex, birth[4:6] == "00" or birth[6:] == "00")
    assert tlv_total_length(data) == len(data)
