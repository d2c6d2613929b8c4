"""Probe: identify the inclusion of ``inverse_field.py`` as a sharp two-phase interface.

    python benchmarks/inverse_field.py --run-dir /tmp/smooth          # the field mode's E(x)
    python benchmarks/inclusion_identification_probe.py --smooth-run /tmp/smooth \
        [--width 150] [--rounds 200,100,100,100] [--gauss-newton 4]

The plate, the finite-element data (2000 nodes, seed 0) and the truth of
``benchmarks/inverse_field.py``. The body is modelled as two phases: an ellipse
``(x - c)^T M (x - c) < 1`` with ``M = L L^T`` (``L`` lower triangular with a positive
diagonal: no angle, so a near-circle is not a singular point of the parameters) of modulus
``E_b``, in a matrix of modulus ``E_a``; seven unknowns. The start is read off the field
mode's ``E(x)`` (``--smooth-run``, its ``fields.vtu``): the region above 30 % of the way from
its 5th percentile to its maximum gives the centre and the axes (second moments), the means
inside and outside give ``E_b`` and ``E_a``.

The displacement is continuous by construction, ``u_c = g_c + phi_c (N_a + relu(psi) N_b)
theta_c`` (``psi`` the ellipse's level set scaled to unit slope, ``g, phi`` the case's exact
displacement conditions, ``N_a, N_b`` two GELU networks of depth 3 whose first layer is drawn
at scale 5), with the least-squares head of the engine (``lstsq.assemble``): equilibrium
rows in each phase (each scaled by its modulus), the case's tractions, and the continuity of
the traction on 300 points of the ellipse. Each round trains ``N_a, N_b`` with Adam on these
rows at the current shape, then moves the seven unknowns by Levenberg-Marquardt on the data
misfit of the physics-only field (the profile, as ``inverse/identify.py``), with the
features fixed.

Two details make the profile a smooth function of the unknowns: the points in the inclusion
are fixed points of the unit disc mapped through ``c + L^{-T} z`` (they move with the shape),
and the matrix's points are fixed but weighted by ``clamp(-psi / 0.01, 0, 1)`` (they fade out
as the ellipse reaches them). With points classified by the sign of ``psi`` instead, a step of
1e-4 changed the misfit by 1 %, and the Jacobian was useless. Printed per round: the data
misfit, the shape, the moduli, the relative L2 error of ``E(x)`` on a 401 x 401 grid of the
plate, and the time. Results: ``benchmarks/results/inverse/level_set_probes.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import meshio
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inverse_field import CASE, _yaml, nodal_weights, relative_modulus

torch.set_default_dtype(torch.float64)
from pinn_elastic.case_loader import load_case  # noqa: E402
from pinn_elastic.collocation import BoundaryTerm, Collocation, sample_collocation  # noqa: E402
from pinn_elastic.constraints import HardConstraints  # noqa: E402
from pinn_elastic.derivatives import Jet  # noqa: E402
from pinn_elastic.lstsq import _boundary_columns, _with_constant, assemble, solve  # noqa: E402
from pinn_elastic.models import MLP  # noqa: E402
from pinn_elastic.reference.fem import solve_fem  # noqa: E402
from pinn_elastic.scaling import characteristic_scales  # noqa: E402
from pinn_elastic.taylor import feature_jet  # noqa: E402

RIDGE, FADE, INTERFACE_POINTS, STEP = 1e-8, 0.01, 300, 1e-6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smooth-run", type=Path, help="a run folder of inverse_field.py (its fields.vtu)")
    parser.add_argument("--start", help="cx,cy,a,b,angle_deg,E_a,E_b instead of --smooth-run")
    parser.add_argument("--width", type=int, default=150)
    parser.add_argument("--rounds", default="200,100,100,100", help="Adam steps of each round")
    parser.add_argument("--gauss-newton", type=int, default=4, help="iterations per round")
    parser.add_argument("--final-lbfgs", type=int, default=0, help="L-BFGS iterations at the last shape")
    parser.add_argument("--final-gauss-newton", type=int, default=8)
    parser.add_argument("--matrix-points", type=int, default=2500)
    parser.add_argument("--inclusion-points", type=int, default=800)
    args = parser.parse_args()
    if (args.smooth_run is None) == (args.start is None):
        parser.error("give exactly one of --smooth-run DIR and --start cx,cy,a,b,angle_deg,E_a,E_b")
    torch.manual_seed(0)
    probe = Probe(args.width, args.matrix_points, args.inclusion_points)
    start = [float(v) for v in args.start.split(",")] if args.start else start_from(args.smooth_run)
    p = probe.unknowns(*start)
    t0 = time.perf_counter()
    optimiser = torch.optim.Adam([w for n in probe.networks for w in n.parameters()], 1e-3)
    print(json.dumps({"round": "start", **probe.describe(p)}), flush=True)
    for k, steps in enumerate(int(s) for s in args.rounds.split(",")):
        loss = probe.train(p, steps, optimiser)
        p, misfit = probe.gauss_newton(p, args.gauss_newton)
        row = {"round": k, "adam": steps, "physics_loss": loss, "data_misfit": misfit, **probe.describe(p)}
        print(json.dumps({**row, "seconds": round(time.perf_counter() - t0, 1)}), flush=True)
    if args.final_lbfgs:
        loss = probe.converge(p, args.final_lbfgs)
        p, misfit = probe.gauss_newton(p, args.final_gauss_newton)
        row = {"round": "final", "lbfgs": args.final_lbfgs, "physics_loss": loss, "data_misfit": misfit}
        row = {**row, **probe.describe(p), "seconds": round(time.perf_counter() - t0, 1)}
        print(json.dumps(row), flush=True)


def start_from(run: Path) -> list[float]:
    """Centre, axes, angle and the two moduli read off a field-mode run's ``E(x)``."""
    fields = meshio.read(run / "fields.vtu")
    x = np.asarray(fields.points)[:, :2]
    E = np.asarray(fields.point_data["youngs_modulus"]).reshape(-1)
    low = np.percentile(E, 5)
    inside = low + 0.3 * (E.max() - low) < E
    centre = x[inside].mean(0)
    d = x[inside] - centre
    values, vectors = np.linalg.eigh(d.T @ d / inside.sum())  # a uniform ellipse: a^2 / 4
    axes = 2 * np.sqrt(values)
    angle = math.degrees(math.atan2(vectors[1, 1], vectors[0, 1]))
    return [*centre, axes[1], axes[0], angle, E[~inside].mean(), E[inside].mean()]


