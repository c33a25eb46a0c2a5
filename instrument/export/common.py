"""Small helpers shared by the exporters."""

from __future__ import annotations

LANGUAGE_NAMES = {"en": "English", "fi": "Finnish", "sv": "Swedish", "de": "German", "fr": "French",
                  "es": "Spanish", "it": "Italian", "nl": "Dutch", "da": "Danish", "no": "Norwegian",
                  "pt": "Portuguese", "hi": "Hindi"}


def text(mapping: dict[str, str] | None, lang: str = "en") -> str:
    """Text in ``lang`` (English when that language is missing)."""
    if not mapping:
        return ""
    return mapping.get(lang) or mapping.get("en", "")


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code.split("-")[0], code)
