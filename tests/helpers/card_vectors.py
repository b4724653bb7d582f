"""The public JPKI *test* card files (synthetic holder data, soltia48/myna-card), as quoted
in shared/testdata/mynumber-card-public-vectors.json, and numbers with known check digits."""

from __future__ import annotations

from pathlib import Path

#: the shared test data beside the repository (present in this workplace and in CI)
VECTORS_FILE = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "testdata"
    / "mynumber-card-public-vectors.json"
)
MY_NUMBER_FILE = bytes.fromhex("ff100c353337363836363737313838ffff")
BASIC_FOUR_FILE = bytes.fromhex(
    "ff2065df2108000e002000590064df220fe9bb92e6a190e38080e5b9b9e4b99f"
    "df2336e69db1e4baace983bde6b885e780ace5b882e8a6b3e5b883e5ad90e58d"
    "97efbc91efbc92efbc8defbc97efbc8defbc92efbc90efbc92df240831393830"
    "30323137df250131"
)
NUMBER = "537686677188"
NAME = "黒桐\u3000幹也"
ADDRESS = "東京都清瀬市観布子南１２－７－２０２"
BIRTH = "19800217"
SEX = "1"
VALID_NUMBERS = ["621498320257", "983205673214", "537686677188", "123456789018"]
INVALID_NUMBERS = ["621498320258", "123456789012", "000000000001", "983205673210"]
