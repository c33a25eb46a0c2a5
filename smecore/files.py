"""Writing files reproducibly: the same content gives the same bytes.

Spreadsheet and SPSS writers stamp the current time into their files
(openpyxl: ``docProps/core.xml`` and every zip entry; ReadStat: the ``.sav``
header's creation date and time). These helpers fix those stamps so that the
same seed and inputs give byte-identical outputs.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

FIXED_ZIP_TIME = (2026, 1, 1, 0, 0, 0)
FIXED_ISO = "2026-01-01T00:00:00Z"


def save_workbook(workbook, path: str | Path) -> Path:
    """Save an openpyxl workbook with fixed timestamps (byte-identical for identical content)."""
    return save_office(workbook, path)


def save_office(document, path: str | Path) -> Path:
    """Save an Office Open XML document (an openpyxl workbook, a python-docx document: anything with
    ``save(file)``) with fixed timestamps in ``docProps/core.xml`` and on every zip entry."""
    buf = io.BytesIO()
    document.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)",
                              rb"\g<1>" + FIXED_ISO.encode() + rb"\g<2>", data)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            dst.writestr(entry, data)
    path = Path(path)
    path.write_bytes(out.getvalue())
    return path


_PDF_DATE = re.compile(rb"(/(?:CreationDate|ModDate) \(D:)\d{14}")


def fix_pdf_timestamp(data: bytes) -> bytes:
    """PDF bytes with the 14 digits of ``/CreationDate`` and ``/ModDate`` set to a fixed date (cairo, used by
    graphviz, stamps the current time; the same length keeps the cross-reference offsets valid)."""
    return _PDF_DATE.sub(rb"\g<1>20260101000000", data)


# SPSS .sav header: rec_type[4] prod_name[60] layout_code[4] nominal_case_size[4]
# compression[4] weight_index[4] ncases[4] bias[8] creation_date[9] creation_time[8]
_SAV_DATE = slice(92, 101)
_SAV_TIME = slice(101, 109)


def fix_sav_timestamp(path: str | Path) -> Path:
    """Overwrite the creation date and time in a ``.sav`` header with fixed values."""
    path = Path(path)
    data = bytearray(path.read_bytes())
    if data[:4] not in (b"$FL2", b"$FL3"):
        raise ValueError(f"{path}: not an SPSS .sav file")
    data[_SAV_DATE] = b"01 Jan 26"
    data[_SAV_TIME] = b"00:00:00"
    path.write_bytes(bytes(data))
    return path


def fix_dta_timestamp(path: str | Path) -> Path:
    """Overwrite the ``<timestamp>`` of a Stata 117-119 header (``dd Mon yyyy hh:mm``) with a fixed value.

    Hand-written because pyreadstat stamps the current time and has no option to set it; the header is XML-like
    text, a length byte then 17 characters (Stata dta format specification, section 5.1)."""
    path = Path(path)
    data = bytearray(path.read_bytes())
    tag = data.find(b"<timestamp>")
    if tag < 0 or data[tag + 11] != 17:
        raise ValueError(f"{path}: no 17-character <timestamp> in the Stata header")
    data[tag + 12:tag + 29] = b"01 Jan 2026 00:00"
    path.write_bytes(bytes(data))
    return path


def write_text(path: str | Path, content: str) -> Path:
    """Write UTF-8 text with Unix newlines (creating the folder if needed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8", newline="\n")
    return path


def output_owner(path: str | Path) -> str | None:
    """The command whose outputs folder ``path`` holds, from its ``provenance.json`` (``None``: none)."""
    import json

    prov = Path(path) / "provenance.json"
    if not prov.is_file():
        return None
    try:
        record = json.loads(prov.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return "an unknown command"
    if not isinstance(record, dict):
        return "an unknown command"
    return str(record.get("command") or ("smesurvey ingest" if "rows_read" in record else "an unknown command"))


def check_output_dir(path: str | Path, option: str = "--out", *, command: str | None = None,
                     force: bool = False) -> Path:
    """Check, before any work, that ``path`` can be the output folder: it is a folder or does not exist,
    and the nearest existing folder on its way can be written to; with ``command`` (e.g. ``"smesurvey
    fit"``), it does not hold another command's outputs (its ``provenance.json``) unless ``force``.
    Nothing is created. Raises :class:`~smecore.errors.OptionError` naming the option and what to do."""
    import os

    from smecore.errors import OptionError

    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OptionError(f"{option} {path}: is a file, not a folder; give a folder for the outputs")
    owner = output_owner(path) if command is not None and not force else None
    if owner is not None and owner != command:
        raise OptionError(f"{option} {path}: holds the outputs of `{owner}` (provenance.json); choose another "
                          "folder, or pass --force to overwrite them")
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise OptionError(f"{option} {path}: {probe} is a file, so the folder cannot be created there")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OptionError(f"{option} {path}: cannot write into {probe} (permission denied); choose another folder")
    return path


def check_output_file(path: str | Path, option: str = "--out") -> Path:
    """Like :func:`check_output_dir` for an output file: not an existing folder, its folder writable."""
    path = Path(path)
    from smecore.errors import OptionError

    if path.is_dir():
        raise OptionError(f"{option} {path}: is a folder; give a file name")
    check_output_dir(path.parent, option)
    return path
