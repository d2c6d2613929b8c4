"""Inverse problems: measured data are read and refused as documented, the unknowns stay
physical, exact data give back the material, and the reported uncertainty is calibrated."""

from __future__ import annotations

import copy
import json
import math
import tempfile
from dataclasses import replace
from pathlib import Path

import meshio
import numpy as np
import pytest
import torch

import pinn_elastic
from pinn_elastic.case_loader import load_case
from pinn_elastic.collocation import Collocation
from pinn_elastic.derivatives import Jet, autograd_jet
from pinn_elastic.errors import ConfigError
from pinn_elastic.inverse import MaterialUnknowns, Measurements, ProfileModel, identify, read_measurements
from pinn_elastic.inverse.field import ModulusField
from pinn_elastic.inverse.sample import sample
from pinn_elastic.inverse.setup import data_rows
from pinn_elastic.losses import loss_terms, residuals, total_loss
from pinn_elastic.lstsq import assemble, set_output_layer
from pinn_elastic.materials import Material
from pinn_elastic.mechanics import stress
from pinn_elastic.pipeline import run
from pinn_elastic.runner import Solver
from pinn_elastic.taylor import feature_jet

from .conftest import make_config

TRUTH = {"E": 1000.0, "nu": 0.3}
SMALL = (
    "train.adam_steps=200",
    "train.lbfgs_steps=100",
    "train.n_interior=1024",
    "train.n_boundary=256",
    "output.resolution=41",
    "train.polish=false",
)


def _cantilever():
    return load_case({"name": "cantilever"})[0]


