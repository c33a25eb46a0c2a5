"""README.md and REPRODUCING.md, run as written.

Every fenced ```bash block of the two documents is split into commands (``\\`` continuations joined,
``# comments`` dropped by :func:`shlex.split`, ``cat > FILE <<'EOF'`` here-documents written as files)
and every ```python block is one step; the steps run in document order in one temporary folder, as a
reader's shell session would: earlier commands make the files later ones use. Besides those, a command
may only use the files of :data:`FIXTURES`.

* ``smesurvey ...`` commands run in-process (``smesurvey.cli.main``): exit status 0, no traceback, every
  file a command says it wrote exists, no command overwrites another command's file with other bytes,
  and a check of what the command means (:func:`check_step`: reverse-keyed loadings positive with
  ``--reverse-score``, one group per country, the rows listwise deletion and FIML keep, the counts the
  README states, ...).
* ``python`` blocks are executed in one namespace (in document order, in the same folder) and checked.
* "Small data": :data:`SMALL` replaces a few bootstrap sizes (and adds ``--jobs 1``); each replacement
  must match exactly one place of the documents, so everything else runs as written.
* :data:`SLOW` steps (``smesurvey analyze``, ``smesurvey export-r``, the ``analyze()`` block: minutes
  each) run under ``@pytest.mark.slow``; in the fast suite the commands are parsed by the CLI's own
  parser and the block is compiled.
* Parse-only, always: ``smesurvey reproduce`` (minutes; ``--update-expected`` would rewrite the expected
  results), ``make`` targets (must be rules of the Makefile) and ``git`` (its paths must exist).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import re
import shlex
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "REPRODUCING.md")

#: Files a reader brings along (everything else comes from an earlier command of the documents).
FIXTURES = {
    "growth.csv": (ROOT / "tests" / "results" / "lavaan_extra" / "demo_growth.csv").read_bytes(),  # Demo.growth
    "project.key": b"4f1c8e2a9b7d6c5e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e\n",
}

#: "Small data": text of the documents -> what runs instead. Each must match exactly one step.
SMALL = {
    "--bootstrap 2000 --seed 1 --out results/": "--bootstrap 20 --jobs 1 --seed 1 --out results/",
    "bootstrap(res, 2000, seed=1)": "bootstrap(res, 20, seed=1, n_jobs=1)",
    "smesurvey analyze data.csv --out analysis/": "smesurvey analyze data.csv --bootstrap 20 --jobs 1 --out analysis/",
    "--bootstrap 500 --seed 7": "--bootstrap 20 --jobs 1 --seed 7",
    "analyze(data, n_boot=2000, seed=1)": "analyze(data, n_boot=20, seed=1, n_jobs=1)",
    "smesurvey power --out power/": "smesurvey power --hypotheses H5,H14 --n 100,150 --reps 2 --workers 1 "
                                    "--no-recovery --out power/",
    "--n 200:1000:200 --reps 200": "--n 100 --reps 2 --workers 1 --no-recovery",
    "--n 300,600,1200 --reps 500": "--hypotheses H5 --n 100 --reps 2 --workers 1 --no-recovery",
    'ns="100:500:100", reps=200': 'ns="100", reps=2, workers=1, recovery=False',
    "smesurvey analyze data.csv --ordinal --out analysis_ordinal/":
        "smesurvey analyze data.csv --ordinal --bootstrap 20 --jobs 1 --out analysis_ordinal/",
}

#: Steps that take minutes (run with -m slow; parsed / compiled in the fast suite), by how they start.
SLOW = ("smesurvey analyze ", "smesurvey export-r ", "from analysis.ingest import read_responses")
#: smesurvey commands that are only parsed (too slow, or writing into the repository).
PARSE_ONLY = ("reproduce",)


# -- reading the documents ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    doc: str
    line: int
    kind: str  # smesurvey | python | file | make | git
    text: str  # as written (continuations joined)
    body: str = ""  # a here-document's content
    run_text: str = ""  # after the SMALL replacements
    substituted: tuple[str, ...] = field(default=())

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.run_text, comments=True)

    @property
    def slow(self) -> bool:
        return self.run_text.lstrip().startswith(SLOW)

    @property
    def parse_only(self) -> bool:
        return self.kind in ("make", "git") or (self.kind == "smesurvey" and self.argv[1] in PARSE_ONLY)

    @property
    def label(self) -> str:
        first = self.text.strip().splitlines()[0]
        return f"{self.doc}:{self.line}:{first[:70]}"


def fenced_blocks(text: str) -> list[tuple[str, int, str]]:
    """``(language, line of the first code line, code)`` of every fenced block."""
    return [(m.group(1), text.count("\n", 0, m.start(2)) + 1, m.group(2))
            for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M)]


def bash_steps(doc: str, line0: int, code: str) -> list[Step]:
    lines = code.splitlines()
    out, i = [], 0
    while i < len(lines):
        start, text = i, lines[i]
        heredoc = re.fullmatch(r"cat > (\S+) <<'?(\w+)'?\s*", text.strip())
        if heredoc:
            end = lines.index(heredoc.group(2), i + 1)
            out.append(Step(doc, line0 + start, "file", text, "\n".join(lines[i + 1:end]) + "\n"))
            i = end + 1
            continue
        while text.endswith("\\"):
            i += 1
            text = text[:-1] + lines[i].strip()
        i += 1
        argv = shlex.split(text, comments=True)
        if not argv:
            continue
        kind = "smesurvey" if argv[0].split("/")[-1] == "smesurvey" else argv[0]
        assert kind in ("smesurvey", "make", "git"), f"{doc}:{line0 + start}: no rule to run `{text}`"
        out.append(Step(doc, line0 + start, kind, text))
    return out


def document_steps() -> list[Step]:
    steps = []
    for doc in DOCS:
        for lang, line, code in fenced_blocks((ROOT / doc).read_text(encoding="utf-8")):
            if lang == "bash":
                steps += bash_steps(doc, line, code)
            elif lang == "python":
                steps.append(Step(doc, line, "python", code))
    small = []
    for step in steps:
        run, used = step.text, []
        for old, new in SMALL.items():
            if old in run:
                run, used = run.replace(old, new), [*used, old]
        small.append(replace(step, run_text=run, substituted=tuple(used)))
    return small


STEPS = document_steps()


def test_the_documents_have_steps_and_each_small_replacement_matches_one():
    kinds = {k: sum(s.kind == k for s in STEPS) for k in ("smesurvey", "python", "file", "make", "git")}
    assert kinds["smesurvey"] >= 30 and kinds["python"] >= 3, kinds
    for old in SMALL:
        assert sum(old in s.substituted for s in STEPS) == 1, f"SMALL replacement {old!r} matches " \
                                                             f"{sum(old in s.text for s in STEPS)} steps"


# -- running them ------------------------------------------------------------------------------------

def cli_parse(argv: list[str]) -> dict:
    """Parse ``smesurvey ARGS`` with the CLI's own parser (option names, types, ranges) without running."""
    import typer.main

    from smesurvey.cli import _register, app

    _register()
    cmd = typer.main.get_command(app)
    ctx = cmd.make_context("smesurvey", list(argv))
    while hasattr(cmd, "resolve_command"):
        name, cmd, rest = cmd.resolve_command(ctx, [*ctx._protected_args, *ctx.args])
        ctx = cmd.make_context(name, rest, parent=ctx)
    return ctx.params


