"""Diagnosis: where a derivation goes wrong, and a correction in its own notation that re-verifies.

The one-line diagnoses of the built-in claims are computed by the engine; the
table below says what a correct engine computes (as tests/expected.py does for
verdicts). The mutation suite breaks every agreeing built-in claim written in
the notation with each kind of edit, and asks the repair to find a correction
that agrees again — and never to offer one that differs.
"""
import dataclasses
import json

import pytest
from expected import A, EXPECTED

from derive import claims
from derive.notation import edits as edit_kinds
from derive.notation.parser import parse
from derive.notation.spec import context
from derive.notation.statement import question
from derive.pipeline import Progress, verify_all
from derive.rules import Status
from derive.verify import Settings
from derive.verify.repair import screen

# What is wrong with each built-in claim that differs or agrees only when truncated: a part of its summary.
SUMMARIES = {
    "arbel.tanh-remark": r"$\tanh'(\dots)$ should be $\sigma'(\dots)$",
    "arbel.D_t": r"$\sigma'(\dots)$ should be $\tanh'(\dots)$",
    "arbel.eq6": r"$\sigma'(\dots)$ should be $\tanh'(\dots)$ in $D_t$",
    "arbel.app-A": r"$h_t$ should be $h_{t-1}$",
    "arbel.app-C": r"$W_c$ should be $W_{i}$ (everywhere); $H_t$ should be $H_{t-1}$",
    "arbel.app-D": r"$\sigma(\dots)$ should be $\tanh(\dots)$",
    "arbel.eq1": "lacks 1 term of the exact result",
    "arbel.eq4-chain": r"$\sigma'(z_{c,2})$ where the exact term has $\tanh'(z_{c,2})$",
    "arbel.eq4-chain-exact-terms": "agrees for k = 2; differs for k = 3",
    "blog.dW3": "$W_3$ should be $a_{2}$",
    "blog.dW1": "$W_1$ should be $X$",
    "blog.sigmoid-strict": r"$<$ should be $\le$",
    "blog.forget-only-factor": r"the paths through $\tilde{c}_t$, $f_t$ and $i_t$ should be added",
    "blog.added-term-vanishes": r"the paths through $\tilde{c}_t$ and $i_t$ should be added",
    "blog.forget-one": r"holds only with the gates held constant",
    "cv-explode.lossless-when-f1": "holds only with the gates held constant",
    "cv-lstm.forget-product": "holds only with the gates held constant",
    "cv-lstm.original-cec-zero": "$0$ should be $1$",
    "cv-lstm.original-cec-one": "holds only with the gates held constant",
    "cv-lstm.rnn-weight-factor": "the gradient vanishes for every $|w| < 4$",
}


def test_every_claim_that_is_wrong_has_its_diagnosis(builtin_verdicts):
    wrong = {k for k, v in builtin_verdicts.items() if v.status in (Status.DIFFERS, Status.TRUNCATED)}
    assert wrong == set(SUMMARIES)
    for claim_id, verdict in builtin_verdicts.items():
        assert (verdict.diagnosis is not None) == (claim_id in SUMMARIES), claim_id


@pytest.mark.parametrize("claim_id", sorted(SUMMARIES))
def test_the_one_line_diagnosis(builtin_verdicts, claim_id):
    diagnosis = builtin_verdicts[claim_id].diagnosis
    assert SUMMARIES[claim_id] in diagnosis.summary, diagnosis.summary
    correction = diagnosis.correction
    if correction is not None:
        assert correction.status in (Status.AGREES, Status.TRUNCATED)  # re-verified, never assumed
        for start, end in correction.changed:
            assert 0 <= start < end <= len(correction.latex)
    else:
        assert diagnosis.note


def test_corrections_of_the_articles_agree_in_full(builtin_verdicts):
    for claim_id in ("arbel.D_t", "arbel.eq6", "arbel.app-A", "arbel.app-C", "arbel.app-D", "blog.dW3", "blog.dW1",
                     "blog.sigmoid-strict"):
        assert builtin_verdicts[claim_id].diagnosis.correction.status == Status.AGREES, claim_id


def test_the_json_carries_the_diagnosis_with_its_key_names(builtin_report):
    output, _ = builtin_report
    data = json.loads((output / "report.json").read_text())
    by_id = {c["id"]: c for c in data["claims"]}
    diagnosis = by_id["arbel.D_t"]["diagnosis"]
    assert set(diagnosis) == {"summary", "terms", "correction"}
    assert set(diagnosis["correction"]) == {"latex", "verdict", "edit"}
    assert diagnosis["correction"]["verdict"] == "agrees" and r"\tanh'" in diagnosis["correction"]["latex"]
    assert by_id["arbel.eq2"]["diagnosis"] is None
    assert all({"kind", "hand", "exact", "note"} == set(t) for t in by_id["arbel.eq6"]["diagnosis"]["terms"])


# -- mutation: every kind of edit, on every agreeing built-in claim of the notation -----------------------
MUTATION_KINDS = ("function", "time", "quantity", "relation", "number", "transpose", "swap", "range", "drop")
PER_KIND = 2  # mutants of each kind per claim
FAST = Settings(points=40)


def _mutants(claim) -> list:
    """Claims broken by one edit of each kind (the first PER_KIND that make it differ)."""
    spec = claim.spec
    table = context(spec).table
    matrices = spec.model is not None and spec.model.n > 1
    found = []
    for kind in MUTATION_KINDS:
        made = 0
        for edit in edit_kinds.edits(spec.formula, table, matrices):
            if edit.kind != kind or made >= PER_KIND:
                continue
            text, _ = edit.apply(spec.formula.text)
            try:
                mutant = dataclasses.replace(spec, formula=parse(text, "latex"))
            except Exception:  # noqa: BLE001 - an edit that does not parse is no mutant
                continue
            if screen(mutant, FAST).status != Status.DIFFERS:
                continue
            made += 1
            found.append(dataclasses.replace(claim, id=f"{claim.id}~{kind}{made}", spec=mutant, printed=text,
                                             build=lambda mutant=mutant: question(mutant)))
    return found


@pytest.fixture(scope="module")
def mutated():
    agreeing = [c for c in claims.load_all() if c.spec is not None and EXPECTED.get(c.id) == A]
    mutants = [m for claim in agreeing for m in _mutants(claim)]
    return verify_all(mutants, FAST, jobs=0, progress=Progress(0))


def test_there_are_enough_mutants_of_every_kind(mutated):
    assert len(mutated) >= 80
    kinds = {claim.id.split("~")[1].rstrip("0123456789") for claim, _ in mutated}
    assert {"function", "time", "quantity", "drop"} <= kinds


def test_mutants_are_repaired_and_no_correction_differs(mutated):
    repaired = 0
    for claim, verdict in mutated:
        assert verdict.status in (Status.DIFFERS, Status.TRUNCATED), claim.id
        correction = verdict.diagnosis.correction
        if correction is not None:
            assert correction.status in (Status.AGREES, Status.TRUNCATED), (claim.id, correction)
            repaired += 1
    assert repaired >= 0.9 * len(mutated), f"{repaired} of {len(mutated)} mutants repaired"
