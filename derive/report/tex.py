"""The LaTeX report: summary table, one section per article, the models, the references.

Rendering only: every verdict and number comes from a Verdict computed
before; this module formats them. Text from claims is escaped
(`derive.report.latex.escape`); formulas are SymPy's LaTeX or the claim's
printed LaTeX.
"""
from __future__ import annotations

from derive import models
from derive.report.code import cell_latex
from derive.report.latex import escape

LONGEST_FORMULA = 2400  # characters of LaTeX; longer expressions are left to report.json

_VERDICT = {"agrees": r"\agrees", "differs": r"\differs", "agrees-when-truncated": r"\truncatedonly"}
_METHOD = {"symbolic": "proved symbolically", "numeric": "decided numerically",
           "experiment": "decided by an experiment"}

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
\newcommand{\agrees}{\textcolor{agreescolor}{\textbf{\ensuremath{\checkmark}\,agrees}}}
\newcommand{\differs}{\textcolor{differscolor}{\textbf{\ensuremath{\times}\,differs}}}
\newcommand{\truncatedonly}{\textcolor{truncatedcolor}{\textbf{\ensuremath{\sim}\,agrees when truncated}}}
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


def _formula(latex: str) -> str:
    if len(latex) > LONGEST_FORMULA:
        return (r"\emph{(an expression of %d characters of \LaTeX; it is in report.json)}" % len(latex))
    return r"\fitmath{%s}" % latex


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
    parts = [f"{counts.get(status, 0)} {_VERDICT[status]}" for status in _VERDICT]
    return f"{len(results)} claims: " + ", ".join(parts) + "."


def _number(text: str) -> str:
    """A decimal string as math: 6.61e-5 -> 6.61 \\times 10^{-5}; lists stay lists."""
    def one(part):
        part = part.strip()
        if "e" in part and part.replace("e", "").replace("-", "").replace("+", "").replace(".", "").isdigit():
            mantissa, exponent = part.split("e")
            return r"%s \times 10^{%d}" % (mantissa, int(exponent))
        return part
    return ", ".join(one(p) for p in str(text).split(","))


LONGEST_POINT = 14  # coordinates of a counterexample shown; all of them are in report.json


def _point(point: dict) -> str:
    shown = [r"$%s = %s$" % (symbol, _number(value)) for symbol, value in list(point.items())[:LONGEST_POINT]]
    if len(point) > LONGEST_POINT:
        shown.append(r"\ldots\ (%d values in all, in report.json)" % len(point))
    return ", ".join(shown)


def _equal_evidence(verdict) -> list[str]:
    evidence = verdict.evidence
    entries = evidence["semantics"]["full"].get("entries", [])
    if entries and all(len(e["hand"]) <= LONGEST_FORMULA for e in entries):
        lines = [r"\field{Engine's transcription}" + "".join(
            r"\par\noindent %s:" % escape(e["label"]) + _formula(e["hand"]) for e in entries)]
    else:
        lines = [r"\field{Engine's transcription}" + _formula(evidence["hand"])]
    for semantics, result in evidence["semantics"].items():
        title = {"full": "Exact result, full semantics",
                 "truncated": "Exact result, truncated semantics"}.get(semantics, semantics)
        lines.append(r"\field{%s}" % title + _formula(result["exact"]))
        status = "equal" if result["equal"] else "different"
        lines.append(r"\field{Compared}the transcription is \textbf{%s} to it: largest relative error "
                     r"$%s$ over %d points at %d digits (tolerance $%s$)." % (
                         status, _number(result["max_rel_err"]), evidence["points"], evidence["digits"],
                         _number(evidence["tolerance"])))
        if "entries" in result:
            cells = [r"%s: %s" % (escape(e["label"]), r"equal" if e["equal"] else
                                  r"\textbf{different} (" + escape(e["max_rel_err"]) + ")")
                     for e in result["entries"]]
            lines.append(r"\begin{itemize}\setlength{\itemsep}{0pt}" +
                         "".join(r"\item " + c for c in cells) + r"\end{itemize}")
        if "counterexample" in result:
            example = result["counterexample"]
            lines.append(r"\field{Counterexample}at " + _point(example["point"]) +
                         r": transcription $= %s$, exact $= %s$ (relative error $%s$)." % (
                             _number(example["hand"]), _number(example["exact"]), _number(example["rel_err"])))
    if evidence.get("proof"):
        lines.append(r"\field{Proof}the difference reduces to 0 by \emph{%s}." % escape(evidence["proof"]))
    if "correction" in evidence:
        lines.append(r"\field{Correction}the exact expression (full semantics) is the one above.")
    return lines


def _bound_evidence(verdict) -> list[str]:
    e = verdict.evidence
    relation = {"<=": r"\le", "<": "<", ">=": r"\ge", ">": ">"}[e["relation"]]
    lines = [r"\field{Engine's question}" + _formula(r"%s \;%s\; %s" % (e["expr"], relation, e["bound"]))]
    if "extreme" in e:
        kind = "supremum" if e["relation"] in ("<=", "<") else "infimum"
        where = _point(e["where"]) if e["where"] else "—"
        attained = "attained at " + where if e["attained"] else "approached as " + where
        lines.append(r"\field{Exact %s}$%s \approx %s$, %s." % (kind, e["extreme"], _number(e["extreme_value"]),
                                                                    attained))
    else:
        lines.append(r"\field{Search}no exact extremum could be proved; the extreme value found is $%s$, at %s, "
                     r"over %d seeded points." % (_number(e["extreme_value"]), _point(e["where"]), e["points"]))
    return lines