@dataclass
class Outcome:
    step: Step
    rc: int = 0
    out: str = ""
    err: str = ""
    error: str = ""  # an exception, or a failed check (with its traceback)


class Session:
    """The documents' steps run in order in one folder; each is checked right after it ran."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.namespace: dict = {"__name__": "__readme__"}
        self.outcomes: dict[int, Outcome] = {}
        self.written: dict[Path, tuple] = {}  # file -> (command and format, sha256, step)
        self.next = 0
        for name, content in FIXTURES.items():
            (folder / name).write_bytes(content)

    def outcome(self, index: int) -> Outcome:
        """Run every earlier step not yet run (slow ones only when asked for), then step ``index``."""
        while self.next <= index:
            i, self.next = self.next, self.next + 1
            if STEPS[i].parse_only:
                continue
            if not STEPS[i].slow or i == index:
                self.outcomes[i] = self._run(STEPS[i])
        return self.outcomes[index]

    def _run(self, step: Step) -> Outcome:
        res = Outcome(step)
        stdout, stderr = io.StringIO(), io.StringIO()
        try:
            with contextlib.chdir(self.folder), contextlib.redirect_stdout(stdout), \
                    contextlib.redirect_stderr(stderr):
                if step.kind == "smesurvey":
                    from smesurvey.cli import main

                    res.rc = main(step.argv[1:])
                elif step.kind == "python":
                    exec(compile(step.run_text, f"{step.doc}:{step.line}", "exec"), self.namespace)
                elif step.kind == "file":
                    Path(step.argv[2]).write_text(step.body, encoding="utf-8")
            res.out, res.err = stdout.getvalue(), stderr.getvalue()
            self._check_written(res)
            with contextlib.chdir(self.folder):
                check_step(res, self)
        except Exception:  # noqa: BLE001 - reported by the step's test
            res.out, res.err = res.out or stdout.getvalue(), res.err or stderr.getvalue()
            res.error = traceback.format_exc()
        return res

    def _check_written(self, res: Outcome) -> None:
        """Exit 0, no traceback, every file the command says it wrote exists and overwrites no file of
        another kind of output (another command, or another --format) with other bytes."""
        if res.step.kind != "smesurvey":
            return
        assert res.rc == 0, f"exit status {res.rc}: {res.err.strip()}"
        assert "Traceback" not in res.out + res.err
        argv = res.step.argv
        kind = (*argv[1:3 if argv[1] == "instrument" else 2], options(argv).get("format"))
        for path in wrote(res.out):
            path = self.folder / path
            assert path.exists(), f"says it wrote {path}, which does not exist"
            if path.is_file():
                sha = hashlib.sha256(path.read_bytes()).hexdigest()
                before = self.written.get(path)
                assert before is None or before[0] == kind or before[1] == sha, \
                    f"{path.name} overwritten: written before by {before[2]}"
                self.written[path] = (kind, sha, res.step.label)


def wrote(out: str) -> list[Path]:
    """The files and folders a command's output says it wrote."""
    paths = []
    for line in out.splitlines():
        m = re.match(r"wrote (?:\d+ files into )?(.+?)(?:;.*)?$", line.strip())
        if m:
            paths += [Path(p) for p in m.group(1).split(" and ")]
    return paths


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Session:
    return Session(tmp_path_factory.mktemp("readme"))


