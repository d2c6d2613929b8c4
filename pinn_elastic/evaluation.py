"""Fields in physical units at evaluation points, and errors against the exact solution."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .derivatives import autograd_jet
from .field import DisplacementField
from .materials import Material
from .mechanics import strain, stress, von_mises
from .problem import Problem
from .scaling import Scales


@dataclass
class Fields:
    """Physical fields at ``M`` points: 2D bodies get full 3x3 tensors (out-of-plane filled)."""

    displacement: np.ndarray  # (M, d)
    strain: np.ndarray  # (M, 3, 3)
    stress: np.ndarray  # (M, 3, 3)

    @property
    def von_mises(self) -> np.ndarray:
        return von_mises(torch.from_numpy(self.stress)).numpy()


def fields_from(grad_u: Tensor, displacement: Tensor, material: Material) -> Fields:
    """Complete the fields from the in-plane displacement gradient (float64)."""
    dim = displacement.shape[1]
    lam, mu = material.lame(dim)
    eps, sig = strain(grad_u), stress(grad_u, lam, mu)
    if dim == 2:
        full_eps = torch.zeros(len(eps), 3, 3, dtype=eps.dtype)
        full_sig = torch.zeros_like(full_eps)
        full_eps[:, :2, :2], full_sig[:, :2, :2] = eps, sig
        full_eps[:, 2, 2] = material.out_of_plane_strain_factor(dim) * (eps[:, 0, 0] + eps[:, 1, 1])
        full_sig[:, 2, 2] = material.out_of_plane_stress_factor(dim) * (sig[:, 0, 0] + sig[:, 1, 1])
        eps, sig = full_eps, full_sig
    return Fields(displacement.numpy(), eps.numpy(), sig.numpy())


def predict(
    field: DisplacementField, scales: Scales, material: Material, points: np.ndarray, chunk: int = 8192
) -> Fields:
    """The trained field at physical ``points (M, d)``, in physical units. With a modulus field
    (``field.modulus``, an inverse run's ``E(x)``; ``material`` is then at its reference ``E_0``),
    the stresses are the reference ones times ``E(x) / E_0``."""
    parameter = next(field.parameters())
    modulus = getattr(field, "modulus", None)
    values, grads, factors = [], [], []
    for start in range(0, len(points), chunk):
        x = torch.from_numpy(points[start : start + chunk]).to(parameter)
        jet = field.evaluate(scales.to_unit(x))
        values.append(jet.value.double().cpu() * scales.displacement)
        grads.append(jet.grad.double().cpu() * (scales.displacement / scales.length))
        if modulus is not None:
            factors.append(modulus.relative(scales.to_unit(x)).double().cpu())
    fields = fields_from(torch.cat(grads), torch.cat(values), material)
    if modulus is not None:
        fields.stress *= torch.cat(factors).numpy()[:, None, None]
    return fields


def exact(problem: Problem, points: np.ndarray) -> Fields:
    """The case's exact solution at ``points``; stresses by autograd through Hooke's law (of the
    material the exact field belongs to: an inverse run's true one)."""
    jet = autograd_jet(
        problem.exact_displacement, torch.from_numpy(points), hessian=False, create_graph=False
    )
    return fields_from(jet.grad, jet.value, problem.exact_material or problem.material)


def relative_l2(approx: np.ndarray, reference: np.ndarray, weights: np.ndarray) -> float:
    r""":math:`\lVert a - r\rVert_{L^2} / \lVert r\rVert_{L^2}` with quadrature ``weights``; a
    tensor-valued field uses the Frobenius norm pointwise."""
    diff = ((approx - reference) ** 2).reshape(len(weights), -1).sum(-1)
    ref = (reference**2).reshape(len(weights), -1).sum(-1)
    return float(np.sqrt((weights * diff).sum() / (weights * ref).sum()))


def error_metrics(pinn: Fields, ref: Fields, weights: np.ndarray, dim: int) -> dict[str, float]:
    """Relative L2 and max errors of displacement and (in-plane) stress."""
    s, s_ref = pinn.stress[:, :dim, :dim], ref.stress[:, :dim, :dim]
    du = np.linalg.norm(pinn.displacement - ref.displacement, axis=1)
    ds = np.linalg.norm((s - s_ref).reshape(len(s), -1), axis=1)
    return {
        "rel_l2_displacement": relative_l2(pinn.displacement, ref.displacement, weights),
        "rel_l2_stress": relative_l2(s, s_ref, weights),
        "max_error_displacement": float(du.max()),
        "max_error_stress": float(ds.max()),
        "max_displacement_exact": float(np.linalg.norm(ref.displacement, axis=1).max()),
        "max_stress_exact": float(np.linalg.norm(s_ref.reshape(len(s), -1), axis=1).max()),
    }


def probe_value(fields: Fields, quantity: str, component: int | tuple[int, int]) -> np.ndarray:
    """One component of a field at every point."""
    if quantity == "displacement":
        return fields.displacement[:, component]
    if quantity == "stress":
        i, j = component
        return fields.stress[:, i, j]
    if quantity == "von_mises":
        return fields.von_mises
    raise ValueError(f"unknown probe quantity {quantity!r}; use displacement, stress or von_mises")
