"""The layout's arrows point one way: every import goes to the same layer or one below.

smecore <- instrument <- synthetic_data <- analysis <- smesurvey, and inside
analysis: (pvalues, ingest) <- sem <- psychometrics <- propositions <- (report, power) <- pilot.
No module imports another module's private (underscore) names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RANK = {"smecore": 0, "instrument": 1, "synthetic_data": 2, "analysis": 3, "analysis.pvalues": 3, "analysis.ingest": 3,
        "analysis.sem": 4, "analysis.psychometrics": 5, "analysis.propositions": 6, "analysis.report": 7,
        "analysis.power": 7, "analysis.pilot": 8, "smesurvey": 9}
PACKAGES = ["smecore", "instrument", "synthetic_data", "analysis", "smesurvey"]


def layer(module: str) -> str | None:
    best = None
    for name in RANK:
        if (module == name or module.startswith(name + ".")) and (best is None or len(name) > len(best)):
            best = name
    return best


def modules():
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            yield ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"), path


def imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, [a.name for a in node.names], node.lineno
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, [], node.lineno


def test_every_package_module_is_on_a_layer():
    assert all(layer(m) for m, _ in modules())


def violations(module: str, path: Path) -> list[str]:
    own = RANK[layer(module)]
    wrong = []
    for target, names, line in imports(path):
        lay = layer(target)
        if lay is None:
            continue  # third-party or standard library
        if RANK[lay] > own:
            wrong.append(f"line {line}: imports {target} (layer {lay} is above {layer(module)})")
        private = [n for n in names if n.startswith("_") and n != "__version__"]
        if private and target != module:
            wrong.append(f"line {line}: imports private name(s) {private} from {target}")
    return wrong


@pytest.mark.parametrize(("module", "path"), list(modules()), ids=lambda x: str(x) if isinstance(x, str) else "")
def test_imports_point_down(module, path):
    assert violations(module, path) == []


def test_the_check_finds_an_upward_or_private_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from analysis.report.render import write_reports\nfrom analysis.sem.fit import _hidden\n")
    found = violations("analysis.sem.bad", bad)
    assert len(found) == 2 and "above" in found[0] and "private" in found[1]
    assert violations("analysis.report.bad", bad) == [found[1]]