def _params():
    for i, step in enumerate(STEPS):
        marks = [pytest.mark.slow] if step.slow else []
        yield pytest.param(i, id=f"{i:02d}-{step.label}", marks=marks)


@pytest.mark.parametrize("index", list(_params()))
def test_step(index, session):
    """The step runs as written (or is parsed, see the module docstring) and means what it says."""
    step = STEPS[index]
    if step.parse_only:
        parse_check(step)
        return
    res = session.outcome(index)
    assert not res.error, f"{step.label}\nstdout:\n{res.out[-3000:]}\nstderr:\n{res.err[-3000:]}\n{res.error}"


@pytest.mark.parametrize("index", [i for i, s in enumerate(STEPS) if s.slow])
def test_slow_step_parses(index):
    """Fast stand-in for a slow step: the command's options are valid / the block compiles."""
    step = STEPS[index]
    if step.kind == "python":
        compile(step.run_text, f"{step.doc}:{step.line}", "exec")
        for module, name in re.findall(r"^from ([\w.]+) import (.+)$", step.run_text, flags=re.M):
            imported = __import__(module, fromlist=["_"])
            assert all(hasattr(imported, n.strip()) for n in name.split(",")), (module, name)
    else:
        parse_check(step)


def parse_check(step: Step) -> None:
    argv = step.argv
    if step.kind == "make":
        makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
        for target in argv[1:]:
            assert re.search(rf"^{re.escape(target)}:", makefile, flags=re.M), f"no make target {target}"
    elif step.kind == "git":
        assert argv[1] in ("diff", "status", "log"), argv
        assert all((ROOT / p).exists() for p in argv[2:] if not p.startswith("-")), argv
    else:
        params = cli_parse(argv[1:])
        if argv[1] == "reproduce":
            assert params["world"] in ("all", "theory", "null")


# -- what each step means ----------------------------------------------------------------------------

def check_step(res: Outcome, session: Session) -> None:
    step = res.step
    if step.kind == "python":
        for key, check in PYTHON_CHECKS.items():
            if key in step.text:
                check(session.namespace, res)
                return
        raise AssertionError(f"no check for the python block at {step.label}")
    if step.kind != "smesurvey":
        return
    argv = step.argv
    command = argv[1] if argv[1] != "instrument" else f"instrument {argv[2]}"
    CHECKS[command](options(argv), res)


def options(argv: list[str]) -> dict:
    """``--name value`` / ``--name=value`` / ``--flag`` -> dict (repeated options: lists); positional
    arguments under ``args``."""
    out: dict = {"args": []}
    it = iter(argv[2:])
    for token in it:
        if not token.startswith("--"):
            out["args"].append(token)
            continue
        name, _, value = token[2:].partition("=")
        if not _:
            flag = name in ("reverse-score", "no-reverse-score", "growth", "clean", "labels", "strict", "quiet",
                            "force", "std-lv", "modindices", "cluster-robust", "keep-identifiers", "no-recovery",
                            "ordinal")
            value = True if flag else next(it)
        out.setdefault(name, []).append(value)
    return {k: (v[0] if k != "args" and len(v) == 1 else v) for k, v in out.items()}


def readme_number(pattern: str) -> int:
    m = re.search(pattern, " ".join((ROOT / "README.md").read_text(encoding="utf-8").split()))
    assert m, f"README no longer says {pattern!r}"
    return int(m.group(1))


def _instrument():
    from instrument import load_instrument

    return load_instrument()


def _sidecar(path: str) -> dict:
    return json.loads(Path(path + ".sidecar.json").read_text(encoding="utf-8"))


def check_generate(opt: dict, res: Outcome) -> None:
    side = _sidecar(opt["out"])
    assert side["world"] == opt.get("world", "theory") and side["seed"] == int(opt.get("seed", 1))
    assert side["n"] == int(opt.get("n", 600))
    modules = ["M0", *opt["modules"].split(",")] if "modules" in opt else ["M0", "M1", "M2", "M3", "M4", "M5"]
    assert side["modules"] == modules
    knobs = dict(k.split("=") for k in ([opt["knob"]] if isinstance(opt.get("knob"), str) else opt.get("knob", [])))
    for name, value in knobs.items():
        assert side["knobs"][name] == float(value)
    if opt.get("clean"):
        assert not any(v for k, v in side["knobs"].items() if k != "durations")
    fmt = opt.get("format")
    if fmt is None and opt["out"].endswith((".csv", ".sav")):
        data = pd.read_csv(opt["out"]) if opt["out"].endswith(".csv") else pd.read_spss(opt["out"])
        inst = _instrument().select(modules[1:])
        assert len(data) == side["n"] and list(data.columns) == [v.name for v in inst.variables()]
        if modules == ["M0", "M1", "M2", "M3", "M4", "M5"] and side["n"] >= 200:  # (a pilot of 80 misses some)
            # "Firms are nested in 20 cluster organisations in 4 countries"; the codebook's variables
            assert data["firm_cluster_org"].nunique() == readme_number(r"nested in (\d+) cluster organisations")
            assert data["firm_country"].nunique() == readme_number(r"cluster organisations in (\d+) countries")
            assert len(data.columns) == _instrument().counts()["codebook_variables"]
    elif fmt == "qualtrics":
        assert Path(opt["out"]).read_text(encoding="utf-8").count("\n") == side["n"] + 3  # 3 header rows
    elif fmt == "kobo" and opt.get("kobo-layout") == "odk_central":
        assert Path(opt["out"]).read_text(encoding="utf-8").startswith("SubmissionDate,")
    elif fmt == "redcap" and opt.get("labels"):
        assert "Strongly agree" in Path(opt["out"]).read_text(encoding="utf-8")


def check_export(opt: dict, res: Outcome) -> None:
    path, fmt = Path(opt["out"]), opt["format"]
    inst = _instrument().select(opt["modules"].split(",") if "modules" in opt else None)
    if fmt == "lavaan":
        text = path.read_text(encoding="utf-8")
        model = [ln for ln in text.splitlines() if not ln.startswith("#")]
        reverse = inst.reverse_keyed(re.findall(r"\w+", "\n".join(model)))
        assert reverse and f"Reverse-keyed items ({len(reverse)}): {', '.join(reverse)}." in " ".join(
            ln[2:] for ln in text.splitlines() if ln.startswith("# "))
        assert "--reverse-score" in text
        for mid in inst.module_ids[1:]:
            assert all(f"{c.id} =~" in text for c in inst.constructs_in(mid))
    elif fmt == "qualtrics":
        assert path.read_text(encoding="utf-8").startswith("[[AdvancedFormat]]")
    elif fmt == "limesurvey":
        assert "class" in path.read_text(encoding="utf-8").split("\n", 1)[0].split("\t")  # its TSV header
    elif fmt == "codebook":
        assert len(pd.read_csv(path)) == inst.counts()["codebook_variables"]
        assert all(path.with_suffix(s).is_file() for s in (".md", ".sav", ".dta"))
    elif fmt == "xlsform":
        assert path.read_bytes()[:2] == b"PK"
        if opt.get("language") == "all":
            from openpyxl import load_workbook

            head = next(load_workbook(path)["survey"].iter_rows(values_only=True))
            assert {f"label::{lang.name} ({lang.code})" for lang in inst.questionnaire.languages} <= set(head)
    elif fmt in ("html", "markdown"):
        assert "tk_1" in path.read_text(encoding="utf-8")
    elif fmt == "respondent":
        html = path.read_text(encoding="utf-8")
        assert f'lang="{opt["language"]}"' in html and "tk_1" not in html and "go to" not in html  # fi text
    elif fmt == "respondent-pdf":
        for lang in opt["language"].split(","):
            pdf = path if lang == opt["language"].split(",")[0] else path.with_name(f"{path.stem}_{lang}.pdf")
            assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.with_suffix(".html").is_file()
    elif fmt == "backtranslation":
        from openpyxl import load_workbook

        assert load_workbook(path).sheetnames == ["README", "fi (Finnish)", "sv (Swedish)", "de (German)"]


def check_languages(opt: dict, res: Outcome) -> None:
    """The README's string count is every language's, and each translation is a draft."""
    from instrument.translations import coverage

    cov = coverage(_instrument())
    assert (cov["strings"] == readme_number(r"\((\d+) strings each\)")).all() and cov["complete"].all()
    assert "draft" in res.out and "Finnish" in res.out


def check_info(opt: dict, res: Outcome) -> None:
    """The README's counts are the instrument's, and `instrument info` prints them."""
    from smesurvey.cli.instrument import counts_line

    inst = _instrument()
    n = inst.counts()
    readme = {
        "constructs": r"(\d+) constructs \(\d+ and the marker\)",
        "first_order": r"\d+ constructs \((\d+) and the marker\)",
        "all_items": r"with (\d+) items \(\d+ and the marker's \d+\)",
        "items": r"with \d+ items \((\d+) and the marker's \d+\)",
        "marker_items": r"and the marker's (\d+)\)",
        "matrix_cells": r"(\d+)-cell source x content matrix",
        "profile_questions": r"(\d+) profile questions",
        "attention_checks": r"(\d+) attention checks",
        "questionnaire_variables": r"(\d+) questionnaire variables",
        "codebook_variables": r"`duration_sec` (\d+) variables in the codebook",
    }
    expected = {**n, "constructs": n["constructs"] + n["marker"], "first_order": n["constructs"],
                "all_items": n["items"] + n["marker_items"]}
    assert {k: readme_number(p) for k, p in readme.items()} == {k: expected[k] for k in readme}
    assert n["codebook_variables"] == n["questionnaire_variables"] + n["paradata"] == len(inst.codebook())
    assert counts_line(inst) in " ".join(res.out.split())
    minutes = float(inst.completion_time()["minutes"].iloc[-1])
    assert re.search(rf"Estimated completion time {minutes:.1f}\s+minutes", (ROOT / "README.md").read_text())
    assert f"{minutes:.1f}" in res.out


def _fit_data(opt: dict) -> tuple[pd.DataFrame, list[str]]:
    from analysis.sem.syntax import classify_variables, parse_model

    ov = list(classify_variables(parse_model(Path(opt["args"][0]).read_text(encoding="utf-8")).statements).ov)
    return pd.read_csv(opt["args"][1]), ov


