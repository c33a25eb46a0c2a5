"""Small helpers shared by the exporters."""

from __future__ import annotations


def text(mapping: dict[str, str] | None, lang: str = "en") -> str:
    """Text in ``lang`` (English when that language is missing)."""
    if not mapping:
        return ""
    return mapping.get(lang) or mapping.get("en", "")

