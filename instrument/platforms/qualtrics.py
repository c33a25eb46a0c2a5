"""Placeholder while issue 11 is built on branches: replaced by the qualtrics platform module (see base.py)."""

from __future__ import annotations


def detect(table) -> str | None:
    raise NotImplementedError("qualtrics: platform module not written yet")


def read_responses(table, instrument):
    raise NotImplementedError("qualtrics: platform module not written yet")