def check_fit(opt: dict, res: Outcome) -> None:
    out = Path(opt["out"])
    for name in ("parameters.csv", "fit.json", "excluded.csv", "cells.csv", "provenance.json"):
        assert (out / name).is_file(), name
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    params = pd.read_csv(out / "parameters.csv", keep_default_na=False, na_values=[""])
    fm = json.loads((out / "fit.json").read_text(encoding="utf-8"))
    data, ov = _fit_data(opt)
    o = prov["options"]
    ordinal = "ordered" in opt  # lavaan: WLSMV is the default estimator of ordered items
    assert o["estimator"] == opt.get("estimator", "WLSMV" if ordinal else "ML")
    assert o["missing"] == opt.get("missing", "listwise")
    if ordinal:
        assert o["ordered"] == (ov if opt["ordered"] == "all" else opt["ordered"].split(","))
        assert (params["op"] == "|").any() and {"chisq.scaled", "chisq.shift.parameters"} <= set(fm)
    reverse = _instrument().reverse_keyed(ov)
    loadings = params[params["op"] == "=~"]
    if opt.get("reverse-score"):
        assert prov["reverse_scored"]["items"] == reverse and reverse
        assert (loadings.loc[loadings["rhs"].isin(reverse), "std.all"] > 0).all(), "reverse-keyed loadings"
        assert (loadings["std.all"] > 0).all()
        assert "reverse-keyed" not in res.err
    elif reverse:
        assert f"({', '.join(reverse)})" in res.err and "--reverse-score" in res.err
    # rows used: every model variable answered (listwise) or any (FIML, pairwise), per group
    present = data[ov].notna()
    used = present.any(axis=1) if o["missing"] in ("fiml", "pairwise") else present.all(axis=1)
    if "group" in opt:
        used &= data[opt["group"]].notna()
        assert sorted(prov["nobs"]) == sorted(data.loc[used, opt["group"]].value_counts().tolist())
        assert sorted(set(params["group"]) - {0}) == list(range(1, data[opt["group"]].nunique() + 1))
        assert len(prov["nobs"]) == readme_number(r"one group per country \((\d+)\)")
        equal = set(opt["group-equal"].split(","))
        partial = opt.get("group-partial", [])
        partial = {tuple(p.split()) for p in ([partial] if isinstance(partial, str) else partial)}
        for kind, op in (("loadings", "=~"), ("intercepts", "~1")):
            if kind not in equal:
                continue
            for (lhs, rhs), rows in params[params["op"] == op].groupby(["lhs", "rhs"], dropna=False):
                if op == "~1" and lhs not in ov:
                    continue  # latent means: free in all but the first group
                free_here = (lhs, op, rhs) in partial or (op == "~1" and (lhs, "~", "1") in partial)
                assert (rows["est"].nunique() > 1) == free_here, (lhs, op, rhs)
    else:
        assert prov["nobs"] == [int(used.sum())]
        if opt["args"][0] == "model.lav":  # the numbers the README states
            pattern = (r"answered at least one \((\d+)\)" if o["missing"] in ("fiml", "pairwise")
                       else r"keeps the (\d+) firms that answered every")
            assert prov["nobs"] == [readme_number(pattern)]
    if "cluster" in opt:
        assert o["cluster"] == opt["cluster"]
        clusters = data.loc[used, opt["cluster"]].nunique()
        assert clusters == readme_number(r"uses the (\d+) cluster organisations") and f"{clusters} clusters" in res.err
        assert "chisq.scaled" in fm
    if "bootstrap" in opt:
        boot = pd.read_csv(out / "bootstrap.csv")
        assert o["bootstrap"] == int(opt["bootstrap"]) and len(boot) and boot["ci.lower"].notna().all()
    if "missing-codes" in opt:
        codes = [float(c) for c in opt["missing-codes"].split(",")]
        assert o["missing_codes"] == codes
        cells = pd.read_csv(out / "cells.csv")
        assert len(cells) == int(data[ov].isin(codes).sum().sum())  # each coded cell set missing, logged
    if opt.get("growth"):
        assert o["model_type"] == "growth" and fm["df"] == 5  # lavaan's growth() on Demo.growth
        means = params[(params["op"] == "~1") & params["lhs"].isin(["i", "s"])]
        assert len(means) == 2 and (means["se"] > 0).all()
    if opt.get("estimator") == "MLR":
        assert "chisq.scaled" in fm


def check_ingest(opt: dict, res: Outcome) -> None:
    out = Path(opt["out"])
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    side = _sidecar(opt["args"][0])
    assert prov["format"] == side["format"] and prov["rows_read"] == side["n"]
    responses = pd.read_csv(out / "responses.csv", dtype={"respondent_id": str})
    for name in ("rows.csv", "cells.csv", "quality.html", "quality.md"):
        assert (out / name).is_file()
    if "key-file" in opt:  # the same key gives the same pseudonyms: HMAC-SHA256 of the raw ids
        key = Path(opt["key-file"]).read_bytes().strip()
        raw = pd.read_excel(opt["args"][0], dtype=str)["respondent_id"]
        expect = [hmac.new(key, r.encode(), hashlib.sha256).hexdigest()[:16] for r in raw]
        assert responses["respondent_id"].tolist() == expect


def check_analyze(opt: dict, res: Outcome) -> None:
    out = Path(opt["out"])
    verdicts = pd.read_csv(out / "verdicts.csv")
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert prov["command"] == "smesurvey analyze" and (out / "report.html").is_file()
    skipped = pd.read_csv(out / "skipped.csv")
    assert len(verdicts) + len(skipped) == 16 and len(verdicts)
    assert "bootstrap" not in opt or str(opt["bootstrap"]) in json.dumps(prov)
    assert (out / "publication" / "tables.docx").is_file() and (out / "publication" / "tables.tex").is_file()
    if opt.get("ordinal"):  # WLSMV, the products on MLR, the ML-vs-WLSMV table
        comp = pd.read_csv(out / "ml_vs_wlsmv.csv")
        assert prov["estimator"] == "WLSMV" and list(comp["hypothesis"]) == list(verdicts["hypothesis"])
        assert (comp["estimator.wlsmv"] == "MLR (latent products)").sum() == 4
        assert "## ML and WLSMV verdicts" in (out / "report.md").read_text(encoding="utf-8")
    else:
        assert prov["estimator"] == "MLR" and not (out / "ml_vs_wlsmv.csv").exists()
    if "plan" in opt:  # analyze --plan: the report says whether the registered plan ran unchanged
        assert prov["plan"]["statement"] in (out / "report.md").read_text(encoding="utf-8")


def check_pilot(opt: dict, res: Outcome) -> None:
    out = Path(opt["out"])
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert prov["command"] == "smesurvey pilot" and (out / "pilot.html").is_file()
    cuts = pd.read_csv(out / "pilot_cuts.csv")
    items = pd.read_csv(out / "pilot_items.csv")
    constructs = pd.read_csv(out / "pilot_constructs.csv")
    assert set(cuts["action"]) <= {"cut", "flagged, kept", "flagged"} and cuts["reasons"].notna().all()
    assert (constructs["items.after"] >= 3).all()  # never below 3 items per construct
    if "modules" in opt:
        assert set(items["module"]) <= {"M0", *opt["modules"].split(",")}
    for setting in [opt["set"]] if isinstance(opt.get("set"), str) else opt.get("set", []):
        name, value = setting.split("=")
        assert f"{name}:" in (out / "thresholds.yaml").read_text(encoding="utf-8")
    assert "suggested cuts:" in res.out


def check_export_r(opt: dict, res: Outcome) -> None:
    out = Path(opt["out"])
    models = sorted(p.stem for p in (out / "models").glob("*.lav"))
    assert (out / "fit_lavaan.R").is_file()
    assert len(models) == readme_number_in("REPRODUCING.md", r"over all (\d+) models")


def readme_number_in(doc: str, pattern: str) -> int:
    m = re.search(pattern, " ".join((ROOT / doc).read_text(encoding="utf-8").split()))
    assert m, f"{doc} no longer says {pattern!r}"
    return int(m.group(1))


def check_power(opt: dict, res: Outcome) -> None:
    out = Path(opt["out"])
    power = pd.read_csv(out / "power.csv", keep_default_na=False)  # the world "null" is not a missing value
    worlds = {"both": {"theory", "null"}}.get(opt.get("world", "theory"), {opt.get("world", "theory")})
    assert set(power["world"]) == worlds and "FAMILY" in set(power["hypothesis"])
    assert (out / "power.html").is_file() and (out / "replications.parquet").is_file()
    if "set" in opt:
        assert json.loads((out / "provenance.json").read_text())["overrides"] == {"H14": 0.3}
    if worlds == {"theory"}:
        assert (out / "power_curves.png").is_file()
        assert re.search(r"^study: (N = [\d,]+ firms for|80% power on each hypothesis is not reached by N = [\d,]+ )",
                         res.out, re.M), res.out


def check_plan(opt: dict, res: Outcome) -> None:
    out = Path(opt["out"])
    text = (out / "prereg.md").read_text(encoding="utf-8")
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert len(plan["registry_sha256"]) == 64 and plan["registry_sha256"] in text
    assert "## 7. How many observations" in text and Path(plan["power"]["folder"]) == Path(opt["power"])


CHECKS = {
    "generate": check_generate,
    "instrument export": check_export,
    "instrument info": check_info,
    "instrument languages": check_languages,
    "fit": check_fit,
    "ingest": check_ingest,
    "analyze": check_analyze,
    "pilot": check_pilot,
    "export-r": check_export_r,
    "power": check_power,
    "plan": check_plan,
}


def check_fit_api(ns: dict, res: Outcome) -> None:
    reverse = _instrument().reverse_keyed(ns["res"].partable.variables.ov)
    p = ns["res"].parameters
    assert reverse and (p.loc[(p["op"] == "=~") & p["rhs"].isin(reverse), "std.all"] > 0).all()
    assert ns["res"].options.estimator == "MLR" and "sme-intl-survey" in res.out  # summary printed
    assert ns["growth"].fit_measures["df"] == 5  # lavaan's growth() on Demo.growth


