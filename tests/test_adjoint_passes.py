"""Whole backward passes (Greff et al. 2015, appendix A.2): δx^t, δW, δR, δb, δp and Δ^t against torch autograd.

The peephole LSTM is written again here in PyTorch (float64), on the weights, initial state and inputs of
a 30-digit trajectory; L = Σ_{t=1}^{T} Δ^t · y^t with the binder's own Δ^t, and autograd's gradients are
compared with derive's reverse accumulation and with the verdicts of claims written in Greff's notation.
"""
import mpmath
import numpy as np
import pytest
import torch

from derive import models
from derive.errors import NotationError
from derive.notation import claimsfile
from derive.verify import Settings, points, verify
from derive.verify.adjoint_values import backward

FAST = Settings(points=6)
T = 3
HEAD = '[source]\nkey = "greff"\ntitle = "LSTM: A Search Space Odyssey"\nsite = "arXiv"\n'


def _torch_loss(trajectory, weights, n):
    p = {k: torch.tensor(np.array(v.tolist(), dtype=float), requires_grad=True) for k, v in trajectory.params.items()}
    xs = [torch.tensor(np.array(trajectory.steps[k]["x"].tolist(), dtype=float), requires_grad=True)
          for k in range(1, T + 1)]
    c = torch.tensor(np.array(trajectory.steps[0]["c"].tolist(), dtype=float))
    h = torch.tensor(np.array(trajectory.steps[0]["h"].tolist(), dtype=float))
    loss = 0
    for k, x in enumerate(xs, 1):
        z = torch.tanh(p["W_z"] @ x + p["R_z"] @ h + p["b_z"])
        i = torch.sigmoid(p["W_i"] @ x + p["R_i"] @ h + p["p_i"] * c + p["b_i"])
        f = torch.sigmoid(p["W_f"] @ x + p["R_f"] @ h + p["p_f"] * c + p["b_f"])
        c = z * i + c * f
        o = torch.sigmoid(p["W_o"] @ x + p["R_o"] @ h + p["p_o"] * c + p["b_o"])
        h = o * torch.tanh(c)
        loss = loss + (torch.tensor(np.array(weights[k].tolist(), dtype=float)) * h).sum()
    loss.backward()
    return p, xs


@pytest.mark.parametrize("n", [1, 2])
def test_reverse_accumulation_is_autograd(n):
    model = models.lstm_peephole(n=n)
    rng = np.random.default_rng(11)
    with mpmath.workdps(30):
        trajectory = points.simulate(model, T, rng)
        weights = [None] + [points.draw_decimals(rng, (n, 1), 1.0) for _ in range(T)]
        deltas, parameters = backward(model, trajectory, weights)
    p, xs = _torch_loss(trajectory, weights, n)
    for name, tensor in p.items():
        assert np.allclose(np.array(parameters[name].tolist(), dtype=float), tensor.grad.numpy(), rtol=1e-10,
                           atol=1e-12), name
    for k, x in enumerate(xs, 1):
        assert np.allclose(np.array(deltas[k]["x"].tolist(), dtype=float), x.grad.numpy(), rtol=1e-10, atol=1e-12)


def _claim(latex, values="values = { T = 3 }", n=2):
    return HEAD + f'''
[[claim]]
id = "greff.one"
where = "appendix A.2"
model = {{ name = "lstm_peephole", n = {n} }}
aliases = {{ y = "h" }}
{values}
latex = \'\'\'{latex}\'\'\'
'''


def _verdict(text):
    entry = claimsfile.read_text(text, "greff.toml").entries[0]
    assert entry.error is None, entry.error
    return verify(entry.claim.question(), FAST)


@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.parametrize("latex, status", [
    (r"\delta W_z = \sum_{t=1}^{T} \delta \bar{z}^t (x^t)^\top", "agrees"),
    (r"\delta W_z = \sum_{t=1}^{T-1} \delta \bar{z}^t (x^t)^\top", "differs"),  # the last step left out
])
def test_a_weight_gradient_at_n_1_and_2(latex, status, n):
    verdict = _verdict(_claim(latex, "values = { T = 3 }", n))
    assert verdict.status == status
    if status == "agrees":  # δW expanded over the steps of the loss by the chain rule: the sum is proved
        assert verdict.method == "symbolic" and "adjoints expanded" in verdict.evidence.proof.rewriting


@pytest.mark.parametrize("latex, status", [
    (r"\delta R_z = \sum_{t=0}^{T-1} \delta \bar{z}^{t+1} (y^t)^\top", "agrees"),
    (r"\delta b_z = \sum_{t=1}^{T} \delta \bar{z}^t", "agrees"),
    (r"\delta p_i = \sum_{t=0}^{T-1} c^t \odot \delta \bar{\imath}^{t+1}", "agrees"),
    (r"\delta p_o = \sum_{t=1}^{T} c^t \odot \delta \bar{o}^t", "agrees"),
    (r"\delta x^t = W_z^\top \delta \bar{z}^t + W_i^\top \delta \bar{\imath}^t + W_f^\top \delta \bar{f}^t "
     r"+ W_o^\top \delta \bar{o}^t", "agrees"),
    (r"\delta y^t = \Delta^t + R_z^\top \delta \bar{z}^{t+1} + R_i^\top \delta \bar{\imath}^{t+1} "
     r"+ R_f^\top \delta \bar{f}^{t+1} + R_o^\top \delta \bar{o}^{t+1}", "agrees"),
    (r"\delta y^T = \Delta^T", "agrees"),  # the last step: nothing after it
    (r"\delta y^t = \Delta^t", "differs"),  # mid-sequence, the recurrent terms are missing
])
def test_greffs_backward_pass_written_as_claims(latex, status):
    values = "" if "^t" in latex and "T" not in latex else "values = { T = 3 }"
    assert _verdict(_claim(latex, values)).status == status


def test_a_weight_gradient_needs_a_start_and_an_end():
    entry = claimsfile.read_text(_claim(r"\delta b_z = \delta \bar{z}^t", values=""), "greff.toml").entries[0]
    with pytest.raises(NotationError, match=r"values = \{ T = 3 \}"):
        entry.claim.question()


def test_an_input_adjoint_never_surfaces_as_a_raw_exception():
    """δx^t was a KeyError once; it is now an adjoint like any other, and an identity with it is proved."""
    verdict = _verdict(_claim(r"\delta x^t = \delta x^t", values=""))
    assert (verdict.status, verdict.method) == ("agrees", "symbolic")
