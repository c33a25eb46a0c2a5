"""``smesurvey power`` and ``smesurvey plan``: options checked before any work (one line, exit 2, the
package's error code), and the preregistration that ``analyze --plan`` checks."""

from __future__ import annotations

import json
import re

import pytest

from analysis.power.plan import check_plan, read_plan, write_plan
from smecore.errors import DataError
from smesurvey.cli import main


@pytest.mark.parametrize("args, message", [
    (["--n", "1500:100:100"], r"error \[SME010\]: --n '1500:100:100': START:STOP:STEP needs STOP >= START"),
    (["--n", "5"], r"--n: sample sizes must lie between 20"),
    (["--hypotheses", "H1,H99"], r"--hypotheses: unknown hypothesis H99"),
    (["--set", "H14"], r"--set 'H14': give TAG=VALUE"),
    (["--set", "H10=0.2"], r"--set H10: names 4 paths of different sizes; name one"),
    (["--set", "H14=2"], r"strictly between -1 and 1"),
    (["--world", "alt"], r"--world must be one of theory, null, both"),
    (["--reps", "0"], r"--reps must be a positive whole number"),
    (["--bootstrap", "10"], r"--bootstrap must be 0 .* or at least 100"),
    (["--workers", "0"], r"--workers must be a positive whole number"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], r"not both"),
])
def test_bad_options_refused_before_work(tmp_path, capsys, args, message):
    out = tmp_path / "p"
    rc = main(["power", "--out", str(out), *args])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert len(err.strip().splitlines()) == 1 and re.search(message, err), err
    assert not (out / "chunks").exists() or not list((out / "chunks").iterdir())


def test_power_into_another_commands_folder_refused(tmp_path, capsys):
    (tmp_path / "provenance.json").write_text(json.dumps({"command": "smesurvey fit"}), encoding="utf-8")
    assert main(["power", "--out", str(tmp_path), "--reps", "1", "--n", "100"]) == 2
    assert "holds the outputs of `smesurvey fit`" in capsys.readouterr().err


def test_plan_and_its_check(tmp_path):
    paths = write_plan(tmp_path / "plan", n=400)
    text = paths[0].read_text(encoding="utf-8")
    plan = json.loads(paths[1].read_text(encoding="utf-8"))
    for question in ("1. Have any data been collected", "2. What's the main question", "3. Describe the key dependent",
                     "4. How many and which conditions", "5. Specify exactly which analyses",
                     "6. Describe exactly how outliers", "7. How many observations"):
        assert question in text
    assert plan["n"] == 400 and plan["adjust"] == "holm" and len(plan["instrument_sha256"]) == 64
    assert "N = 400 firms" in text and plan["registry_sha256"] in text
    assert read_plan(paths[0]) == plan  # the plan embedded in prereg.md
    same = check_plan(paths[1], {"alpha": 0.05, "bootstrap": plan["bootstrap"], "monte_carlo": plan["monte_carlo"]})
    assert same["unchanged"] and "ran the registered plan (plan.json) unchanged" in same["statement"]
    other = check_plan(paths[0], {"alpha": 0.05, "bootstrap": 200, "monte_carlo": plan["monte_carlo"]})
    assert not other["unchanged"] and "bootstrap: planned 2000, ran 200" in other["statement"]
    ordinal = check_plan(paths[1], {"alpha": 0.05, "bootstrap": plan["bootstrap"], "monte_carlo": plan["monte_carlo"],
                                    "estimator": "WLSMV", "missing": "pairwise"})  # analyze --ordinal
    assert not ordinal["unchanged"] and ordinal["differences"] == ["estimator: planned 'MLR', ran 'WLSMV'",
                                                                   "missing: planned 'fiml', ran 'pairwise'"]
    edited = dict(plan, registry_sha256="0" * 64)
    (tmp_path / "edited.json").write_text(json.dumps(edited), encoding="utf-8")
    assert "registry_sha256: planned" in check_plan(tmp_path / "edited.json", {})["statement"]


def test_unreadable_plan_refused(tmp_path):
    (tmp_path / "prereg.md").write_text("# a plan without its machine-readable block\n", encoding="utf-8")
    with pytest.raises(DataError, match="no machine-readable plan"):
        read_plan(tmp_path / "prereg.md")
    assert main(["plan", "--out", str(tmp_path / "p"), "--n", "0"]) == 2


def test_power_command_reports_a_target_not_reached(tmp_path, capsys):
    """Two replications of H13 at N = 100 cannot reach 80% power: the CLI says so in words."""
    rc = main(["power", "--out", str(tmp_path / "p"), "--hypotheses", "H13", "--n", "100", "--reps", "2",
               "--workers", "1", "--no-recovery"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "study: 80% power on each hypothesis is not reached by N = 100 (limited by H13)" in out
    assert (tmp_path / "p" / "power.csv").exists()
