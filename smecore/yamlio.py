"""Reading YAML safely and fast: ``yaml.safe_load`` with libyaml's C parser when PyYAML has it.

The C safe loader builds the same Python objects as the pure-Python one (the same safe
constructor) at about 6x the speed: reading the instrument definition (89 files) took 0.37 s,
twice per ``smesurvey analyze`` run (issue 13). Without libyaml the pure-Python loader is used.
"""

from __future__ import annotations

from typing import Any

import yaml

#: the safe loader: libyaml's when PyYAML was built with it
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load(text)`` through :data:`SAFE_LOADER` (raises ``yaml.YAMLError`` the same way)."""
    return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader
