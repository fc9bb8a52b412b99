"""The LaTeX report: summary table, one section per article, the models, the references.

Rendering only: every verdict and number comes from a Verdict computed
before; this module formats them. Text from claims is escaped
(`derive.report.latex.escape`); formulas are SymPy's LaTeX or the claim's
printed LaTeX.
"""
from __future__ import annotations

from derive import models
from derive.quantity import typeset_name
from derive.report.code import cell_latex
from derive.report.evidence_tex import evidence_lines, formula
from derive.report.latex import escape
from derive.rules import Method, Status

_VERDICT = {Status.AGREES: r"\agrees", Status.DIFFERS: r"\differs", Status.TRUNCATED: r"\truncatedonly",
            Status.UNDECIDED: r"\undecided"}
_METHOD = {Method.SYMBOLIC: "proved symbolically", Method.CERTIFICATE: "certified by validated arithmetic",
           Method.NUMERIC: "decided numerically", Method.EXPERIMENT: "decided by an experiment",
           Method.NONE: "nothing decided it within the budget"}

PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{lmodern}
\usepackage[a4paper,margin=2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{graphicx}
\usepackage{array,longtable,booktabs}
\usepackage{xcolor}
\usepackage{microtype}
\usepackage{caption}
\usepackage[hidelinks]{hyperref}
\definecolor{agreescolor}{rgb}{0.0,0.42,0.16}
\definecolor{differscolor}{rgb}{0.72,0.04,0.04}
\definecolor{truncatedcolor}{rgb}{0.70,0.38,0.0}
\definecolor{undecidedcolor}{rgb}{0.25,0.30,0.60}
\newcommand{\agrees}{\textcolor{agreescolor}{\textbf{\ensuremath{\checkmark}\,agrees}}}
\newcommand{\differs}{\textcolor{differscolor}{\textbf{\ensuremath{\times}\,differs}}}
\newcommand{\truncatedonly}{\textcolor{truncatedcolor}{\textbf{\ensuremath{\sim}\,agrees when truncated}}}
\newcommand{\undecided}{\textcolor{undecidedcolor}{\textbf{?\,undecided}}}
% A display that is shrunk to the line width when it is wider, never enlarged.
\newcommand{\fitmath}[1]{\par\noindent\hfil\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{$\displaystyle #1$}\hfil\par}
\newcommand{\field}[1]{\par\smallskip\noindent\textbf{#1}\quad}
\setlength{\parindent}{0pt}
\raggedright
\setlength{\parskip}{2pt}
"""

LITERATURE = [
    "S. Hochreiter and J. Schmidhuber. Long Short-Term Memory. Neural Computation 9(8), 1997.",
    "F. A. Gers, J. Schmidhuber and F. Cummins. Learning to Forget: Continual Prediction with LSTM. "
    "Neural Computation 12(10), 2000.",
    "K. Greff, R. K. Srivastava, J. Koutn\u00edk, B. R. Steunebrink and J. Schmidhuber. LSTM: A Search Space "
    "Odyssey. IEEE TNNLS, 2017 (arXiv:1503.04069, 2015).",
    "R. Pascanu, T. Mikolov and Y. Bengio. On the difficulty of training recurrent neural networks. ICML 2013.",
]


def _anchor(claim_id: str) -> str:
    return "claim:" + "".join(ch if ch.isalnum() else "-" for ch in claim_id)


def _summary(results) -> str:
    rows = []
    for number, (claim, verdict) in enumerate(results, 1):
        rows.append(r"%d & \hyperref[%s]{\texttt{%s}} & %s & %s & %s \\" % (
            number, _anchor(claim.id), escape(claim.id), escape(claim.source.key), _VERDICT[verdict.status],
            escape(verdict.method)))
    return "\n".join([
        r"\begin{longtable}{@{}r>{\raggedright\arraybackslash}p{6.0cm}p{2.0cm}p{4.4cm}p{2.0cm}@{}}",
        r"\toprule & claim & source & verdict & method \\ \midrule \endhead",
        *rows, r"\bottomrule", r"\end{longtable}"])


def _counts(results) -> str:
    counts = {}
    for _, verdict in results:
        counts[verdict.status] = counts.get(verdict.status, 0) + 1
    parts = [f"{counts.get(status, 0)} {_VERDICT[status]}" for status in _VERDICT
             if status != Status.UNDECIDED or counts.get(status)]
    return f"{len(results)} claims: " + ", ".join(parts) + "."


def _claim_section(claim, verdict, figures: dict) -> str:
    lines = [r"\subsection*{\texttt{%s}}\label{%s}" % (escape(claim.id), _anchor(claim.id)),
             r"\field{Where}" + escape(claim.where)]
    if claim.statement:
        lines.append(r"\field{Claim}" + escape(claim.statement))
    label = "As printed" if claim.verbatim else "Transcribed"
    lines.append(r"\field{%s}" % label + formula(claim.printed))
    lines.append(r"\field{Reading}" + escape(claim.reading))
    how = "neither proved nor refuted" if verdict.status == Status.UNDECIDED else _METHOD[verdict.method]
    lines.append(r"\field{Verdict}%s, %s." % (_VERDICT[verdict.status], how))
    lines.extend(evidence_lines(verdict.evidence, figures))
    return "\n".join(lines)


BUILT_IN = (models.rnn, models.lstm_1997, models.lstm_forget, models.lstm_peephole, models.gru, models.gru_torch,
            models.ff_chain)
_REMARKS = {  # what a reader of the literature needs to know about a cell's conventions
    "gru": r"Cho et al.\ (2014) write the same cell with $z_t$ and $1 - z_t$ swapped, "
           r"$h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde{h}_t$: their update gate is $1 - z_t$ here, "
           r"so their derivatives are these with $z_t$ read as $1 - z_t$.",
    "gru_torch": r"A different function from the GRU above, not a relabelling: the reset gate multiplies "
                 r"$U_n h_{t-1} + b_{hn}$ after the matrix product (as PyTorch and cuDNN compute it), where "
                 r"Chung et al.\ multiply $h_{t-1}$ before it; $z_t$ keeps the old state, as in Cho et al.",
}


def _defined_models(results) -> list:
    """The models claims files define by their equations, once each, in report order."""
    found: dict = {}
    for claim, _ in results:
        model = getattr(claim, "model", None)
        if getattr(model, "written", None):
            found.setdefault(str(sorted(model.options.items())), model)
    return list(found.values())


def _defined_model(model) -> list:
    """A model a claims file defines: its equations as the file writes them, its states, inputs and parameters."""
    def names(items):
        return ", ".join("$%s$" % typeset_name(name) for name in items) or "none"

    matrices = {product.weight for product in model.program.products}
    shapes = ", ".join(r"$%s$ ($n \times %s$)" % (typeset_name(name), "m" if name in model.input_weights else
                                                   "n" if name in matrices else "1") for name in model.param_shapes)
    return [r"\subsection*{%s}" % escape(model.title),
            *[formula(text) for text in model.written],
            r"State carried to the next step: %s; inputs: %s; held in the truncated semantics: %s. "
            r"Parameters, as the equations use them: %s." % (names(model.state), names(model.inputs),
                                                            names(model.gates), shapes)]


def _models_section(results=()) -> str:
    lines = [r"\section{The models}",
             r"Each built-in model is one Python function of plain array code; NumPy runs it (in float64, or with "
             r"30-digit numbers for the checks), derive traces it into the SymPy equations that are "
             r"differentiated, and latexify-py renders it below from the same source. "
             r"$\odot$ is the elementwise product (\texttt{*}), juxtaposition the matrix product "
             r"(\texttt{@}), $\sigma$ the logistic function, $\phi$ the activation ($\sigma$ or $\tanh$). "
             r"A model a claims file defines is read from its equations, printed as the file writes them.",
             r"\textbf{Semantics.} \emph{Full}: every dependence on $c_{t-1}$ is differentiated, including "
             r"through $h_{t-1} = o_{t-1} \odot \tanh(c_{t-1})$ into every gate. \emph{Truncated}: gate and "
             r"cell-input activations are constants with respect to the state (the truncated gradient of "
             r"Hochreiter \& Schmidhuber and of Gers et al.); only the direct path through the cell remains. "
             r"Multi-step derivatives $\partial c_k/\partial c_s$ are the exact chain over the whole state "
             r"$(c, h)$. A GRU has the one state $h$: its truncated $\partial h_t/\partial h_{t-1}$ holds "
             r"$z_t$, $r_t$ and the candidate, which leaves $\mathrm{diag}(1 - z_t)$."]
    for builder in BUILT_IN:
        model = builder()
        lines.append(r"\subsection*{%s}" % escape(model.title.replace("$", "")) if "$" not in model.title
                     else r"\subsection*{%s}" % model.title)
        lines.append(r"\fitmath{%s}" % cell_latex(model))
        if model.name in _REMARKS:
            lines.append(_REMARKS[model.name])
    model = models.rnn(form="cv")
    lines.append(r"\subsection*{%s}" % model.title)
    lines.append(r"\fitmath{%s}" % cell_latex(model))
    for model in _defined_models(results):
        lines.extend(_defined_model(model))
    return "\n".join(lines)


def _references(sources) -> str:
    lines = [r"\section{References}", r"\subsection*{Articles checked}", r"\begin{itemize}"]
    for source in sources:
        author = escape(source.author) + ", " if source.author else ""
        lines.append(r"\item %s\emph{%s}. %s. (Claims \texttt{%s.*}.)" % (
            author, escape(source.title), escape(source.site), escape(source.key)))
    lines += [r"\end{itemize}", r"\subsection*{Literature the articles and this report rely on}", r"\begin{itemize}"]
    lines += [r"\item " + escape(entry) for entry in LITERATURE]
    lines.append(r"\end{itemize}")
    return "\n".join(lines)


def render(results, *, title: str, settings, versions: dict, figures: dict | None = None) -> str:
    """The whole report.tex for `results`, a list of (claim, verdict) pairs in report order."""
    figures = figures or {}
    sources = []
    for claim, _ in results:
        if claim.source not in sources:
            sources.append(claim.source)
    body = [PREAMBLE, r"\title{%s}" % escape(title), r"\author{derive %s}" % escape(versions.get("derive", "")),
            r"\date{}", r"\begin{document}", r"\maketitle",
            r"\noindent Each claim below is a hand derivation or a statement from an article, transcribed "
            r"and checked against the exact mathematics. \agrees: the transcription equals the exact "
            r"result (in the full semantics), or the bound holds. \truncatedonly: it equals the truncated "
            r"gradient but not the full one. \differs: it is different, and a counterexample is shown. "
            r"\undecided: nothing decided it within its budget; what was tried is shown (undecided is always "
            r"better than a wrong verdict). \emph{Symbolic}: the difference was proved to be 0, or the exact "
            r"extremum of a bound was found; \emph{certificate}: validated ball arithmetic proved a bound on "
            r"every box of a cover of its domain; \emph{numeric}: for an equality, both sides were equal at %d "
            r"seeded random points with %d significant digits (seed %d) --- a high-confidence test, not a proof "
            r"--- or a counterexample point was found and confirmed; a bound is never \agrees\ by sampling. "
            r"\emph{Experiment}: the verdict rests on numbers measured by the stated experiment." % (
                settings.points, settings.digits, settings.seed),
            r"\par\medskip " + _counts(results),
            r"\section*{Summary}", _summary(results)]
    for source in sources:
        body.append(r"\section{%s}" % escape(source.title))
        body.append(r"\noindent %s%s." % (escape(source.author) + ", " if source.author else "", escape(source.site)))
        for claim, verdict in results:
            if claim.source == source:
                body.append(_claim_section(claim, verdict, figures))
    body += [_models_section(results), _references(sources),
             r"\section*{Versions}" + escape(", ".join(f"{k} {v}" for k, v in versions.items())) + ".",
             r"\end{document}", ""]
    return "\n\n".join(body)
