"""The My Number card's 券面事項入力補助AP: APDUs, file formats, and a virtual card."""