def _measured_table(numbers: dict) -> str:
    """Numbers named `quantity[configuration]` as a table, one row per configuration; the rest in a line."""
    plain, rows, columns = [], {}, []
    for key, value in numbers.items():
        if isinstance(value, dict):
            continue
        if key.endswith("]") and "[" in key:
            quantity, configuration = key[:-1].split("[", 1)
            rows.setdefault(configuration, {})[quantity] = value
            if quantity not in columns:
                columns.append(quantity)
        else:
            plain.append(r"%s~=~%s" % (escape(key), escape(str(value))))
    text = ", ".join(plain) + "." if plain else ""
    if rows:
        header = " & ".join([r"\textit{configuration}"] + [r"\textit{%s}" % escape(c) for c in columns])
        body = [" & ".join([escape(configuration)] + [escape(str(values.get(c, ""))) for c in columns]) + r" \\"
                for configuration, values in rows.items()]
        text += ("\n" + r"{\small\begin{longtable}{@{}l" + "r" * len(columns) + "@{}}" + header
                 + r" \\ \midrule" + "\n" + "\n".join(body) + r"\end{longtable}}")
    return text


def _experiment_evidence(verdict, figures: dict) -> list[str]:
    e = verdict.evidence
    lines = [r"\field{Prediction tested}" + escape(e["statement"]) + ".",
             r"\field{Measured}" + _measured_table(e["numbers"])]
    for key, value in e["numbers"].items():
        if isinstance(value, dict):
            lines.append(r"\field{%s}" % escape(key.capitalize()) + _point(value) + ".")
    if e.get("figure") and e["figure"] in figures:
        lines.append(figures[e["figure"]])
    return lines


def _claim_section(claim, verdict, figures: dict) -> str:
    lines = [r"\subsection*{\texttt{%s}}\label{%s}" % (escape(claim.id), _anchor(claim.id)),
             r"\field{Where}" + escape(claim.where)]
    if claim.statement:
        lines.append(r"\field{Claim}" + escape(claim.statement))
    label = "As printed" if claim.verbatim else "Transcribed"
    lines.append(r"\field{%s}" % label + _formula(claim.printed))
    lines.append(r"\field{Reading}" + escape(claim.reading))
    lines.append(r"\field{Verdict}%s, %s." % (_VERDICT[verdict.status], _METHOD[verdict.method]))
    if verdict.method != "experiment" and "semantics" in verdict.evidence:
        lines.extend(_equal_evidence(verdict))
    elif "relation" in verdict.evidence:
        lines.extend(_bound_evidence(verdict))
    else:
        lines.extend(_experiment_evidence(verdict, figures))
    return "\n".join(lines)


def _models_section() -> str:
    lines = [r"\section{The models}",
             r"Each model is one Python function of plain array code; NumPy runs it (in float64, or with "
             r"30-digit numbers for the checks), derive traces it into the SymPy equations that are "
             r"differentiated, and latexify-py renders it below from the same source. "
             r"$\odot$ is the elementwise product (\texttt{*}), juxtaposition the matrix product "
             r"(\texttt{@}), $\sigma$ the logistic function, $\phi$ the activation ($\sigma$ or $\tanh$).",
             r"\textbf{Semantics.} \emph{Full}: every dependence on $c_{t-1}$ is differentiated, including "
             r"through $h_{t-1} = o_{t-1} \odot \tanh(c_{t-1})$ into every gate. \emph{Truncated}: gate and "
             r"cell-input activations are constants with respect to the state (the truncated gradient of "
             r"Hochreiter \& Schmidhuber and of Gers et al.); only the direct path through the cell remains. "
             r"Multi-step derivatives $\partial c_k/\partial c_s$ are the exact chain over the whole state "
             r"$(c, h)$."]
    for builder in (models.rnn, models.lstm_1997, models.lstm_forget, models.lstm_peephole, models.ff_chain):
        model = builder()
        lines.append(r"\subsection*{%s}" % escape(model.title.replace("$", "")) if "$" not in model.title
                     else r"\subsection*{%s}" % model.title)
        lines.append(r"\fitmath{%s}" % cell_latex(model))
    model = models.rnn(form="cv")
    lines.append(r"\subsection*{%s}" % model.title)
    lines.append(r"\fitmath{%s}" % cell_latex(model))
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
            r"result (in the full semantics). \truncatedonly: it equals the truncated gradient but not the "
            r"full one. \differs: it is different, and a counterexample is shown. \emph{Symbolic}: the "
            r"difference was proved to be 0; \emph{numeric}: both sides were evaluated at %d seeded random "
            r"points with %d significant digits (seed %d) and the verdict rests on those values; "
            r"\emph{experiment}: the verdict rests on numbers measured by the stated experiment." % (
                settings.points, settings.digits, settings.seed),
            r"\par\medskip " + _counts(results),
            r"\section*{Summary}", _summary(results)]
    for source in sources:
        body.append(r"\section{%s}" % escape(source.title))
        body.append(r"\noindent %s%s." % (escape(source.author) + ", " if source.author else "", escape(source.site)))
        for claim, verdict in results:
            if claim.source == source:
                body.append(_claim_section(claim, verdict, figures))
    body += [_models_section(), _references(sources),
             r"\section*{Versions}" + escape(", ".join(f"{k} {v}" for k, v in versions.items())) + ".",
             r"\end{document}", ""]
    return "\n\n".join(body)