def check_auxiliary(ns: dict, res: Outcome) -> None:
    from analysis.sem.auxiliary import auxiliary_rows
    from analysis.sem.fit import fit

    aux = ns["res"]
    assert aux.options.missing == "fiml" and auxiliary_rows(aux.parameters, ["SIZE"]).any()
    plain = fit(ns["model"], ns["data"], missing="fiml", estimator="MLR")
    assert aux.fit_measures["df"] == plain.fit_measures["df"]  # saturated correlates: df unchanged


def check_ordinal_api(ns: dict, res: Outcome) -> None:
    o = ns["res_ord"].options
    assert o.estimator == "WLSMV" and len(o.ordered) == 16 and ns["res_ord"].nobs == (274,)  # listwise
    rel = ns["ordinal_reliability"](ns["res_ord"])
    assert list(rel["factor"]) == ["LE", "LV", "LC", "PEG"] and (rel["alpha.ord"] > rel["alpha"]).all()
    table = ns["inv"].table
    assert list(table["level"]) == ["configural", "thresholds", "metric", "scalar"]
    assert (table["npar"].diff().dropna() < 0).all() and ns["inv"].fits["scalar"].options.missing == "pairwise"


def check_analyze_api(ns: dict, res: Outcome) -> None:
    assert len(ns["result"].verdicts) and Path("analysis_py/verdicts.csv").is_file()
    assert Path("analysis_py/report.html").is_file() and Path("analysis_py/publication/tables.docx").is_file()


def check_pilot_api(ns: dict, res: Outcome) -> None:
    r = ns["checked"]
    assert r.thresholds.loading == 0.35 and set(r.items["module"]) <= {"M0", "M2"}
    assert Path("pilot_py/pilot.html").is_file() and len(r.times)


def check_power_api(ns: dict, res: Outcome) -> None:
    study = ns["study"]
    assert set(study.power["world"]) == {"theory", "null"} and study.settings.overrides == (("H14", 0.3),)
    assert "power study" in res.out and Path("power_py/power.html").is_file()


PYTHON_CHECKS = {"measurement_invariance": check_fit_api, "auxiliary=": check_auxiliary,
                 "ordered=True": check_ordinal_api, "analyze(data": check_analyze_api,
                 "write_pilot(": check_pilot_api, "from analysis.power import power": check_power_api}


def test_every_check_is_used():
    commands = set()
    for s in STEPS:
        if s.kind == "smesurvey" and not s.parse_only:
            commands.add(s.argv[1] if s.argv[1] != "instrument" else f"instrument {s.argv[2]}")
    assert commands == set(CHECKS)
    python = [s.text for s in STEPS if s.kind == "python"]
    assert all(sum(k in t for t in python) == 1 for k in PYTHON_CHECKS)
    assert all(sum(k in t for k in PYTHON_CHECKS) == 1 for t in python)


def test_inline_references_exist():
    """What the prose names in `code spans` exists: repository paths, make targets, `python -m` modules
    and scripts, and smesurvey commands with their options."""
    import importlib.util

    import typer.main

    from smesurvey.cli import _register, app

    _register()
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    tops = ("analysis", "instrument", "synthetic_data", "smecore", "smesurvey", "tests", "tools", "benchmarks",
            "notebooks")
    for doc in DOCS:
        prose = re.sub(r"^```.*?^```", "", (ROOT / doc).read_text(encoding="utf-8"), flags=re.S | re.M)
        for span in set(re.findall(r"`([^`\n]+)`", prose)):
            words = span.split()
            if len(words) == 1 and span.split("/")[0] in tops and "/" in span:
                pattern = span.split("<")[0].rstrip("/*") + "*"  # notebooks/01_instrument(.ipynb), lavaan*/
                assert list(ROOT.glob(pattern)), f"{doc}: `{span}` does not exist"
            elif words[0] == "make":
                assert re.search(rf"^{re.escape(words[1])}:", makefile, flags=re.M), f"{doc}: `{span}`"
            elif words[:2] == ["python", "-m"]:
                assert importlib.util.find_spec(words[2]), f"{doc}: `{span}`"
            elif words[0] == "python":
                assert (ROOT / words[1]).is_file(), f"{doc}: `{span}`"
            elif words[0] == "smesurvey" and len(words) > 1:
                cmd, names = typer.main.get_command(app), words[1:]
                while hasattr(cmd, "commands") and names and names[0] in cmd.commands:
                    cmd, names = cmd.commands[names[0]], names[1:]
                assert not hasattr(cmd, "commands"), f"{doc}: `{span}` names no command"
                known = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)}
                assert {w.split("=")[0] for w in names if w.startswith("--")} <= known, f"{doc}: `{span}`"
