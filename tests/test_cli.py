"""The command line end to end: the report into a temporary folder, determinism, clean errors."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from expected import EXPECTED

from derive.cli import main

ROOT = Path(__file__).resolve().parents[1]
SUBSET = ["arbel.D_t", "cv-lstm.sigmoid-bound", "blog.forget-one", "cv-lstm.rnn-weight-factor"]


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=600)


def test_the_report_holds_every_computed_verdict(builtin_report):
    """The main job's files: report.json carries the verdicts the derivation suite expects, the PDF is made."""
    output, result = builtin_report
    data = json.loads((output / "report.json").read_text())
    assert {c["id"]: c["verdict"] for c in data["claims"]} == EXPECTED
    assert [c["id"] for c in data["claims"]] == [claim.id for claim, _ in result.results]
    for claim in data["claims"]:
        assert claim["method"] in ("symbolic", "numeric", "experiment"), claim["id"]
        assert claim["evidence"]
    assert data["seed"] == 20240531 and data["versions"]["sympy"]
    if shutil.which("pdflatex"):
        assert (output / "report.pdf").read_bytes()[:4] == b"%PDF"
    tex = (output / "report.tex").read_text()
    assert r"\section*{Summary}" in tex and "lstm\\_forget" in tex  # the cells rendered by latexify-py
    for claim in data["claims"]:
        assert r"\subsection*{\texttt{%s}}" % claim["id"].replace("_", r"\_") in tex


def test_report_is_byte_identical_on_rerun(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    tex = shutil.which("pdflatex") is not None
    for folder in (first, second):
        done = run("report", "-o", str(folder), "-q", "--claims", *SUBSET, "--points", "50",
                   *([] if tex else ["--no-pdf"]))
        assert done.returncode == 0, done.stderr
    for name in ("report.tex", "report.json", "fig-rnn-scalar.pdf") + (("report.pdf",) if tex else ()):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_the_full_report_is_byte_identical_whatever_the_jobs(builtin_report, tmp_path):
    """Issue 13: same seed, same bytes. The session's report (one process per core, in this process) against one
    claim at a time in another process (another hash seed), while other tests load the machine."""
    output, _ = builtin_report
    done = run("report", "-o", str(tmp_path), "-q", "--no-pdf", "--jobs", "1",
               env={**os.environ, "PYTHONHASHSEED": "13"})
    assert done.returncode == 0, done.stderr
    for name in ("report.tex", "report.json"):
        assert (tmp_path / name).read_bytes() == (output / name).read_bytes(), name


def test_the_quick_report_is_byte_identical_over_runs(tmp_path):
    for folder, jobs in (("a", "1"), ("b", "2")):
        done = run("report", "-o", str(tmp_path / folder), "-q", "--no-pdf", "--quick", "--jobs", jobs)
        assert done.returncode == 0, done.stderr
    for name in ("report.tex", "report.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_progress_lines_and_selection(tmp_path):
    done = run("report", "-o", str(tmp_path), "--no-pdf", "--claims", "blog.", "--points", "30")
    assert done.returncode == 0
    lines = done.stderr.splitlines()
    assert any("loaded" in line for line in lines) and any("wrote" in line for line in lines)
    data = json.loads((tmp_path / "report.json").read_text())
    assert {c["id"].split(".")[0] for c in data["claims"]} == {"blog"}


def test_without_tex_the_tex_and_json_are_written_and_the_message_says_what_to_install(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(sys.executable, bin_dir / "python")
    env = {**os.environ, "PATH": str(bin_dir)}
    done = run("report", "-o", str(tmp_path / "out"), "-q", "--claims", "arbel.eq2", env=env)
    assert done.returncode == 1
    assert "texlive-latex-base" in done.stderr and "Traceback" not in done.stderr
    assert (tmp_path / "out" / "report.tex").exists() and (tmp_path / "out" / "report.json").exists()
    assert not (tmp_path / "out" / "report.pdf").exists()
    assert run("report", "-o", str(tmp_path / "out2"), "-q", "--no-pdf", "--claims", "arbel.eq2",
               env=env).returncode == 0


@pytest.mark.parametrize("args, message", [
    (["report", "--claims", "nonsense.claim"], "no claim matches"),
    (["report", "--points", "zero"], "expected a whole number"),
    (["report", "--points", "0"], "at least 1"),
    (["report", "--digits", "12"], "at least 20"),
    (["report", "--budget", "-1"], "positive"),
    (["report", "--frobnicate"], "unrecognized arguments"),
    (["report", "--file", "/nonexistent/claims.py"], "no claims file"),
    (["explode"], "invalid choice"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    done = run(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_broken_claims_file_is_reported_not_raised(tmp_path):
    broken = tmp_path / "mine.py"
    broken.write_text("from derive.claims import claim\nthis is not python\n")
    done = run("report", "--file", str(broken), "-o", str(tmp_path))
    assert done.returncode == 2 and "mine.py" in done.stderr and "Traceback" not in done.stderr
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    assert "defines no claims" in run("list", "--file", str(empty)).stderr


def test_a_users_own_claims_module(tmp_path):
    mine = tmp_path / "my_claims.py"
    mine.write_text('''
from derive import exact, models
from derive.claim import Source, claim
from derive.verify import Equal

SOURCE = Source("me", "My tutorial", "my blog")
LSTM = models.lstm_forget()

@claim("me.forget", where="section 2", printed=r"\\\\partial c_t / \\\\partial c_{t-1} = f_t",
       reading="scalar forget-gate LSTM")
def forget():
    return Equal(LSTM.sym.f, exact.dc_dc_prev(LSTM), LSTM, truncated=exact.dc_dc_prev(LSTM, "truncated"))
''')
    done = run("report", "--file", str(mine), "-o", str(tmp_path / "out"), "--no-pdf", "-q")
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [(c["id"], c["verdict"]) for c in data["claims"]] == [("me.forget", "agrees-when-truncated")]


def test_help_explains_every_option():
    text = run("report", "--help").stdout
    for option in ("--output", "--claims", "--file", "--seed", "--no-pdf", "--quiet", "--verbose", "--points",
                   "--digits", "--budget", "--claim-budget", "--memory", "--deadline", "--jobs"):
        assert option in text
    assert "report" in run("--help").stdout


def test_main_returns_an_exit_code(tmp_path):
    assert main(["report", "-o", str(tmp_path), "--no-pdf", "-q", "--claims", "arbel.eq2", "--points", "20"]) == 0


def test_a_claim_that_fails_while_being_verified_is_named_not_a_traceback(tmp_path):
    mine = tmp_path / "failing.py"
    mine.write_text('''
from derive.claim import Source, claim
from derive.verify import Experiment

SOURCE = Source("me", "My tutorial", "my blog")

@claim("me.broken", where="s1", printed="x", reading="an experiment whose code divides by zero")
def broken():
    return Experiment("never", lambda seed: {"x": 1 / 0}, lambda numbers: True)
''')
    done = run("report", "--file", str(mine), "-o", str(tmp_path / "out"), "--no-pdf", "-q", "--jobs", "2")
    assert done.returncode == 2
    assert "me.broken" in done.stderr and "ZeroDivisionError" in done.stderr and "Traceback" not in done.stderr
