"""Template texts in several languages (``{"ja": ..., "en": ...}``)."""

from __future__ import annotations


def pick(localized: dict[str, str], language: str) -> str:
    """The text for ``language``; やさしい日本語 falls back to Japanese, others to English."""
    if language in localized:
        return localized[language]
    if language.startswith("ja") and "ja" in localized:
        return localized["ja"]
    return localized.get("en") or localized.get("ja") or next(iter(localized.values()), "")
