"""Figures of the experiments: vector PDFs drawn from the curves an experiment's evidence carries.

Each figure is one entry in `FIGURES` (name -> drawing function and caption);
a missing entry fails loudly with its name. The drawing only formats the
series the verdict rests on; it computes nothing. Lines differ in style and
marker as well as colour, so the figures read in greyscale print.
"""
from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from derive.errors import ReportError  # noqa: E402

STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1)), "v"), ((0, (1, 1)), "x"),
          ((0, (3, 1, 1, 1)), "P"), ("-", "*"), ("--", "<"), (":", "h"), ("-.", ">"), ((0, (5, 1)), "p")]
LOG_LABEL = r"$\log_{10}$ of the norm"

plt.rcParams.update({"font.size": 8, "axes.titlesize": 9, "legend.fontsize": 6.5, "lines.linewidth": 1.1,
                     "lines.markersize": 3.2, "pdf.fonttype": 42, "svg.hashsalt": "derive"})


def _style(index: int) -> dict:
    line, marker = STYLES[index % len(STYLES)]
    colour = plt.get_cmap("viridis")(0.9 * (index % len(STYLES)) / (len(STYLES) - 1))
    return {"linestyle": line, "marker": marker, "color": colour, "markevery": 0.1}


def _curves(axis, series: dict, keys, labels=None):
    for index, key in enumerate(keys):
        curve = series[key]
        axis.plot(curve["x"], curve["y"], label=(labels or {}).get(key, key), **_style(index))


def _rnn_scalar(series, numbers, figure):
    axis = figure.add_subplot(1, 1, 1)
    _curves(axis, series, list(series), {k: k.replace("w=", "$w$ = ") for k in series})
    axis.set_xlabel("steps $T$")
    axis.set_ylabel(r"$\log_{10} |\partial h_T / \partial h_0|$ (median over $h_0$)")
    axis.legend(ncol=2)


def _rnn_spectral(series, numbers, figure):
    for column, activation in enumerate(("sigmoid", "tanh")):
        axis = figure.add_subplot(1, 2, column + 1)
        keys = [k for k in series if k.startswith(activation + ",")]
        for index, key in enumerate(keys):
            curve = series[key]
            style = _style(index)
            scale = key.split("s=")[1]
            axis.plot(curve["x"], curve["y"], label=f"$s$ = {scale}, $\\eta$ = {curve['eta']:g}", **style)
            if curve["eta"] < 1:  # the sufficient condition applies: the bound η^T, dashed thin
                bound = [x * math.log10(curve["eta"]) for x in curve["x"]]
                axis.plot(curve["x"], bound, color=style["color"], linestyle=(0, (1, 2)), linewidth=0.8)
        axis.set_title(f"{activation} RNN ($\\gamma$ = {'1/4' if activation == 'sigmoid' else '1'})")
        axis.set_xlabel("steps $T$")
        axis.set_ylabel(r"$\log_{10} \|\partial c_T / \partial c_0\|_2$ (median)")
        axis.legend()


def _lstm_decay(series, numbers, figure):
    axis = figure.add_subplot(1, 1, 1)
    labels = {}
    for key in series:
        if key.startswith("lstm"):
            bias, semantics = key[len("lstm[b_f="):-1].split(",")
            labels[key] = f"LSTM, $b_f$ = {bias}, {semantics}"
        else:
            labels[key] = f"RNN, {key[4:-1]}"
    _curves(axis, series, list(series), labels)
    axis.set_xlabel("steps $T$")
    axis.set_ylabel(r"$\log_{10} \|\partial c_T / \partial c_0\|_2$ (median)")
    axis.legend(ncol=2)


def _lstm_explosion(series, numbers, figure):
    axis = figure.add_subplot(1, 1, 1)
    _curves(axis, series, list(series), {k: "all four" if "+" in k else k.replace("R_", "$R_") + "$"
                                         for k in series})
    axis.set_xscale("log", base=2)
    axis.axhline(0.0, color="black", linewidth=0.6)
    axis.set_xlabel("factor multiplying the recurrent matrix")
    axis.set_ylabel(r"rate of $\log_{10} \|\partial h_T / \partial h_0\|_2$ per step")
    axis.legend()


def _balance(series, numbers, figure):
    left = figure.add_subplot(1, 2, 1)
    for index, key in enumerate(("A", "B", "C", "D")):
        curve = series[key]
        left.step(curve["x"], [max(v, 0.5) for v in curve["y"]], where="mid", label=f"${key}_t$",
                  **{k: v for k, v in _style(index).items() if k != "markevery"}, markevery=8)
    left.set_yscale("log")
    left.set_xlabel("value of the term")
    left.set_ylabel("count (log scale)")
    left.set_title("the four terms")
    left.legend()
    right = figure.add_subplot(1, 2, 2)
    curve = series["sum"]
    right.step(curve["x"], [max(v, 0.5) for v in curve["y"]], where="mid", color="black")
    right.axvspan(0.9, 1.1, color="0.8", label="[0.9, 1.1]")
    right.set_yscale("log")
    right.set_xlabel(r"$A_t + B_t + C_t + D_t$")
    right.set_title("their sum")
    right.legend()


