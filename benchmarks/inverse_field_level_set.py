"""Probe: can a two-phase level set recover the stiff inclusion of ``inverse_field.py`` sharply?

    python benchmarks/inverse_field_level_set.py --variant sharp > out.json

The same plate, inclusion and finite-element data as ``benchmarks/inverse_field.py`` (2000
random nodes of the P2 solution). The modulus is two-phase, ``E = E_a`` where ``phi < 0`` and
``E_b`` where ``phi > 0``, ``phi`` a small tanh network started at a circle of radius 0.25
about (0.46, 0.53) (the truth: 0.2 about (0.5, 0.5)) and ``E_b = 2 E_a``; the displacement
network (GELU, 3 x 64, rollers built in) takes ``(x, y, phi, rho)`` with ``rho`` a ramp in
``phi``, so that its strain can jump where the modulus does. Two ways to pose the equilibrium:

* ``band``: ``E = 1 / (c_a + (c_b - c_a) sigmoid(phi / eps))`` (a Reuss mix across a band of
  width ``eps``) and ``rho = eps softplus(phi / eps)``: the strong form everywhere, the gradient
  of ``E`` in the band, extra points in the band;
* ``sharp``: ``rho = relu(phi)``, a constant modulus on each side (the strong form without the
  modulus gradient) and the traction's continuity on points projected onto ``phi = 0``.

The displacement network is first trained with the interface held, then with it free (Adam,
autograd derivatives, float32: a probe, not the engine). Printed: the step, the loss terms,
the relative L2 error of ``E`` on the FEM's nodes, the two moduli and the inclusion's area
(truth 0.1257). Measured on 2026-11-27 (README, inverse section): in both the inclusion
shrinks to nothing within 100 free steps, since deleting the interface deletes the
equilibrium terms the displacement does not yet meet there.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inverse_field import CASE, RATIO, _yaml, relative_modulus

NU = 0.3


def mlp(inputs: int, outputs: int, width: int, depth: int, activation: type[nn.Module]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(inputs if i == 0 else width, width), activation()]
    return nn.Sequential(*layers, nn.Linear(width, outputs))


class Probe:
    def __init__(self, variant: str, eps: float, data: tuple[torch.Tensor, torch.Tensor]) -> None:
        self.variant, self.eps, (self.xd, self.ud) = variant, eps, data
        self.phi_net, self.u_net = mlp(2, 1, 32, 2, nn.Tanh), mlp(4, 2, 64, 3, nn.GELU)
        self.log_moduli = nn.Parameter(torch.tensor([0.0, math.log(2.0)]))

    def phi(self, x: torch.Tensor) -> torch.Tensor:
        return self.phi_net(2 * x - 1)[:, 0]

    def modulus(self, phi: torch.Tensor, side: int | None = None) -> torch.Tensor:
        a, b = torch.exp(self.log_moduli)
        if side is not None:
            return (b if side > 0 else a).expand_as(phi)
        if self.variant == "sharp":
            return torch.where(phi > 0, b, a)
        return 1 / (1 / a + (1 / b - 1 / a) * torch.sigmoid(phi / self.eps))

    def displacement(self, x: torch.Tensor, side: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        phi = self.phi(x)
        if side is not None:  # one side of the interface: the ramp's slope is that side's
            rho = phi if side > 0 else 0 * phi
        elif self.variant == "sharp":
            rho = torch.relu(phi)
        else:
            rho = self.eps * nn.functional.softplus(phi / self.eps)
        out = self.u_net(torch.stack([2 * x[:, 0] - 1, 2 * x[:, 1] - 1, 4 * phi, 4 * rho], 1))
        return torch.stack([x[:, 0] * out[:, 0], x[:, 1] * out[:, 1]], 1), phi

    def stress(self, x: torch.Tensor, side: int | None = None) -> tuple[torch.Tensor, ...]:
        x = x.requires_grad_(True)
        u, phi = self.displacement(x, side)
        gx, gy = (torch.autograd.grad(u[:, i].sum(), x, create_graph=True)[0] for i in range(2))
        exx, eyy, exy = gx[:, 0], gy[:, 1], 0.5 * (gx[:, 1] + gy[:, 0])
        c = self.modulus(phi, side) / (1 - NU**2)
        return x, c * (exx + NU * eyy), c * (eyy + NU * exx), c * (1 - NU) * exy

    def interface(self, count: int) -> torch.Tensor:
        candidates = torch.rand(30 * count, 2)
        with torch.no_grad():
            near = candidates[self.phi(candidates).abs() < 0.03][:count]
        for _ in range(3):  # Newton onto phi = 0
            x = near.clone().requires_grad_(True)
            phi = self.phi(x)
            g = torch.autograd.grad(phi.sum(), x)[0]
            near = (x - (phi / (g * g).sum(1).clamp_min(1e-6))[:, None] * g).detach()
        return near[((near >= 0) & (near <= 1)).all(1)]

    def interior(self, count: int) -> torch.Tensor:
        x = torch.rand(count, 2)
        if self.variant == "band":  # a quarter more in the band
            candidates = torch.rand(20 * count, 2)
            with torch.no_grad():
                band = candidates[self.phi(candidates).abs() < 4 * self.eps][: count // 4]
            x = torch.cat([x, band])
        return x

    def terms(self, count: int = 2000, edge: int = 200) -> dict[str, torch.Tensor]:
        x, sxx, syy, sxy = self.stress(self.interior(count))
        grad = [torch.autograd.grad(s.sum(), x, create_graph=True)[0] for s in (sxx, syy, sxy)]
        terms = {
            "navier": ((grad[0][:, 0] + grad[2][:, 1]) ** 2 + (grad[2][:, 0] + grad[1][:, 1]) ** 2).mean()
        }
        s, one, zero = torch.rand(edge), torch.ones(edge), torch.zeros(edge)
        sides = {  # (points, traction residual from (sxx, syy, sxy))
            "right": (torch.stack([one, s], 1), lambda a, b, c: (a - 1) ** 2 + c**2),
            "top": (torch.stack([s, one], 1), lambda a, b, c: b**2 + c**2),
            "left": (torch.stack([zero, s], 1), lambda a, b, c: c**2),
            "bottom": (torch.stack([s, zero], 1), lambda a, b, c: c**2),
        }
        terms["traction"] = sum(f(*self.stress(p)[1:]).mean() for p, f in sides.values())
        if self.variant == "sharp":
            xg = self.interface(edge)
            if len(xg):
                x = xg.clone().requires_grad_(True)
                n = torch.autograd.grad(self.phi(x).sum(), x, create_graph=True)[0]
                n = n / n.norm(dim=1, keepdim=True)
                _, a1, b1, c1 = self.stress(xg.clone(), +1)
                _, a0, b0, c0 = self.stress(xg.clone(), -1)
                jump_x = (a1 - a0) * n[:, 0] + (c1 - c0) * n[:, 1]
                jump_y = (c1 - c0) * n[:, 0] + (b1 - b0) * n[:, 1]
                terms["interface"] = (jump_x**2 + jump_y**2).mean()
        terms["data"] = 100.0 * ((self.displacement(self.xd)[0] - self.ud) ** 2).sum(1).mean()
        return terms

    def pretrain_circle(self, radius: float, centre: tuple[float, float]) -> None:
        optimiser = torch.optim.Adam(self.phi_net.parameters(), 1e-2)
        for _ in range(1500):
            x = torch.rand(2000, 2)
            target = radius - (x - torch.tensor(centre)).norm(dim=1)
            loss = ((self.phi(x) - target) ** 2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=("band", "sharp"), default="sharp")
    parser.add_argument("--eps", type=float, default=0.01, help="band: the width of the band in phi")
    parser.add_argument("--held", type=int, default=300, help="Adam steps with the interface held")
    parser.add_argument("--free", type=int, default=600, help="Adam steps with it free")
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from pinn_elastic.case_loader import load_case
    from pinn_elastic.reference.fem import solve_fem

    with tempfile.TemporaryDirectory() as tmp:
        problem, _ = load_case({"name": "body", **_yaml(CASE)}, [Path(tmp)])
    mesh = problem.geometry.mesh(241)
    fem = solve_fem(problem, mesh, relative_modulus)
    chosen = np.sort(
        np.random.default_rng(args.seed).choice(len(mesh.points), size=args.points, replace=False)
    )
    nodes = torch.tensor(mesh.points[:, :2], dtype=torch.float32)
    truth = relative_modulus(nodes.double()).float()
    data = (nodes[chosen], torch.tensor(fem.displacement[chosen], dtype=torch.float32) * 1000.0)

    torch.manual_seed(args.seed)
    probe = Probe(args.variant, args.eps, data)
    probe.pretrain_circle(0.25, (0.46, 0.53))
    records, start = [], time.perf_counter()

    def record(stage: str, step: int, terms: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            phi = probe.phi(nodes)
            error = float((probe.modulus(phi) - truth).norm() / truth.norm())
            area = float((phi > 0).float().mean())
        records.append(
            {
                "stage": stage,
                "step": step,
                **{k: float(v.detach()) for k, v in terms.items()},
                "rel_l2_E": error,
                "E_a": 1000 * math.exp(float(probe.log_moduli[0])),
                "E_b": 1000 * math.exp(float(probe.log_moduli[1])),
                "inclusion_area": area,
                "seconds": time.perf_counter() - start,
            }
        )
        print(json.dumps(records[-1]), file=sys.stderr, flush=True)

    held = torch.optim.Adam(probe.u_net.parameters(), 1e-3)
    free = torch.optim.Adam(
        [
            {"params": probe.u_net.parameters(), "lr": 1e-3},
            {"params": [*probe.phi_net.parameters(), probe.log_moduli], "lr": 3e-4},
        ]
    )
    for stage, optimiser, steps in (("held", held, args.held), ("free", free, args.free)):
        for step in range(steps):
            terms = probe.terms()
            loss = sum(terms.values())
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            if step % 100 == 0 or step == steps - 1:
                record(stage, step, terms)
    print(
        json.dumps(
            {
                "variant": args.variant,
                "eps": args.eps,
                "truth_area": math.pi * 0.04,
                "ratio": RATIO,
                "records": records,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
