"""Probe: the forward problem of the two-phase plate with a kinked network and exact continuity.

    python benchmarks/two_phase_forward_probe.py --width 150 --scale 5 --adam 700 --lbfgs 300

The plate, inclusion and finite-element solution of ``benchmarks/inverse_field.py`` (the disc
of radius 0.2 at (0.5, 0.5), three times stiffer), with the interface and the moduli *known*:
can a network meet the two-phase equilibrium? The displacement is

    u_c = x_c ( [N_a(x), relu(phi) N_b(x)] theta_c ),   phi = (R^2 - |x - c|^2) / (2 R),

two GELU feature networks (``--width``, depth 3, first layer scaled by ``--scale``) and a
least-squares head ``theta`` solved at every step (as the engine's head), so the displacement
is continuous by construction and its gradient jumps by ``N_b theta grad(phi)`` on the circle.
The rows: the equilibrium on 2000 points of the matrix and ``--disc-points`` of the disc
(each phase weighted by its area), the tractions of the four sides, and the continuity of the
traction on 300 points of the circle. Adam, then L-BFGS on one fixed batch; autograd and
``torch.func`` derivatives in float64 (a probe, not the engine). Printed: the loss and its
terms, the relative distance from the finite-element displacement at 2000 random nodes, and
the mean ``u_x`` of the loaded edge against the finite element's. Measured on 2026-11-27
(``benchmarks/results/inverse/level_set_probes.md``): 0.14 % after 700 + 300 steps, 22 min.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.func import jacfwd, vmap

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inverse_field import CASE, _yaml, relative_modulus

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--width", type=int, default=150)
parser.add_argument("--scale", type=float, default=5.0)
parser.add_argument("--disc-points", type=int, default=800)
parser.add_argument("--adam", type=int, default=700)
parser.add_argument("--lbfgs", type=int, default=300)
parser.add_argument("--ratio", type=float, default=3.0, help="the disc's modulus over the matrix's")
args = parser.parse_args()

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
from pinn_elastic.case_loader import load_case  # noqa: E402
from pinn_elastic.reference.fem import solve_fem  # noqa: E402

with tempfile.TemporaryDirectory() as tmp:
    problem, _ = load_case({"name": "body", **_yaml(CASE)}, [Path(tmp)])
mesh = problem.geometry.mesh(241)
fem = solve_fem(problem, mesh, relative_modulus)
chosen = np.sort(np.random.default_rng(0).choice(len(mesh.points), size=2000, replace=False))
xd = torch.tensor(mesh.points[chosen][:, :2])
ud = torch.tensor(fem.displacement[chosen]) * 1000.0
NU = 0.3
lam0, mu0 = NU / (1 - NU**2), 1 / (2 * (1 + NU))
W, EB, SC = args.width, args.ratio, args.scale
C, R = torch.tensor([0.5, 0.5]), 0.2


def phi(x):
    return (R**2 - ((x - C) ** 2).sum(-1)) / (2 * R)  # unit slope on the circle


def dphi(x):
    return -(x - C) / R


def net():
    return nn.Sequential(nn.Linear(2, W), nn.GELU(), nn.Linear(W, W), nn.GELU(), nn.Linear(W, W), nn.GELU())


nets = [net(), net()]
for n in nets:
    with torch.no_grad():
        n[0].weight.mul_(SC)
        n[0].bias.uniform_(-SC, SC)


def raw(k, x, hess):
    def f(p):
        return torch.cat([nets[k]((2 * p - 1)[None])[0], torch.ones(1)])

    return vmap(f)(x), vmap(jacfwd(f))(x), (vmap(jacfwd(jacfwd(f)))(x) if hess else None)


F = W + 1


def jet(x, side, hess=True):
    """Side 1: the disc (the kink block active); 0: the matrix (it is zero).
    Features (N, 2F), gradients (N, 2F, 2), Hessians (N, 2F, 2, 2)."""
    Ha, Ga, HHa = raw(0, x, hess)
    if side == 0:
        Z = torch.zeros_like(Ha)
        return (
            torch.cat([Ha, Z], 1),
            torch.cat([Ga, torch.zeros_like(Ga)], 1),
            (torch.cat([HHa, torch.zeros_like(HHa)], 1) if hess else None),
        )
    Hb, Gb, HHb = raw(1, x, hess)
    p, g = phi(x)[:, None], dphi(x)  # (N,1), (N,2)
    B = p * Hb
    GB = p[:, :, None] * Gb + Hb[:, :, None] * g[:, None, :]
    HB = None
    if hess:
        lap_phi = -torch.eye(2) / R
        HB = (
            p[:, :, None, None] * HHb
            + Gb[:, :, :, None] * g[:, None, None, :]
            + g[:, None, :, None] * Gb[:, :, None, :]
            + Hb[:, :, None, None] * lap_phi
        )
    return torch.cat([Ha, B], 1), torch.cat([Ga, GB], 1), (torch.cat([HHa, HB], 1) if hess else None)


FF = 2 * F


def grad_rows(x, H, G):
    out = torch.zeros(len(x), 2, 2, 2 * FF)
    for c in range(2):
        for j in range(2):
            out[:, c, j, c * FF : (c + 1) * FF] = x[:, c : c + 1] * G[:, :, j] + (H if j == c else 0)
    return out


def stress_rows(x, H, G, m):
    D = grad_rows(x, H, G)
    exx, eyy, exy = D[:, 0, 0], D[:, 1, 1], 0.5 * (D[:, 0, 1] + D[:, 1, 0])
    c = m / (1 - NU**2)
    return c * (exx + NU * eyy), c * (eyy + NU * exx), c * (1 - NU) * exy


def navier_rows(x, H, G, HH, m):
    sec = torch.zeros(len(x), 2, 2, 2, 2 * FF)
    for c in range(2):
        for j in range(2):
            for k in range(2):
                row = x[:, c : c + 1] * HH[:, :, j, k]
                if j == c:
                    row = row + G[:, :, k]
                if k == c:
                    row = row + G[:, :, j]
                sec[:, c, j, k, c * FF : (c + 1) * FF] = row
    lap = [sec[:, c, 0, 0] + sec[:, c, 1, 1] for c in range(2)]
    gd = [sec[:, 0, 0, i] + sec[:, 1, 1, i] for i in range(2)]
    return [m * (mu0 * lap[i] + (lam0 + mu0) * gd[i]) for i in range(2)]


NO, NI, NB, NG = 2000, args.disc_points, 200, 300


def system():
    rows, rhs, names = [], [], []

    def add(r, b, w, name):
        s = math.sqrt(w / len(r))
        rows.append(r * s)
        rhs.append(b * s)
        names.append((name, len(r)))

    cand = torch.rand(2 * NO, 2)
    out = cand[phi(cand) <= 0][:NO]
    rr = R * torch.sqrt(torch.rand(NI))
    tt = torch.rand(NI) * 2 * math.pi
    inn = C + torch.stack([rr * torch.cos(tt), rr * torch.sin(tt)], 1)
    for side, pts, area, m in ((0, out, 1 - math.pi * R**2, 1.0), (1, inn, math.pi * R**2, EB)):
        H, G, HH = jet(pts, side)
        for r in navier_rows(pts, H, G, HH, m):
            add(r, torch.zeros(len(r)), area, "navier")
    s = torch.rand(NB)
    o, z = torch.ones(NB), torch.zeros(NB)
    for pts, comps in (
        (torch.stack([o, s], 1), [(0, 1.0), (2, 0.0)]),
        (torch.stack([s, o], 1), [(1, 0.0), (2, 0.0)]),
        (torch.stack([z, s], 1), [(2, 0.0)]),
        (torch.stack([s, z], 1), [(2, 0.0)]),
    ):
        H, G, _ = jet(pts, 0, False)
        st = stress_rows(pts, H, G, 1.0)
        for k2, val in comps:
            add(st[k2], torch.full((NB,), val), 1.0, "traction")
    t = torch.rand(NG) * 2 * math.pi
    n = torch.stack([torch.cos(t), torch.sin(t)], 1)
    xg = C + R * n
    Hp, Gp, _ = jet(xg, 1, False)
    Hm, Gm, _ = jet(xg, 0, False)
    sp, sm = stress_rows(xg, Hp, Gp, EB), stress_rows(xg, Hm, Gm, 1.0)
    d = [a - b for a, b in zip(sp, sm)]
    add(d[0] * n[:, :1] + d[2] * n[:, 1:], torch.zeros(NG), 1.0, "interface")
    add(d[2] * n[:, :1] + d[1] * n[:, 1:], torch.zeros(NG), 1.0, "interface")
    return torch.cat(rows), torch.cat(rhs), names


def predict(theta, x):
    inside = phi(x) > 0
    out = torch.zeros(len(x), 2)
    for side in (0, 1):
        m = inside == (side == 1)
        H, _, _ = jet(x[m], side, False)
        th = theta.reshape(2, FF)
        out[m] = x[m] * (H @ th.T)
    return out


def solve(A, b):
    Rr = torch.linalg.qr(torch.cat([A, b[:, None]], 1), mode="r").R
    n = A.shape[1]
    U, S, Vh = torch.linalg.svd(Rr[:n, :n])
    a = 1e-8
    return Vh.T @ (S / (S * S + a * a) * (U.T @ Rr[:n, n]))


def loss_and_theta():
    A, b, names = system()
    with torch.no_grad():
        theta = solve(A, b)
    r = A @ theta - b
    parts, i = {}, 0
    for name, n in names:
        parts[name] = parts.get(name, 0) + float((r[i : i + n] ** 2).sum().detach())
        i += n
    return (r**2).sum(), theta, parts


def report(tag):
    torch.manual_seed(99)
    loss, theta, parts = loss_and_theta()
    with torch.no_grad():
        u = predict(theta.detach(), xd)
        mis = ((u - ud).norm() / ud.norm()).item()
        right = xd[:, 0] > 0.98
        edge = (u[right, 0].mean().item(), ud[right, 0].mean().item())
    print(
        f"{tag}: loss {loss.item():.3e} field err {mis:.4e} edge ux {edge[0]:.4f}/{edge[1]:.4f} "
        + " ".join(f"{k} {v:.1e}" for k, v in parts.items()),
        f"t {time.time() - t0:.0f}s",
        flush=True,
    )


t0 = time.time()
report("init")
params = [p for n in nets for p in n.parameters()]
adam = torch.optim.Adam(params, 1e-3)
for step in range(args.adam):
    loss, _, _ = loss_and_theta()
    adam.zero_grad()
    loss.backward()
    adam.step()
    if step % 50 == 49:
        report(f"adam {step + 1}")
LB = args.lbfgs
if LB:
    lb = torch.optim.LBFGS(
        params,
        lr=1,
        max_iter=LB,
        history_size=50,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-14,
        tolerance_change=1e-16,
    )

    def closure():
        torch.manual_seed(1234)
        lb.zero_grad()
        loss, _, _ = loss_and_theta()
        loss.backward()
        return loss

    lb.step(closure)
    report("lbfgs")