def _caption_common(numbers, seed, model):
    draws = f"{numbers['draws']} draws" if "draws" in numbers else f"{numbers.get('starts', 1)} starting points"
    size = f"$n$ = {numbers['n']}, " if "n" in numbers else ""
    return f"{model}; {size}$T$ = {numbers['steps']} steps, {draws}, seed {seed}."


FIGURES = {
    "rnn-scalar": (_rnn_scalar, (3.6, 2.6), lambda n, seed: (
        "Scalar RNN $h_t = \\sigma(w h_{t-1})$ without input: $\\log_{10}|\\partial h_T/\\partial h_0|$ against "
        "$T$ for each $w$; the exact bound of each step is $|w|/4$. " + _caption_common(n, seed, "model rnn (cv form)"))),
    "rnn-spectral": (_rnn_spectral, (7.0, 2.9), lambda n, seed: (
        "Experiment 1. RNNs with $W_{\\mathrm{rec}}$ rescaled to largest singular value $s$ (PyTorch "
        "initialisation otherwise, inputs $\\mathcal{N}(0,1)$); thin dotted lines: the bound $\\eta^T$, "
        "$\\eta = \\gamma s$, of Pascanu et al.\\ (2013) where $\\eta < 1$. "
        + _caption_common(n, seed, "models rnn (sigmoid, tanh)"))),
    "lstm-decay": (_lstm_decay, (4.6, 3.0), lambda n, seed: (
        "Experiment 2. Forget-gate LSTM, full and truncated semantics, forget-gate biases 0, 1, 3, against "
        "RNNs; PyTorch initialisation, inputs $\\mathcal{N}(0,1)$. "
        + _caption_common(n, seed, "models lstm\\_forget, rnn"))),
    "lstm-explosion": (_lstm_explosion, (4.0, 2.8), lambda n, seed: (
        "Experiment 3. Peephole LSTM with $R_o$, $R_i$, $R_f$, $R_z$ multiplied by a factor, one at a time "
        "and all together: fitted growth rate of $\\|\\partial h_T/\\partial h_0\\|$ (above 0: it explodes). "
        + _caption_common(n, seed, "model lstm\\_peephole"))),
    "balance": (_balance, (7.0, 2.7), lambda n, seed: (
        "Experiment 4. Arbel's four terms (the exact path terms) over random draws and steps, scalar "
        f"forget-gate LSTM without biases, weights $U(-1,1)$, inputs $\\mathcal{{N}}(0,1)$: {n['draws']} draws "
        f"$\\times$ {n['steps'] - 1} steps, seed {seed}.")),
}


def render(name: str, evidence) -> bytes:
    """The PDF bytes of figure `name`, drawn from the evidence's series (deterministic: no dates)."""
    if name not in FIGURES:
        raise ReportError(f"no figure named {name!r}; figures: {', '.join(sorted(FIGURES))}")
    draw, size, _ = FIGURES[name]
    figure = plt.figure(figsize=size)
    try:
        draw(evidence.series, evidence.numbers, figure)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="pdf", metadata={"CreationDate": None, "ModDate": None, "Producer": None,
                                                        "Creator": None})
    finally:
        plt.close(figure)
    return buffer.getvalue()


def caption(name: str, evidence, seed: int) -> str:
    """The figure's caption (LaTeX): what was run, with n, T, draws and seed."""
    return FIGURES[name][2](evidence.numbers, seed)


def block(name: str, filename: str, evidence, seed: int, claim_id: str = "") -> str:
    """The figure as a LaTeX block, labelled `fig:name` and naming the claim whose verdict it backs.

    Not a float: the figure stays with the claim whose verdict it backs.
    """
    from derive.report.latex import anchor, escape

    width = "\\linewidth" if FIGURES[name][1][0] > 5 else "0.68\\linewidth"
    backs = (" It backs the verdict of claim \\hyperref[%s]{\\texttt{%s}}." % (anchor(claim_id), escape(claim_id))
             if claim_id else "")
    return ("\\par\\medskip\\begin{center}\\includegraphics[width=%s]{%s}"
            "\\captionof{figure}{%s%s}\\label{fig:%s}\\end{center}" % (width, filename, caption(name, evidence, seed),
                                                                        backs, name))