class Probe:
    def __init__(self, width: int, n_matrix: int, n_inclusion: int) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            problem, _ = load_case({"name": "body", **_yaml(CASE)}, [Path(tmp)])
        mesh = problem.geometry.mesh(241)
        fem = solve_fem(problem, mesh, relative_modulus)
        chosen = np.sort(np.random.default_rng(0).choice(len(mesh.points), size=2000, replace=False))
        generator = torch.Generator().manual_seed(0)
        self.problem, self.scales = problem, characteristic_scales(problem, generator)
        interior_probe = problem.geometry.sample_interior(
            4096, torch.Generator().manual_seed(0), torch.float64
        )
        self.constraints = HardConstraints(problem, self.scales, interior_probe)
        self.base = sample_collocation(
            problem, self.scales, 16, 800, generator, torch.float64, self.constraints
        )
        self.data_points = self.scales.to_unit(torch.tensor(mesh.points[chosen][:, :2]))
        self.data = torch.tensor(fem.displacement[chosen]) / self.scales.displacement
        self.data_lift, self.data_factor = self.constraints.jets(self.data_points, hessian=False)
        lam, mu = problem.material.lame(2)
        self.lam, self.mu = lam / self.scales.modulus, mu / self.scales.modulus
        body_area = float(nodal_weights(mesh.points, mesh.cells).sum())  # the body's, not its box's
        self.area = body_area / self.scales.length**2
        self.matrix_points = self.scales.to_unit(
            problem.geometry.sample_interior(n_matrix, generator, torch.float64)
        )
        r = torch.sqrt(torch.rand(n_inclusion, generator=generator, dtype=torch.float64))
        t = 2 * math.pi * torch.rand(n_inclusion, generator=generator, dtype=torch.float64)
        self.disc = torch.stack([r * torch.cos(t), r * torch.sin(t)], 1)
        lo, hi = (self.scales.to_unit(torch.tensor(b)[None])[0] for b in problem.geometry.bounds)
        self.networks = [self._network(width, lo, hi) for _ in range(2)]

    @staticmethod
    def _network(width: int, lo: torch.Tensor, hi: torch.Tensor, scale: float = 5.0) -> MLP:
        net = MLP(2, 2, width, 3, "gelu", lo, hi)
        with torch.no_grad():
            net.hidden[0].weight.uniform_(-1, 1).mul_(scale / math.sqrt(2))
            net.hidden[0].bias.uniform_(-scale, scale)
        return net

    # the shape: p = [c_x, c_y, log L00, L10, log L11, log m_a, log m_b] in nondimensional units
    def unknowns(self, cx, cy, a, b, angle, E_a, E_b) -> torch.Tensor:
        c = self.scales.to_unit(torch.tensor([[cx, cy]]))[0]
        t = math.radians(angle)
        rotation = torch.tensor([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
        axes = torch.tensor([a, b]) / self.scales.length
        L = torch.linalg.cholesky(rotation @ torch.diag(axes**-2) @ rotation.T)
        moduli = [math.log(E / self.scales.modulus) for E in (E_a, E_b)]
        return torch.tensor([*c.tolist(), math.log(L[0, 0]), float(L[1, 0]), math.log(L[1, 1]), *moduli])

    @staticmethod
    def _cholesky(p: torch.Tensor) -> torch.Tensor:
        zero = torch.zeros((), dtype=p.dtype)
        return torch.stack([torch.stack([torch.exp(p[2]), zero]), torch.stack([p[3], torch.exp(p[4])])])

    def level_set(self, p: torch.Tensor, x: torch.Tensor) -> Jet:
        """``psi = s (1 - (x-c)^T M (x-c))`` with ``s = det(M)^{-1/4} / 2`` (unit slope on a circle)."""
        L = self._cholesky(p)
        M = L @ L.T
        s = 0.5 * torch.exp(-(p[2] + p[4]) / 2)
        y = x - p[:2]
        value = s * (1 - ((y @ M) * y).sum(-1))
        return Jet(value[:, None], (-2 * s * (y @ M))[:, None], (-2 * s * M).expand(len(x), 1, 2, 2))

    def inclusion_points(self, p: torch.Tensor) -> torch.Tensor:
        return p[:2] + self.disc @ torch.linalg.inv(self._cholesky(p))

    def interface(self, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Points, outward normals and arc-length weights (summing to 1) on the ellipse."""
        t = torch.arange(INTERFACE_POINTS) * 2 * math.pi / INTERFACE_POINTS
        L = self._cholesky(p)
        inverse = torch.linalg.inv(L)
        x = p[:2] + torch.stack([torch.cos(t), torch.sin(t)], 1) @ inverse
        normal = (x - p[:2]) @ (L @ L.T)
        arc = (torch.stack([-torch.sin(t), torch.cos(t)], 1) @ inverse).norm(dim=1)
        return x, normal / normal.norm(dim=1, keepdim=True), arc / arc.sum()

    def features(self, x: torch.Tensor, hessian: bool) -> tuple[Jet, Jet]:
        return tuple(_with_constant(feature_jet(n, x, hessian)) for n in self.networks)

    def system(
        self, p: torch.Tensor, matrix_jets=None, boundary_jets=None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Rows ``A theta ~= b`` of the physics (no data) at the shape ``p``; given jets at the
        matrix and boundary points are reused (the features fixed)."""
        inner = self.inclusion_points(p)
        x = torch.cat([self.matrix_points, inner])
        n_matrix = len(self.matrix_points)
        lift, factor = self.constraints.jets(x, hessian=True)
        colloc = replace(self.base, interior=x, interior_constraint=(lift, factor))
        psi = self.level_set(p, x)
        on = (torch.arange(len(x)) >= n_matrix).to(x.dtype)[:, None]  # the kink block in the inclusion only
        kink = Jet(psi.value * on, psi.grad * on[..., None], psi.hess * on[..., None, None])
        fade = torch.clamp(-psi.value[:n_matrix, 0] / FADE, 0, 1)
        inclusion_area = math.pi * torch.exp(-(p[2] + p[4]))
        weights = torch.cat([fade * self.area / n_matrix, (inclusion_area / len(inner)).expand(len(inner))])
        m_a, m_b = torch.exp(p[5]), torch.exp(p[6])
        m = torch.cat([m_a.expand(n_matrix), m_b.expand(len(inner))])
        modulus = (m * (weights * len(x)).sqrt(), torch.zeros_like(x), m_a.expand(len(colloc.boundary)))
        colloc = replace(colloc, modulus=modulus)
        if matrix_jets is None:
            ha, hb = self.features(x, True)
        else:
            with torch.no_grad():
                inner_jets = self.features(inner, True)
            ha, hb = (_cat(a, b) for a, b in zip(matrix_jets, inner_jets))
        ba, bb = boundary_jets or self.features(colloc.boundary, False)
        boundary_kink = _relu(self.level_set(p, colloc.boundary))
        interior = _columns(ha, kink * hb)
        boundary = _columns(Jet(ba.value, ba.grad), boundary_kink * Jet(bb.value, bb.grad))
        A, b = assemble(interior, boundary, colloc, self.lam, self.mu, {})
        width = interior.value.shape[1] + 1  # assemble appends a constant: drop it, ours are in
        keep = torch.ones(2 * width, dtype=torch.bool)
        keep[[width - 1, 2 * width - 1]] = False
        A = A[:, keep]
        xg, normals, arc = self.interface(p)
        ga, gb = self.features(xg, False)
        slope = self.level_set(p, xg).grad  # (n, 1, 2)
        plus = _columns(ga, Jet(torch.zeros_like(gb.value), gb.value[..., None] * slope))
        minus = _columns(ga, Jet(torch.zeros_like(gb.value), torch.zeros_like(gb.grad)))
        _, factor_g = self.constraints.jets(xg, hessian=False)
        term = BoundaryTerm("interface", "traction", slice(0, len(xg)), (0, 1), torch.zeros(len(xg), 2))
        on_interface = Collocation(xg, None, xg, normals, [term])
        jump = m_b * _boundary_columns(plus, factor_g, on_interface, self.lam, self.mu)[0]
        jump = jump - m_a * _boundary_columns(minus, factor_g, on_interface, self.lam, self.mu)[0]
        jump = jump * arc.repeat_interleave(2)[:, None].sqrt()
        return torch.cat([A, jump]), torch.cat([b, torch.zeros(len(jump))])

    def displacement(self, p: torch.Tensor, theta: torch.Tensor, data_jets) -> torch.Tensor:
        ha, hb = data_jets
        f = _columns(ha, _relu(self.level_set(p, self.data_points)) * Jet(hb.value, hb.grad))
        theta = theta.reshape(2, -1)
        value = torch.stack([f.value @ theta[i] for i in range(2)], 1)
        return self.data_lift.value + self.data_factor.value * value

    def train(self, p: torch.Tensor, steps: int, optimiser) -> float:
        loss = torch.zeros(())
        for _ in range(steps):
            A, b = self.system(p)
            with torch.no_grad():
                theta = solve(A, b, RIDGE)
            loss = ((A @ theta - b) ** 2).sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        return loss.item()

    def converge(self, p: torch.Tensor, iterations: int) -> float:
        """L-BFGS on the networks at the shape ``p`` (the points fixed), as the forward probe ends."""
        params = [w for n in self.networks for w in n.parameters()]
        lbfgs = torch.optim.LBFGS(
            params, lr=1, max_iter=iterations, history_size=50, line_search_fn="strong_wolfe",
            tolerance_grad=1e-14, tolerance_change=1e-16,
        )  # fmt: skip

        def closure():
            lbfgs.zero_grad()
            A, b = self.system(p)
            with torch.no_grad():
                theta = solve(A, b, RIDGE)
            loss = ((A @ theta - b) ** 2).sum()
            loss.backward()
            return loss

        lbfgs.step(closure)
        return closure().item()

    def gauss_newton(self, p: torch.Tensor, iterations: int) -> tuple[torch.Tensor, float]:
        """Levenberg-Marquardt on the data misfit of the physics-only field, features fixed;
        central differences for the Jacobian. Returns the shape and the relative misfit."""
        with torch.no_grad():
            fixed = self.features(self.matrix_points, True), self.features(self.base.boundary, False)
            data_jets = self.features(self.data_points, False)

            def residual(q):
                A, b = self.system(q, *fixed)
                return (self.displacement(q, solve(A, b, RIDGE), data_jets) - self.data).flatten()

            r = residual(p)
            cost, damping, eye = float(r @ r), 1e-3, torch.eye(len(p))
            for _ in range(iterations):
                J = torch.stack([(residual(p + e) - residual(p - e)) / (2 * STEP) for e in eye * STEP], 1)
                JTJ, g = J.T @ J, J.T @ r
                while damping < 1e8:
                    step = -torch.linalg.solve(JTJ + damping * torch.diag(JTJ.diagonal()) + 1e-12 * eye, g)
                    step = step * min(1.0, 0.3 / float(step.abs().max()))
                    trial = residual(p + step)
                    if float(trial @ trial) < cost:
                        p, r, cost, damping = p + step, trial, float(trial @ trial), max(damping / 3, 1e-9)
                        break
                    damping *= 4
        return p, math.sqrt(cost) / float(self.data.norm())

    def describe(self, p: torch.Tensor) -> dict:
        L = self._cholesky(p)
        values, vectors = torch.linalg.eigh(L @ L.T)
        centre = self.scales.to_physical(p[None, :2])[0]
        E_a, E_b = (float(torch.exp(v)) * self.scales.modulus for v in p[5:])
        g = torch.linspace(0, 1, 401)
        grid = torch.stack(torch.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
        inside = self.level_set(p, self.scales.to_unit(grid)).value[:, 0] > 0
        found = torch.where(inside, E_b, E_a)
        truth = 1000.0 * relative_modulus(grid)
        return {
            "centre": [round(float(v), 4) for v in centre],
            "axes": [round(float(v), 4) for v in values.rsqrt() * self.scales.length],
            "angle_deg": round(math.degrees(math.atan2(float(vectors[1, 0]), float(vectors[0, 0]))), 1),
            "E_a": round(E_a, 1),
            "E_b": round(E_b, 1),
            "rel_l2_E": round(float((found - truth).norm() / truth.norm()), 4),
        }


def _relu(j: Jet) -> Jet:
    on = (j.value > 0).to(j.value.dtype)
    return Jet(j.value * on, j.grad * on[..., None], None if j.hess is None else j.hess * on[..., None, None])


def _cat(a: Jet, b: Jet) -> Jet:
    hess = None if a.hess is None else torch.cat([a.hess, b.hess])
    return Jet(torch.cat([a.value, b.value]), torch.cat([a.grad, b.grad]), hess)


def _columns(a: Jet, b: Jet) -> Jet:
    hess = None if a.hess is None or b.hess is None else torch.cat([a.hess, b.hess], 1)
    return Jet(torch.cat([a.value, b.value], 1), torch.cat([a.grad, b.grad], 1), hess)


if __name__ == "__main__":
    main()
