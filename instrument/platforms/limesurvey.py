"""Placeholder while issue 11 is built on branches: replaced by the limesurvey platform module (see base.py)."""

from __future__ import annotations


def detect(table) -> str | None:
    raise NotImplementedError("limesurvey: platform module not written yet")


def read_responses(table, instrument):
    raise NotImplementedError("limesurvey: platform module not written yet")
