"""The report's words for the engine's names: verdicts, methods, proof rewritings, kinds of aligned terms."""
from __future__ import annotations

from derive.rules import Method, Status

VERDICT = {Status.AGREES: r"\agrees", Status.DIFFERS: r"\differs", Status.TRUNCATED: r"\truncatedonly",
           Status.UNDECIDED: r"\undecided"}
VERDICT_PLAIN = {Status.AGREES: "agree", Status.DIFFERS: "differ", Status.TRUNCATED: "agree when truncated",
                 Status.UNDECIDED: "undecided"}  # the plural; one claim "agrees", "differs"
VERDICT_ONE = {Status.AGREES: "agrees", Status.DIFFERS: "differs", Status.TRUNCATED: "agrees when truncated",
               Status.UNDECIDED: "undecided"}
METHOD = {Method.SYMBOLIC: "proved symbolically", Method.CERTIFICATE: "certified by validated arithmetic",
          Method.NUMERIC: "decided numerically", Method.EXPERIMENT: "decided by an experiment",
          Method.NONE: "nothing decided it within the budget"}

# derive.verify.proof._is_zero: the rewriting that reduced the difference to 0.
PROOF_STEP = {
    "structural": "the two sides are the same expression",
    "expand": "expanding the difference gave 0",
    "cancel": "putting the difference over one denominator and cancelling gave 0",
    "simplify": "SymPy's simplify, with \\ensuremath{\\sigma} and tanh written as exponentials, reduced the "
                "difference to 0",
}
# derive.verify.equal._proof_rewritings: what the difference was rewritten into before that step.
PROOF_FORM = {
    "adjoints expanded": "after each adjoint \\ensuremath{\\delta} was expanded into its chain-rule sum",
    "gates as σ/tanh of pre-activations": "after each gate was written as \\ensuremath{\\sigma} or tanh of its "
                                          "pre-activation",
    "in leaves": "after every quantity was written in the parameters, the inputs and the earliest state",
}


def proof_in_words(rewriting: str) -> str:
    """'expand, adjoints expanded, in leaves' -> 'expanding the difference gave 0, after ...' (LaTeX)."""
    from derive.report.latex import escape

    step, *forms = [part.strip() for part in rewriting.split(",")]
    words = [PROOF_STEP.get(step, escape(step))]
    words += [PROOF_FORM.get(form, escape(form)) for form in forms]
    return ", ".join(words)


TERM_KIND = {
    "agrees": r"\textcolor{agreescolor}{\ensuremath{\checkmark}\,same}",
    "wrong factor": r"\textcolor{differscolor}{\ensuremath{\times}\,wrong factor}",
    "missing": r"\textcolor{differscolor}{\ensuremath{-}\,missing}",
    "extra": r"\textcolor{differscolor}{\ensuremath{+}\,extra}",
}