def _write_csv(path, header, rows, comment=""):
    lines = ([comment] if comment else []) + [header] + [",".join(repr(float(v)) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _exact_rows(problem, n, seed, noise=0.0):
    """``n`` points in the body with the exact displacement (relative Gaussian noise)."""
    x = problem.geometry.sample_interior(n, torch.Generator().manual_seed(seed), torch.float64)
    u = problem.exact_displacement(x).numpy()
    rng = np.random.default_rng(seed)
    sigma = noise * np.abs(u)
    return x.numpy(), u + sigma * rng.standard_normal(u.shape), sigma


# --- reading and refusing data ------------------------------------------------------------


def test_csv_with_std_and_truth_is_read(tmp_path):
    problem = _cantilever()
    x, u, _ = _exact_rows(problem, 10, 0)
    rows = np.concatenate([x, u, np.full_like(u, 1e-3)], 1)
    path = _write_csv(tmp_path / "d.csv", "x,y,ux,uy,sx,sy", rows, "# truth: E=1000.0 nu=0.3")
    data = read_measurements(path, problem.geometry)
    assert data.points.shape == (10, 2) and np.allclose(data.values, u) and np.allclose(data.std, 1e-3)
    assert data.truth == {"E": 1000.0, "nu": 0.3}


def test_columns_may_come_in_any_order(tmp_path):
    problem = _cantilever()
    x, u, _ = _exact_rows(problem, 5, 1)
    path = _write_csv(tmp_path / "d.csv", "uy,x,ux,y", np.stack([u[:, 1], x[:, 0], u[:, 0], x[:, 1]], 1))
    data = read_measurements(path, problem.geometry)
    assert np.allclose(data.points, x) and np.allclose(data.values, u) and data.std is None


def test_points_on_the_surface_are_measurements(tmp_path):
    problem = _cantilever()  # the beam is [0, 4] x [-0.5, 0.5]
    path = _write_csv(tmp_path / "d.csv", "x,y,ux,uy", [[4.0, 0.5, 0, 0], [0.0, 0.0, 0, 0], [2, 0, 0, 0]])
    assert len(read_measurements(path, problem.geometry)) == 3


@pytest.mark.parametrize(
    "header, rows, message",
    [
        ("x,y,z,ux,uy,uz", [[1, 0, 0, 0, 0, 0], [2, 0, 0, 0, 0, 0]], "does not fit a 2D case"),
        ("x,y,ux", [[1, 0, 0], [2, 0, 0]], "does not fit a 2D case"),
        ("x,y,ux,uy,sx", [[1, 0, 0, 0, 1], [2, 0, 0, 0, 1]], "does not fit a 2D case"),
        ("x,y,ux,uy,temp", [[1, 0, 0, 0, 1], [2, 0, 0, 0, 1]], "does not fit a 2D case"),
        ("x,y,ux,uy", [[1, 0, 0, 0], [2, 0, float("nan"), 0]], "d.csv:3': holds a NaN"),
        ("x,y,ux,uy", [[1, 0, 0, 0], [2, 0, float("inf"), 0]], "d.csv:3': holds a NaN or an infinite"),
        ("x,y,ux,uy", [[1, 0, 0, 0], [2, 0.1, 0, 0], [1, 0, 1, 1]], "d.csv:4': repeats the point of"),
        ("x,y,ux,uy", [[1, 0, 0, 0], [5, 0, 0, 0]], "point 2 (x=5, y=0) lies outside the body"),
        ("x,y,ux,uy", [[1, 0, 0, 0], [2, 0.7, 0, 0]], "lies outside the body"),
        ("x,y,ux,uy,sx,sy", [[1, 0, 0, 0, 1, 1], [2, 0, 0, 0, 0, 1]], "standard deviation that is not > 0"),
        ("x,y,ux,uy", [[1, 0, 0, 0]], "has 1 data rows; at least 2"),
    ],
)
def test_bad_csv_is_refused_in_one_line(tmp_path, header, rows, message):
    path = _write_csv(tmp_path / "d.csv", header, rows)
    with pytest.raises(ConfigError) as err:
        read_measurements(path, _cantilever().geometry)
    text = str(err.value)
    assert text.startswith("inverse.") and message in text and "\n" not in text


def test_ragged_and_non_numeric_rows_are_refused(tmp_path):
    geometry = _cantilever().geometry
    (tmp_path / "a.csv").write_text("x,y,ux,uy\n1,0,0,0\n2,0,0\n")
    with pytest.raises(ConfigError, match=r"a.csv:3.*has 3 values; the header has 4"):
        read_measurements(tmp_path / "a.csv", geometry)
    (tmp_path / "b.csv").write_text("x,y,ux,uy\n1,0,0,0\n2,0,zero,0\n")
    with pytest.raises(ConfigError, match=r"b.csv:3.*not a number"):
        read_measurements(tmp_path / "b.csv", geometry)
    (tmp_path / "c.txt").write_text("x,y,ux,uy\n")
    with pytest.raises(ConfigError, match=r"must be a \.csv or a \.vtu"):
        read_measurements(tmp_path / "c.txt", geometry)


def test_vtu_point_array_is_read_and_a_missing_array_named(tmp_path):
    problem = _cantilever()
    x, u, _ = _exact_rows(problem, 20, 2)
    points = np.concatenate([x, np.zeros((20, 1))], 1)
    cells = [("vertex", np.arange(20)[:, None])]
    path = tmp_path / "f.vtu"
    meshio.write(path, meshio.Mesh(points, cells, point_data={"displacement": np.c_[u, np.zeros(20)]}))
    data = read_measurements(path, problem.geometry)
    assert np.allclose(data.points, x) and np.allclose(data.values, u)
    with pytest.raises(ConfigError, match=r"inverse\.array = 'u_dic': is not a point array.*displacement"):
        read_measurements(path, problem.geometry, "u_dic")


@pytest.mark.parametrize(
    "overrides, message",
    [
        (("inverse.unknowns=[E]",), "inverse.data: an inverse run needs measured data"),
        (("inverse.data=d.csv",), "inverse.data needs at least one unknown"),
        (("inverse.data=d.csv", "inverse.unknowns=[E,lam]"), "mixes E/nu with lam/mu"),
        (("inverse.data=d.csv", "inverse.unknowns=[K]"), "must be one of E, nu, lam, mu"),
        (("inverse.data=d.csv", "inverse.unknowns=[E,E]"), "names an unknown twice"),
        (("inverse.data=d.csv", "inverse.unknowns=[E]", "inverse.truth.nu=0.3"), "inverse.truth.nu"),
        (("inverse.data=d.csv", "inverse.unknowns=[E]", "inverse.start.E=nan"), "finite"),
    ],
)
def test_bad_inverse_config_is_refused(overrides, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        make_config(*overrides)


def test_missing_data_file_is_refused():
    config = make_config("inverse.data=no_such.csv", "inverse.unknowns=[E]")
    with pytest.raises(ConfigError, match=r"inverse\.data = 'no_such\.csv'"):
        Solver(config)


# --- the unknowns ---------------------------------------------------------------------------


@pytest.mark.parametrize("dim, plane", [(2, "stress"), (2, "strain"), (3, "strain")])
@pytest.mark.parametrize("names", [("E", "nu"), ("lam", "mu"), ("nu",), ("mu",)])
def test_unknowns_start_at_the_material_and_give_its_lame_constants(dim, plane, names):
    material = Material(210e3, 0.28, plane)
    unknowns = MaterialUnknowns(material, names, dim, modulus_scale=210e3)
    lam, mu = (v.detach() for v in unknowns.lame_hat())
    expected = material.lame(dim)
    assert float(lam) * 210e3 == pytest.approx(expected[0], rel=1e-12)
    assert float(mu) * 210e3 == pytest.approx(expected[1], rel=1e-12)
    assert pytest.approx(material.E, rel=1e-12) == unknowns.material().E


@pytest.mark.parametrize("names", [("E", "nu"), ("lam", "mu")])
def test_unknowns_stay_physical_for_any_raw_value(names):
    unknowns = MaterialUnknowns(Material(1.0, 0.3), names, 3, 1.0)
    for raw in torch.tensor([[-30.0, -30.0], [30.0, 30.0], [-30.0, 30.0], [30.0, -30.0], [0.0, 0.0]]):
        c = unknowns.constants(raw.double())
        assert float(c["E"]) > 0 and -1 < float(c["nu"]) < 0.5
        assert float(c["mu"]) > 0 and float(c["lam"] + 2 * c["mu"] / 3) > 0


# --- identification ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small-budget inverse training on exact data at 200 points, unknowns started 50 % off
    in E and at nu = 0.2 (the case's own E and nu, the truth, give its exact support)."""
    folder = tmp_path_factory.mktemp("inverse")
    problem = _cantilever()
    x, u, _ = _exact_rows(problem, 200, 3)
    data = _write_csv(folder / "exact.csv", "x,y,ux,uy", np.concatenate([x, u], 1), "# truth: E=1000 nu=0.3")
    config = make_config(
        f"inverse.data={data}",
        "inverse.unknowns=[E,nu]",
        "inverse.start.E=1500",
        "inverse.start.nu=0.2",
        *SMALL,
    )
    solver = Solver(config)
    solver.train()
    return solver, x, u


def test_exact_cantilever_data_give_back_E_and_nu(trained):
    solver, *_ = trained
    assert solver.truth == TRUTH
    result = solver.identify()
    assert result.identified["E"] == pytest.approx(1000.0, rel=1e-3)
    assert result.identified["nu"] == pytest.approx(0.3, rel=1e-3)
    assert pytest.approx(result.identified["E"]) == solver.problem.material.E  # the run goes on with it
    assert result.std["E"] < 1.0 and result.std["nu"] < 1e-3  # exact data: a tight interval


def _profile_models(solver, rows):
    models = []
    for seed in (11, 12):
        colloc = solver.sample(torch.Generator().manual_seed(seed), torch.float64)
        models.append(
            ProfileModel(solver.field.network, colloc, rows, solver.unknowns, {}, solver.loss.ridge)
        )
    return models


def test_reported_std_is_calibrated_and_grows_with_the_noise(trained):
    """On the trained features, 20 fixed noise seeds at 1 % relative noise: the truth lies within
    two reported standard deviations for at least 17 of 20 (95 % expected); doubling the noise
    doubles the reported deviation; without standard deviations in the file the residuals give
    about the same."""
    solver, x, u = trained
    start = solver.unknowns.raw.detach().clone()
    exact = Measurements(x, u, np.ones_like(u), "exact")
    models = _profile_models(solver, data_rows(exact, solver.scales, solver.constraints, torch.float64)[0])
    covered, stds = {"E": 0, "nu": 0}, {}
    for noise in (0.01, 0.02):
        for seed in range(20 if noise == 0.01 else 3):
            rng = np.random.default_rng(seed)
            sigma = noise * np.abs(u)
            data = Measurements(x, u + sigma * rng.standard_normal(u.shape), sigma, "noisy")
            rows, _ = data_rows(data, solver.scales, solver.constraints, torch.float64)
            for model in models:  # the same features and points: only the data change
                model.targets, model.row_weights, model.has_std = rows.targets, rows.weights, True
            with torch.no_grad():
                solver.unknowns.raw.copy_(start)
            result = identify(tuple(models), copy.deepcopy(solver.field.network))
            stds.setdefault(noise, []).append(result.std)
            if noise == 0.01:
                for name, truth in TRUTH.items():
                    covered[name] += abs(result.identified[name] - truth) <= 2 * result.std[name]
                assert result.identified["E"] == pytest.approx(1000.0, rel=0.03)
    assert covered["E"] >= 17 and covered["nu"] >= 17, covered
    # deviations stated 30x too small: a model floor widens them until chi2/dof = 1
    rng = np.random.default_rng(99)
    sigma = 0.01 * np.abs(u)
    data = Measurements(x, u + sigma * rng.standard_normal(u.shape), sigma / 30, "understated")
    rows, _ = data_rows(data, solver.scales, solver.constraints, torch.float64)
    for model in models:
        model.targets, model.row_weights, model.has_std = rows.targets, rows.weights, True
    with torch.no_grad():
        solver.unknowns.raw.copy_(start)
    result = identify(tuple(models), copy.deepcopy(solver.field.network))
    assert result.model_floor > 0 and result.chi2 / result.dof == pytest.approx(1.0, abs=0.05)
    assert abs(result.identified["E"] - 1000.0) <= 3 * result.std["E"]
    for name in TRUTH:
        ratio = np.mean([s[name] for s in stds[0.02]]) / np.mean([s[name] for s in stds[0.01][:3]])
        assert 1.8 < ratio < 2.2, (name, ratio)


def test_a_whole_inverse_run_writes_its_report(tmp_path):
    problem = _cantilever()
    x, u, _ = _exact_rows(problem, 50, 4)
    data = _write_csv(tmp_path / "d.csv", "x,y,ux,uy", np.concatenate([x, u], 1), "# truth: E=1000 nu=0.3")
    config = make_config(f"inverse.data={data}", "inverse.unknowns=[E]", "inverse.start.E=800", "train=quick")
    metrics = run(config, tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    for key in (
        "identified",
        "identified_std",
        "identified_std_method",
        "identified_rel_error",
        "data_points",
    ):
        assert key in saved, key
    assert saved["identified_rel_error"]["E"] == pytest.approx(
        abs(metrics["identified"]["E"] / 1000 - 1), abs=1e-12
    )
    assert saved["identified_rel_error"]["E"] < 1e-2
    assert (tmp_path / "run" / "identified.png").stat().st_size > 10_000
    model = pinn_elastic.load(tmp_path / "run")  # the stresses of the identified material
    assert pytest.approx(metrics["identified"]["E"], rel=1e-12) == model.material.E
    vtu = meshio.read(tmp_path / "run" / "fields.vtu")
    stress = model.stress(np.asarray(vtu.points)[:, :2])
    assert np.allclose(stress[:, 0, 1], vtu.point_data["stress"][:, 3], atol=1e-10 * np.abs(stress).max())


def test_a_support_computed_from_the_wrong_material_is_refused(tmp_path):
    """The cantilever's support is its exact field at the case's E and nu: data made with another
    material cannot be fitted, and the run says so before any work."""
    problem = _cantilever()
    x, u, _ = _exact_rows(problem, 20, 5)
    data = _write_csv(tmp_path / "d.csv", "x,y,ux,uy", np.concatenate([x, u], 1), "# truth: E=1000 nu=0.3")
    config = make_config(f"inverse.data={data}", "inverse.unknowns=[E,nu]", "case.E=1500", "train=quick")
    with pytest.raises(ConfigError, match="boundary 'left' prescribes a displacement computed from"):
        run(config, tmp_path / "run")
    assert not (tmp_path / "run" / "metrics.json").exists()


# --- the synthetic-data maker ----------------------------------------------------------------


def _fields_vtu(folder, n=400):
    rng = np.random.default_rng(0)
    points = np.c_[rng.uniform(0, 4, n), rng.uniform(-0.5, 0.5, n), np.zeros(n)]
    u = np.c_[points[:, 0] ** 2, -points[:, 1], np.zeros(n)]
    meshio.write(
        folder / "fields.vtu", meshio.Mesh(points, [("vertex", np.arange(n)[:, None])], {"displacement": u})
    )
    return points, u


def test_sample_writes_a_csv_the_reader_takes_back(tmp_path):
    points, u = _fields_vtu(tmp_path)
    text, _ = sample(tmp_path, 200, 0.0, seed=1)
    (tmp_path / "m.csv").write_text(text)
    data = read_measurements(tmp_path / "m.csv", _cantilever().geometry)
    assert len(data) == 200 and data.std is None
    index = [int(np.argmin(np.abs(points[:, :2] - p).sum(1))) for p in data.points]
    assert np.allclose(data.values, u[index, :2], rtol=0, atol=0)


@pytest.mark.parametrize("model", ["relative", "rms"])
def test_sample_noise_has_the_stated_deviation(tmp_path, model):
    points, u = _fields_vtu(tmp_path, 4000)
    text, _ = sample(tmp_path, 4000, 0.05, seed=2, model=model)
    (tmp_path / "m.csv").write_text(text)
    data = read_measurements(tmp_path / "m.csv", _cantilever().geometry)
    order = np.lexsort(points[:, :2].T[::-1]), np.lexsort(data.points.T[::-1])
    clean = u[order[0], :2]
    z = (data.values[order[1]] - clean) / data.std[order[1]]
    assert abs(z.std() - 1) < 0.05 and abs(z.mean()) < 0.05
    rms = math.sqrt(np.mean(clean**2))
    if model == "rms":
        assert np.allclose(data.std, 0.05 * rms)
    else:
        assert np.allclose(data.std[order[1]], 0.05 * np.maximum(np.abs(clean), 1e-3 * rms))


def test_sample_records_the_runs_material(tmp_path):
    _fields_vtu(tmp_path)
    (tmp_path / ".hydra").mkdir()
    (tmp_path / ".hydra" / "config.yaml").write_text("case:\n  name: cantilever\n  E: 2.0e5\n  nu: 0.25\n")
    text, truth = sample(tmp_path, 10, 0.0, seed=0)
    assert truth["E"] == 2.0e5 and truth["nu"] == 0.25 and truth["mu"] == pytest.approx(8.0e4)
    assert "# truth: E=200000.0 nu=0.25" in text


def test_sample_refuses_a_missing_array(tmp_path):
    _fields_vtu(tmp_path)
    with pytest.raises(ValueError, match="--array 'displacement_exact' is not in"):
        sample(tmp_path, 10, 0.0, seed=0, array="displacement_exact")


# --- the modulus field ---------------------------------------------------------------------


def _graded_colloc(solver, seed=0):
    """A batch with a random (non-trivial) modulus field's factors attached."""
    colloc = solver.sample(torch.Generator().manual_seed(seed), torch.float64, with_data=True)
    field = ModulusField(2, -torch.ones(2), torch.ones(2)).double()
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in field.parameters():
            p.normal_(0.0, 0.5)
    m, grad_g = field.factors(colloc.interior)
    m_boundary, _ = field.factors(colloc.boundary)
    return replace(colloc, modulus=(m.detach(), grad_g.detach(), m_boundary.detach())), field


def test_graded_residual_is_the_divergence_of_the_scaled_stress():
    """m (div sigma_0 + sigma_0 grad g) against autograd of div(m sigma_0(u)) for a smooth u."""
    field = ModulusField(2, -torch.ones(2), torch.ones(2)).double()
    with torch.no_grad():
        for p in field.parameters():
            p.normal_(0.0, 0.5)
    lam, mu = 0.6, 0.4
    x = torch.rand(50, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))

    def u(x):
        return torch.stack(
            [torch.sin(x[:, 0]) * x[:, 1] ** 2, torch.exp(0.3 * x[:, 0]) * torch.cos(x[:, 1])], 1
        )

    points = x.clone().requires_grad_(True)
    grad = torch.stack(
        [torch.autograd.grad(u(points)[:, i].sum(), points, create_graph=True)[0] for i in range(2)], 1
    )
    sigma = field.factors(points)[0][:, None, None] * stress(grad, lam, mu)
    divergence = torch.stack(
        [
            sum(
                torch.autograd.grad(sigma[:, i, j].sum(), points, retain_graph=True)[0][:, j]
                for j in range(2)
            )
            for i in range(2)
        ],
        1,
    ).detach()
    jet = autograd_jet(u, x, hessian=True, create_graph=False)
    m, grad_g = field.factors(x)
    colloc = Collocation(x, None, x[:0], x[:0], [], modulus=(m.detach(), grad_g.detach(), m[:0].detach()))
    residual = residuals(jet, Jet(x[:0, :], x[:0, :, None].expand(0, 2, 2)), colloc, lam, mu)["navier"]
    assert torch.allclose(residual.reshape(-1, 2), divergence, rtol=1e-10, atol=1e-10)


def test_graded_system_reproduces_the_graded_loss():
    problem = _cantilever()
    x, u, _ = _exact_rows(problem, 30, 6)
    config = make_config(
        "inverse.data=" + str(_write_csv(Path(tempfile.mkdtemp()) / "d.csv", "x,y,ux,uy", np.c_[x, u])),
        "inverse.field=E",
        "model.width=12",
        "model.depth=2",
        "train.n_interior=200",
        "train.n_boundary=80",
    )
    solver = Solver(config)
    colloc, _ = _graded_colloc(solver)
    net = solver.field.network
    with torch.no_grad():
        A, b = assemble(
            feature_jet(net, colloc.interior, True), feature_jet(net, colloc.boundary, False), colloc,
            solver.lam_hat, solver.mu_hat, {},
        )  # fmt: skip
    generator = torch.Generator().manual_seed(1)
    for _ in range(2):
        theta = torch.randn(A.shape[1], generator=generator, dtype=torch.float64)
        set_output_layer(net, theta)
        interior, boundary = solver.field.jets(colloc)
        loss = total_loss(
            loss_terms(residuals(interior, boundary, colloc, solver.lam_hat, solver.mu_hat)), {}
        )
        assert float(((A @ theta - b) ** 2).sum()) == pytest.approx(float(loss), rel=1e-10)


SQUARE = {
    "name": "body",
    "geometry": {"rectangle": {"lower": [0, 0], "upper": [1, 1]}},
    "E": 1000.0,
    "nu": 0.3,
    "plane": "stress",
    "conditions": [
        {"boundary": "left", "displacement": [0, None]},
        {"boundary": "bottom", "displacement": [None, 0]},
        {"boundary": "right", "traction": [1.0, 0]},
    ],
}


def _graded(x: torch.Tensor) -> torch.Tensor:
    """E(x) / E0 of the smooth test plate: 1 -> 2 across it, with a bump."""
    return 1.0 + x[:, 0] + 0.5 * torch.exp(-8 * ((x[:, 0] - 0.5) ** 2 + (x[:, 1] - 0.5) ** 2))


def test_field_mode_recovers_a_smooth_modulus_from_exact_data(tmp_path):
    pytest.importorskip("skfem")
    from pinn_elastic.reference.fem import solve_fem

    problem, _ = load_case(SQUARE)
    mesh = problem.geometry.mesh(31)
    fem = solve_fem(problem, mesh, _graded)
    chosen = np.random.default_rng(0).choice(len(mesh.points), size=400, replace=False)
    data = _write_csv(tmp_path / "d.csv", "x,y,ux,uy", np.c_[mesh.points[chosen], fem.displacement[chosen]])
    config = make_config(
        f"inverse.data={data}", "inverse.field=E",
        "train.adam_steps=200", "train.lbfgs_steps=50", "train.n_interior=512", "train.n_boundary=128",
        "output.resolution=31", "output.plots=false",
    )  # fmt: skip
    config.case = dict(SQUARE)
    metrics = run(config, tmp_path / "run")
    fields = meshio.read(tmp_path / "run" / "fields.vtu")
    found = np.asarray(fields.point_data["youngs_modulus"]).reshape(-1)
    truth = 1000.0 * _graded(torch.from_numpy(np.asarray(fields.points)[:, :2])).numpy()
    error = np.linalg.norm(found - truth) / np.linalg.norm(truth)
    start_error = np.linalg.norm(1000.0 - truth) / np.linalg.norm(truth)
    print(f"E(x) rel L2 error {error:.4f} (start {start_error:.4f})")
    assert error < 0.05 and error < start_error / 5, (error, start_error)
    assert metrics["identified_E_field"]["max"] == pytest.approx(found.max())
    model = pinn_elastic.load(tmp_path / "run")  # stresses scaled by the loaded modulus field
    stress = model.stress(np.asarray(fields.points)[:, :2])
    assert np.allclose(stress[:, 0, 0], fields.point_data["stress"][:, 0], atol=1e-10 * np.abs(stress).max())
