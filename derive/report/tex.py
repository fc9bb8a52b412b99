"""The LaTeX report: contents, summary table, one section per article, the models, the references.

Rendering only: every verdict and number comes from a Verdict computed
before; this module formats them. Text from claims is escaped, with the
notation's `$…$` math typeset only when it parses (derive.report.prose);
formulas are SymPy's LaTeX or the claim's printed LaTeX, displayed at the
body size and broken over rows when long (derive.report.math).
"""
from __future__ import annotations

import re
import unicodedata

from derive import models
from derive.quantity import typeset_name
from derive.report.code import cell_latex
from derive.report.diagnosis_tex import diagnosis_lines, short_summary
from derive.report.evidence_tex import evidence_lines, formula
from derive.report.latex import anchor, escape
from derive.report.order import article_order
from derive.report.prose import prose
from derive.report.words import METHOD, VERDICT, VERDICT_ONE, VERDICT_PLAIN
from derive.rules import Status

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
\definecolor{fixback}{rgb}{1.0,0.90,0.75}
\newcommand{\agrees}{\textcolor{agreescolor}{\textbf{\ensuremath{\checkmark}\,agrees}}}
\newcommand{\differs}{\textcolor{differscolor}{\textbf{\ensuremath{\times}\,differs}}}
\newcommand{\truncatedonly}{\textcolor{truncatedcolor}{\textbf{\ensuremath{\sim}\,agrees when truncated}}}
\newcommand{\undecided}{\textcolor{undecidedcolor}{\textbf{?\,undecided}}}
% The changed part of a correction: framed and tinted, so it shows in greyscale print too; in any math style.
\newcommand{\fix}[1]{\mathpalette\fixbox{#1}}
\newcommand{\fixbox}[2]{{\setlength{\fboxsep}{1pt}%
  \fcolorbox{differscolor}{fixback}{$\mathsurround=0pt #1\color{differscolor}#2$}}}
\newcommand{\field}[1]{\par\smallskip\noindent\textbf{#1}\quad}
% Long formulas are broken into aligned rows; their rows may go to the next page.
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\raggedright
\setlength{\parskip}{2pt}
\setcounter{tocdepth}{2}
"""

LITERATURE = [
    "S. Hochreiter and J. Schmidhuber. Long Short-Term Memory. Neural Computation 9(8), 1997.",
    "F. A. Gers, J. Schmidhuber and F. Cummins. Learning to Forget: Continual Prediction with LSTM. "
    "Neural Computation 12(10), 2000.",
    "K. Greff, R. K. Srivastava, J. Koutn\u00edk, B. R. Steunebrink and J. Schmidhuber. LSTM: A Search Space "
    "Odyssey. IEEE TNNLS, 2017 (arXiv:1503.04069, 2015).",
    "R. Pascanu, T. Mikolov and Y. Bengio. On the difficulty of training recurrent neural networks. ICML 2013.",
]

_INTRODUCTION = (
    r"\noindent Each claim below is a hand derivation or a statement from an article, transcribed and checked "
    r"against the exact mathematics. \agrees: the transcription equals the exact result (in the full semantics), "
    r"or the bound holds. \truncatedonly: it equals the truncated gradient but not the full one. \differs: it is "
    r"different; a counterexample is shown, and where the engine found one, the smallest correction of the "
    r"article's own formula, re-verified, with the changed part framed (\(\fix{\,\cdot\,}\)). \undecided: nothing "
    r"decided it within its budget; what was tried is shown (undecided is always better than a wrong verdict). "
    r"\emph{Symbolic}: the difference was proved to be 0, or the exact extremum of a bound was found; "
    r"\emph{certificate}: validated ball arithmetic proved a bound on every box of a cover of its domain; "
    r"\emph{numeric}: for an equality, both sides were equal at %d seeded random points with %d significant digits "
    r"(seed %d) --- a high-confidence test, not a proof --- or a counterexample point was found and confirmed; a "
    r"bound is never \agrees\ by sampling. \emph{Experiment}: the verdict rests on numbers measured by the stated "
    r"experiment. Long results are broken over rows; sub-terms that repeat are named "
    r"(\(\mathcal{T}_1, \mathcal{T}_2, \dots\)) and given after the formula.")


def _pdf_text(text: str) -> str:
    """Text for the PDF's metadata: plain characters only (hyperref reads it outside any math); an accented
    letter keeps its letter (Koutník: Koutnik)."""
    letters = "".join(c for c in unicodedata.normalize("NFKD", str(text)) if not unicodedata.combining(c))
    return re.sub(r"[^A-Za-z0-9 ,.:;()'/-]", "", letters).strip()


def _by_source(results) -> list:
    """[(source, [(claim, verdict), ...]), ...]: sources in the order first met, claims in the article's order."""
    sources: list = []
    for claim, _ in results:
        if claim.source not in sources:
            sources.append(claim.source)
    grouped = []
    for source in sources:
        pairs = {claim.id: (claim, verdict) for claim, verdict in results if claim.source == source}
        ordered = article_order([claim for claim, _ in pairs.values()])
        grouped.append((source, [pairs[claim.id] for claim in ordered]))
    return grouped


def _summary(grouped) -> str:
    rows, number = [], 0
    for source, pairs in grouped:
        rows.append(r"\multicolumn{5}{@{}l}{\textit{%s}} \\" % escape(source.title))
        for claim, verdict in pairs:
            number += 1
            rows.append(r"%d & \hyperref[%s]{\texttt{%s}} & %s & %s & %s \\" % (
                number, anchor(claim.id), escape(claim.id), VERDICT[verdict.status], escape(verdict.method),
                short_summary(verdict.diagnosis)))
    return "\n".join([
        r"\begin{longtable}{@{}r>{\raggedright\arraybackslash}p{5.0cm}>{\raggedright\arraybackslash}p{4.3cm}"
        r">{\raggedright\arraybackslash}p{1.8cm}>{\raggedright\arraybackslash}p{3.6cm}@{}}",
        r"\toprule & claim & verdict & method & what is wrong \\ \midrule \endhead",
        *rows, r"\bottomrule", r"\end{longtable}"])


def _counts(results) -> str:
    counts: dict = {}
    for _, verdict in results:
        counts[verdict.status] = counts.get(verdict.status, 0) + 1
    parts = [f"{counts.get(status, 0)} {VERDICT[status]}" for status in VERDICT]
    return f"{len(results)} claims: " + ", ".join(parts) + "."


def _section_summary(pairs) -> str:
    """An article's verdicts in a few lines: the counts, then one line per claim that is not agreed."""
    counts: dict = {}
    for _, verdict in pairs:
        counts[verdict.status] = counts.get(verdict.status, 0) + 1
    parts = ["%d %s" % (counts[status], (VERDICT_ONE if counts[status] == 1 else VERDICT_PLAIN)[status])
             for status in VERDICT if counts.get(status)]
    lines = [r"\par\smallskip\noindent\textbf{Verdicts.} %d claims: %s." % (len(pairs), ", ".join(parts))]
    flagged = [(claim, verdict) for claim, verdict in pairs if verdict.status in (Status.DIFFERS, Status.UNDECIDED)]
    if flagged:
        items = []
        for claim, verdict in flagged:
            what = short_summary(verdict.diagnosis) or prose(claim.where)
            items.append(r"\item \hyperref[%s]{\texttt{%s}} (%s): %s" % (anchor(claim.id), escape(claim.id),
                                                                       VERDICT[verdict.status], what))
        lines.append(r"\begin{itemize}\setlength{\itemsep}{0pt}" + "\n".join(items) + r"\end{itemize}")
    return "\n".join(lines)


def _claim_section(claim, verdict, figures: dict) -> str:
    title = r"\texttt{%s}" % escape(claim.id)
    lines = [r"\subsection*{%s}\label{%s}" % (title, anchor(claim.id)),
             r"\addcontentsline{toc}{subsection}{\texorpdfstring{%s\quad %s}{%s}}" % (
                 title, VERDICT[verdict.status], _pdf_text(claim.id)),
             r"\field{Where}" + prose(claim.where)]
    if claim.statement:
        lines.append(r"\field{Claim}" + prose(claim.statement))
    label = "As printed" if claim.verbatim else "Transcribed"
    lines.append(r"\field{%s}" % label + formula(claim.printed, letter="P"))
    lines.append(r"\field{Reading}" + prose(claim.reading))
    lines.append(r"\field{Verdict}%s, %s." % (VERDICT[verdict.status], METHOD[verdict.method]))
    if verdict.diagnosis is not None:
        lines.extend(diagnosis_lines(verdict.diagnosis))
    lines.extend(evidence_lines(verdict.evidence, figures, verdict.status))
    return "\n".join(lines)


def _cell(model) -> str:
    """A model's cell: its equations in aligned rows, the function's signature in words below."""
    latex = cell_latex(model)
    body = latex.removeprefix(r"\begin{array}{l}").removesuffix(r"\end{array}").strip()
    rows = [row.strip() for row in body.split(r" \\ ")]
    signature = rows.pop() if rows and rows[-1].startswith(r"\mathrm{") else ""
    aligned = []
    for row in rows:
        lhs, equals, rhs = row.partition(" = ")
        aligned.append(f"{lhs} &= {rhs}" if equals else "&" + row)
    text = "\n" + r"\begin{align*}" + "\n" + " \\\\\n".join(aligned) + "\n" + r"\end{align*}"
    if signature:
        name, _, rest = signature.partition("(")
        arguments, _, returns = rest.partition(") = ")
        text += (r"\par\noindent The function %s takes $%s$ and returns $%s$." % (
            "$" + name + "$", arguments.replace(", ", r",\allowbreak\ "), returns))
    return text


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
    return [r"\subsection{%s}" % escape(model.title),
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
        lines.append(r"\subsection{%s}" % (escape(model.title) if "$" not in model.title else model.title))
        lines.append(_cell(model))
        if model.name in _REMARKS:
            lines.append(_REMARKS[model.name])
    model = models.rnn(form="cv")
    lines.append(r"\subsection{%s}" % model.title)
    lines.append(_cell(model))
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
    """The whole report.tex for `results`, a list of (claim, verdict) pairs."""
    figures = figures or {}
    grouped = _by_source(results)
    author = "derive " + versions.get("derive", "")
    body = [PREAMBLE,
            r"\hypersetup{pdftitle={%s}, pdfauthor={%s}, pdfsubject={%s}}" % (
                _pdf_text(title), _pdf_text(author), "Hand derivations of gradients checked against exact results"),
            r"\title{%s}" % escape(title), r"\author{%s}" % escape(author), r"\date{}", r"\begin{document}",
            r"\maketitle", _INTRODUCTION % (settings.points, settings.digits, settings.seed),
            r"\par\medskip " + _counts(results), r"\tableofcontents",
            r"\section*{Summary}\addcontentsline{toc}{section}{Summary}", _summary(grouped)]
    for source, pairs in grouped:
        body.append(r"\section{%s}" % escape(source.title))
        body.append(r"\noindent %s%s." % (escape(source.author) + ", " if source.author else "", escape(source.site)))
        body.append(_section_summary(pairs))
        for claim, verdict in pairs:
            body.append(_claim_section(claim, verdict, figures))
    body += [_models_section(results), _references([source for source, _ in grouped]),
             r"\section*{Versions}\addcontentsline{toc}{section}{Versions}"
             + escape(", ".join(f"{k} {v}" for k, v in versions.items())) + ".",
             r"\end{document}", ""]
    return "\n\n".join(body)
