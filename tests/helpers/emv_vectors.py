"""The public EMV MPM payloads of shared/testdata/emv-mpm-public-vectors.json (beside the
repository, as for the card vectors; not copied, since some are real merchants' codes),
and hypothesis strategies for valid field sets."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from devices.emv import (
    LanguageTemplate,
    MpmFields,
    PrimitiveAccount,
    TemplateAccount,
    format_amount_yen,
)

_NAME = Path("shared", "testdata", "emv-mpm-public-vectors.json")


def _find_vectors() -> Path:
    """shared/ sits beside the clone (CI, the integration repository) or beside the folder
    of git worktrees; the nearest ancestor that has it wins."""
    here = Path(__file__).resolve()
    for folder in here.parents[2:]:
        if (folder / _NAME).exists():
            return folder / _NAME
    return here.parents[3] / _NAME


VECTORS_FILE = _find_vectors()

#: EMVCo MPM v1.0 Annex B.7, the specification's own worked example
EMVCO_EXAMPLE = (
    "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678"
    "520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京"
    "540523.7253031565502016233030412340603***0708A60086670902ME"
    "91320016A0112233449988770708123456786304A13A"
)


def load_vectors() -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))["vectors"]
    return vectors


# --- strategies: field sets that every rule accepts ---------------------------------

ANS = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
#: format S: precomposed text (letters, digits, punctuation, spaces, kana and kanji)
S_CHARS = st.characters(codec="utf-8", categories=("Lu", "Ll", "Lo", "Nd", "Pd", "Po", "Zs", "Sm"))


def ans(max_size: int, min_size: int = 1) -> st.SearchStrategy[str]:
    return st.text(ANS, min_size=min_size, max_size=max_size)


def s_text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(S_CHARS, min_size=1, max_size=max_size).filter(
        lambda t: unicodedata.is_normalized("NFC", t)
    )


def digits(size: int) -> st.SearchStrategy[str]:
    return st.text(st.sampled_from("0123456789"), min_size=size, max_size=size)


def amounts() -> st.SearchStrategy[str]:
    yen = st.integers(1, 10**12).map(format_amount_yen)
    decimal = st.tuples(st.integers(0, 10**8), st.integers(1, 99)).map(
        lambda p: f"{p[0]}.{p[1]:02d}"
    )
    return st.one_of(yen, decimal)


@st.composite
def template_account(draw: st.DrawFn, tag: str) -> TemplateAccount:
    subs = draw(
        st.lists(st.sampled_from([f"{n:02d}" for n in range(1, 100)]), max_size=2, unique=True)
    )
    return TemplateAccount(tag, (("00", draw(ans(32))), *((sub, draw(s_text(25))) for sub in subs)))


@st.composite
def merchant_accounts(draw: st.DrawFn) -> tuple[PrimitiveAccount | TemplateAccount, ...]:
    tags = draw(st.lists(st.integers(2, 51), min_size=1, max_size=2, unique=True))
    out: list[PrimitiveAccount | TemplateAccount] = []
    for n in tags:
        tag = f"{n:02d}"
        out.append(PrimitiveAccount(tag, draw(ans(40))) if n <= 25 else draw(template_account(tag)))
    return tuple(out)


@st.composite
def mpm_fields(draw: st.DrawFn) -> MpmFields:
    tip = draw(st.sampled_from([None, "01", "02", "03"]))
    additional_tags = draw(
        st.lists(st.sampled_from([f"{n:02d}" for n in range(1, 9)]), max_size=3, unique=True)
    )
    additional: list[tuple[str, str]] = [(t, draw(ans(25))) for t in additional_tags]
    if draw(st.booleans()):
        request = draw(st.lists(st.sampled_from("AME"), min_size=1, max_size=3, unique=True))
        additional.append(("09", "".join(request)))
    language = draw(
        st.one_of(
            st.none(),
            st.builds(
                LanguageTemplate,
                st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=2, max_size=2),
                s_text(25),
                st.one_of(st.none(), s_text(15)),
            ),
        )
    )
    return MpmFields(
        merchant_accounts=draw(merchant_accounts()),
        merchant_category_code=draw(digits(4)),
        currency=draw(digits(3)),
        country=draw(
            st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=2, max_size=2)
        ),
        merchant_name=draw(ans(25)),
        merchant_city=draw(ans(15)),
        point_of_initiation=draw(st.sampled_from([None, "11", "12"])),
        amount=draw(st.one_of(st.none(), amounts())),
        tip_indicator=tip,
        convenience_fee_fixed=draw(amounts()) if tip == "02" else None,
        convenience_fee_percentage=(
            draw(st.integers(1, 9999).map(lambda n: f"{n // 100:02d}.{n % 100:02d}"))
            if tip == "03"
            else None
        ),
        postal_code=draw(st.one_of(st.none(), ans(10))),
        additional_data=tuple(additional),
        language=language,
    )
