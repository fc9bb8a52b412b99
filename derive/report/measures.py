"""What an experiment's measured numbers are: a label and a unit for each name, and the tables that show them.

The experiments (derive.lab.experiments) name their numbers `quantity` or
`quantity[configuration]`; this table says what each quantity is and in
which unit, so the report prints labelled tables rather than `key = value`.
A name missing here is printed as its escaped name, never dropped.
"""
from __future__ import annotations

import re

from derive.evidence import decimal
from derive.report.latex import escape
from derive.report.prose import safe_math

# quantity -> (column label, what it is, unit); LaTeX, ours.
QUANTITIES = {
    "rate": (r"rate", r"fitted per-step change of $\log_{10}$ of the gradient norm (below 0: it vanishes, "
             r"above 0: it explodes)", r"decades/step"),
    "eta": (r"$\eta$", r"$\eta = \gamma s$, the factor of the sufficient condition of Pascanu et al.\ (2013)", r"---"),
    "bound_excess": (r"bound excess", r"largest $\log_{10}\|\partial c_k/\partial c_0\|_2 - k \log_{10}\eta$ over "
                     r"draws and steps ($\le 0$: the bound $\eta^k$ holds)", r"decades"),
    "bound": (r"bound rate", r"$\log_{10}(|w|/4)$, the rate of the exact per-step bound $|w\,\sigma'| \le |w|/4$",
              r"decades/step"),
    "n": (r"state size $n$", "", ""),
    "steps": (r"steps $T$", "", ""),
    "draws": (r"draws", "", ""),
    "starts": (r"starting points $h_0$", "", ""),
    "fraction_sum_in_0.9_1.1": (r"fraction of draws with $A_t + B_t + C_t + D_t \in [0.9, 1.1]$", "", "---"),
    "median_sum": (r"median of $A_t + B_t + C_t + D_t$", "", "---"),
    "fraction_near_target": (r"fraction of draws within 0.05 of $(0.1, 0.7, 0.1, 0.1)$", "", "---"),
    "median_A": (r"median of $A_t$", "", "---"),
    "median_B": (r"median of $B_t$", "", "---"),
    "median_C": (r"median of $C_t$", "", "---"),
    "median_D": (r"median of $D_t$", "", "---"),
    "target_reached_max_error": (r"largest error of the four terms at the point found", "", "---"),
    "sum_at_point": (r"$A_t + B_t + C_t + D_t$ at the point found", "", "---"),
    "A_at_point": (r"$A_t$ at the point found", "", "---"),
    "B_at_point": (r"$B_t$ at the point found", "", "---"),
    "C_at_point": (r"$C_t$ at the point found", "", "---"),
    "D_at_point": (r"$D_t$ at the point found", "", "---"),
    "point": (r"the point found", "", ""),
}
SETTINGS = ("n", "steps", "draws", "starts")  # how the experiment was run, printed in one line
_SCALE = re.compile(r"^(R_[a-z](?:\+R_[a-z])*) x(\d+(?:\.\d+)?)$")


def label(quantity: str) -> str:
    return QUANTITIES[quantity][0] if quantity in QUANTITIES else escape(quantity)


def value(number) -> str:
    """A measured number as math, at 4 significant digits."""
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        return escape(str(number))
    if isinstance(number, int):
        return "$%d$" % number
    text = decimal(number, 4)
    mantissa, _, exponent = text.partition("e")
    return "$%s$" % (mantissa + (r" \times 10^{%d}" % int(exponent) if exponent else ""))


def configuration(text: str) -> str:
    """A configuration name as the report prints it: `sigmoid,s=2` -> sigmoid, $s = 2$."""
    scaled = _SCALE.match(text)
    if scaled:
        matrices = scaled.group(1).split("+")
        named = "all four" if len(matrices) == 4 else ", ".join(f"${m}$" for m in matrices)
        return r"%s $\times\,%s$" % (named, scaled.group(2))
    parts = []
    for part in text.split(","):
        part = part.strip()
        name, equals, amount = part.partition("=")
        math = f"{name.strip()} = {amount.strip()}"
        parts.append(f"${math}$" if equals and safe_math(math) else escape(part))
    return ", ".join(parts)


def tables(numbers: dict) -> list[str]:
    """The measured numbers as LaTeX blocks: the settings in a line, per-configuration numbers in a table with
    a legend, single numbers in a table of their own."""
    settings, single, rows, columns = [], [], {}, []
    for key, number in numbers.items():
        if isinstance(number, dict):
            continue
        if key.endswith("]") and "[" in key:
            quantity, config = key[:-1].split("[", 1)
            rows.setdefault(config, {})[quantity] = number
            if quantity not in columns:
                columns.append(quantity)
        elif key in SETTINGS:
            settings.append(r"%s: %s" % (label(key), value(number)))
        else:
            single.append(key)
    blocks = []
    if settings:
        blocks.append("Run with " + "; ".join(settings) + ".")
    if rows and len(columns) == 1 and all(_SCALE.match(config) for config in rows):
        blocks.append(_pivoted(rows, columns[0]))
    elif rows:
        header = " & ".join(["configuration"] + [_header(c) for c in columns])
        body = [" & ".join([configuration(config)] + [value(row[c]) if c in row else "" for c in columns]) + r" \\"
                for config, row in rows.items()]
        blocks.append(_table("l" + "r" * len(columns), header, body) + _legend(columns))
    if single:
        body = [r"%s & %s \\" % (label(key), value(numbers[key])) for key in single]
        blocks.append(r"\par\smallskip\begin{tabular}{@{}p{9cm}r@{}}\toprule quantity & value \\ \midrule" + "\n"
                      + "\n".join(body) + "\n" + r"\bottomrule\end{tabular}")
    return blocks


def _header(quantity: str) -> str:
    unit = QUANTITIES.get(quantity, ("", "", ""))[2]
    if not unit or unit == "---":
        return label(quantity)
    return r"\begin{tabular}[b]{@{}c@{}}%s\\(%s)\end{tabular}" % (label(quantity), unit)


def _legend(columns) -> str:
    legend = [r"%s: %s." % (label(c), QUANTITIES[c][1].rstrip("."))
              for c in columns if c in QUANTITIES and QUANTITIES[c][1]]
    return r"\par " + " ".join(legend) if legend else ""


def _table(spec: str, header: str, body: list[str]) -> str:
    return (r"\par\smallskip\begin{longtable}{@{}" + spec + r"@{}}\toprule " + header + r" \\ \midrule \endhead"
            + "\n" + "\n".join(body) + "\n" + r"\bottomrule\end{longtable}")


def _pivoted(rows: dict, quantity: str) -> str:
    """Configurations `R_o x2`: one row per set of matrices, one column per factor."""
    matrices, factors = [], []
    for config in rows:
        named, factor = _SCALE.match(config).groups()
        matrices += [named] if named not in matrices else []
        factors += [factor] if factor not in factors else []
    header = "matrices scaled & " + " & ".join(r"$\times\,%s$" % f for f in factors)
    body = []
    for named in matrices:
        cells = [value(rows[f"{named} x{f}"][quantity]) if f"{named} x{f}" in rows else "" for f in factors]
        body.append(configuration(named + " x1").rsplit(" $", 1)[0] + " & " + " & ".join(cells) + r" \\")
    unit = QUANTITIES.get(quantity, ("", "", ""))[2]
    caption = r"%s (%s) by the factor multiplying the matrices" % (label(quantity), unit) if unit else label(quantity)
    return (r"\par\smallskip " + caption + ":" + _table("l" + "r" * len(factors), header, body) + _legend([quantity]))
