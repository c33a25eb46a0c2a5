import numpy as np
import pytest

from smecore.errors import DefinitionError
from synthetic_data.system import Equation, Term, build_system, simulate


def small_system():
    eqs = [Equation("M", (Term(("X",), 0.4), Term(("X", "Z"), 0.2)), icc=0.05),
           Equation("Y", (Term(("M",), 0.3), Term(("Z", "Z"), -0.15), Term(("X",), 0.1)), icc=0.1)]
    return build_system(["X", "Z", "W"], {("X", "Z"): 0.3, ("Z", "W"): 0.2}, eqs, {"W": 0.1})


def test_exact_moments_closed_form():
    s = small_system()
    c = s.covariance
    assert np.allclose(np.diag(c), 1.0)
    # Cov(M, X) = .4 (products of normals are uncorrelated with linear terms)
    assert c.loc["M", "X"] == pytest.approx(0.4)
    # Cov(Z, W) shrinks by sqrt(1 - icc_W) because W's cluster part is independent
    assert c.loc["Z", "W"] == pytest.approx(0.2 * np.sqrt(0.9))
    # Var of the systematic part of M: .16 + .04 Var(XZ) with Var(XZ) = 1 + rho^2
    assert s.residual_sd["M"] ** 2 == pytest.approx(1 - 0.16 - 0.04 * 1.09 - 0.05)


def test_simulation_reproduces_the_exact_covariance():
    s = small_system()
    rng = np.random.default_rng(1)
    n = 200_000
    cl = rng.integers(0, 5000, n)
    d = simulate(s, n, cl, 5000, rng)
    assert np.abs(d.cov().to_numpy() - s.covariance.to_numpy()).max() < 0.02
    assert np.abs(d.mean().to_numpy()).max() < 0.02


def test_errors_name_the_problem():
    with pytest.raises(DefinitionError, match="explain .* of its variance"):
        build_system(["X"], {}, [Equation("Y", (Term(("X",), 1.2),), source="m.yaml: equations.Y")])
    with pytest.raises(DefinitionError, match="circular"):
        build_system(["X"], {}, [Equation("A", (Term(("B",), 0.2),)), Equation("B", (Term(("A",), 0.2),))])
    with pytest.raises(DefinitionError, match=r"\['Q'\]"):
        build_system(["X"], {}, [Equation("A", (Term(("Q",), 0.2),))])
    with pytest.raises(DefinitionError, match="not positive"):
        build_system(["A", "B", "C"], {("A", "B"): 0.9, ("A", "C"): 0.9, ("B", "C"): -0.9}, [])
    with pytest.raises(DefinitionError, match="nonlinear part"):
        build_system(["X", "Z"], {}, [Equation("M", (Term(("X", "Z"), 0.2),)),
                                      Equation("Y", (Term(("M", "X"), 0.2),))])
