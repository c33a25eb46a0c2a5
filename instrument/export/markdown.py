"""The questionnaire as Markdown (for reviews, version control, papers' appendices).

Pipes and markup characters in user text are escaped so that tables stay tables.
"""

from __future__ import annotations

import re
from pathlib import Path

from instrument.export.html import context
from instrument.model import Instrument
from smecore.files import write_text


def md(s: str) -> str:
    """Escape characters with a meaning in Markdown."""
    return re.sub(r"([\\`*_{}\[\]<>|#])", r"\\\1", s or "")


def render(instrument: Instrument, lang: str = "en") -> str:
    c = context(instrument, lang)
    note = f" {md(c['translation'])}." if c["translation"] else ""
    out = [f"# {md(c['title'])}", "", f"Version {c['version']}, about {c['minutes']} minutes.{note}", "",
           md(c["introduction"]), "", md(c["consent"]), ""]
    for s in c["sections"]:
        out += [f"## {md(s['title'])}", "", md(s["intro"]), ""]
        for b in s["blocks"]:
            if b["grid"]:
                out += [f"### {md(b['title'])}", ""]
                if b["stem"]:
                    out += [md(b["stem"]), ""]
                out.append("| Item | Variable | " + " | ".join(f"{p['value']} {md(p['label'])}" for p in b["points"]) + " |")
                out.append("|---|---|" + "---|" * len(b["points"]))
                for v in b["variables"]:
                    rev = " (R)" if v["reverse"] else ""
                    out.append(f"| {md(v['label'])}{rev} | `{v['name']}` | " + " | ".join("o" for _ in b["points"]) + " |")
                out.append("")
            else:
                for v in b["variables"]:
                    out.append(f"**{md(v['label'])}** `{v['name']}`")
                    if b["points"]:
                        out += [""] + [f"- {p['value']} = {md(p['label'])}" for p in b["points"]]
                    elif v["range"]:
                        out.append(f" ({v['range']})")
                    out.append("")
    out += [md(c["thanks"]), ""]
    return "\n".join(out)


def write(instrument: Instrument, path: Path, lang: str = "en") -> list[Path]:
    """The questionnaire as Markdown in ``lang``."""
    write_text(path, render(instrument, lang))
    return [path]
