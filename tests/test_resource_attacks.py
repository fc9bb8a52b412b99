"""Small, legal claims files that ask for hours of work or gigabytes: each ends within its budget, undecided or refused.

Every case runs `derive check FILE --json` in a subprocess with a small claim budget and a memory limit, and
asserts on the JSON (the verdict, the evidence naming the stage, or a located refusal) and on the time taken.
Also here: the limits' options (--budget, --jobs, --memory, --deadline), a claim whose process runs out of
memory or is killed, and the determinism that does not depend on --jobs.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from derive.budget import DEEPEST_FUNCTIONS, DEEPEST_GROWTH

ROOT = Path(__file__).resolve().parents[1]
CLAIM_BUDGET = 15  # seconds
SLACK = 20  # seconds: starting Python and SymPy, loading the file, writing the results
LIMITS = ["--claim-budget", str(CLAIM_BUDGET), "--memory", "1G", "--budget", "2", "--points", "20"]
HEAD = '[source]\nkey = "attack"\ntitle = "Resource attacks"\nsite = "a test"\n'


def nest(function: str, depth: int, inner: str = "z") -> str:
    for _ in range(depth):
        inner = f"{function}({inner})"
    return inner


def claims_file(folder: Path, *claims: str) -> Path:
    path = folder / "claims.toml"
    path.write_text(HEAD + "".join(claims))
    return path


def free_claim(claim_id: str, latex: str, extra: str = "") -> str:
    return (f'\n[[claim]]\nid = "{claim_id}"\nwhere = "t"\nmodel = "none"\nvariables = ["z"]\n'
            f"latex = '''{latex}'''\n{extra}")


def lstm_claim(claim_id: str, latex: str) -> str:
    return f"\n[[claim]]\nid = \"{claim_id}\"\nwhere = \"t\"\nmodel = {{ name = \"lstm_forget\", n = 3 }}\nlatex = '''{latex}'''\n"


def check(path: Path, *options: str, timeout: float = 300) -> tuple[dict, float, str]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "derive", "check", str(path), "--json", *LIMITS, *options],
                          capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    elapsed = time.monotonic() - started
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    return json.loads(done.stdout), elapsed, done.stderr


def only(result: dict) -> dict:
    (claim,) = result["claims"]
    return claim


DEFINES = "[claim.define]\n" + "".join(
    f"{chr(66 + k)}_t = '''\\sigma'({'z' if k == 0 else chr(65 + k) + '_t'})'''\n" for k in range(20))

ATTACKS = {
    # (the claims file's one claim, what ends it: a located refusal or the stage of an undecided verdict)
    "exp nested 4 deep": (free_claim("attack", nest(r"\exp", 4) + " = 0"),
                          f"exponentials nested 4 deep: their values have more digits than can be computed "
                          f"(the limit is {DEEPEST_GROWTH})"),
    "exp(-exp^3)": (free_claim("attack", r"\exp(-" + nest(r"\exp", 3) + ") = 0"), "exponentials nested 4 deep"),
    "exp(exp(z^64))": (free_claim("attack", r"\exp(\exp(z^{64})) = 0"), "numeric evaluation"),
    "sigma' nested 20 deep": (free_claim("attack", nest(r"\sigma'", 20) + r" \le 1"),
                              f"functions nested {DEEPEST_FUNCTIONS + 1} deep"),
    "through a chain of defines": (free_claim("attack", r"U_t \le 1", DEFINES),
                                   f"functions nested {DEEPEST_FUNCTIONS + 1} deep"),
    "a dots value nested deep": (free_claim("attack", r"z + \dots = z",
                                            f"dots = '''{nest(chr(92) + 'sigma' + chr(39), 20)}'''\n"),
                                 f"functions nested {DEEPEST_FUNCTIONS + 1} deep"),
    "dc_t/dc_(t-10) at n = 3": (lstm_claim("attack", r"\frac{\partial c_t}{\partial c_{t-10}} = "
                                                     r"\prod_{k=0}^{9} \mathrm{diag}(f_{t-k})"), "reading"),
    "a product over 12 steps of one-step Jacobians at n = 3": (
        lstm_claim("attack", r"\prod_{k=1}^{12} \frac{\partial c_{t-k+1}}{\partial c_{t-k}} = "
                             r"\prod_{k=1}^{12} \mathrm{diag}(f_{t-k+1})"), "reading"),
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_an_attack_ends_within_its_budget_undecided_or_refused(tmp_path, name):
    claim, expected = ATTACKS[name]
    result, elapsed, _ = check(claims_file(tmp_path, claim))
    assert elapsed < CLAIM_BUDGET + SLACK, f"{name}: {elapsed:.1f} s"
    entry = only(result)
    if entry["verdict"] == "error":  # a refusal, located at the line and column of the culprit
        assert expected in entry["error"] and "claims.toml:" in entry["error"], entry["error"]
    else:
        assert entry["verdict"] == "undecided" and entry["method"] == "none", entry
        assert entry["evidence"]["stage"] == expected and entry["evidence"]["ran_out"] in ("refused", "time", "memory")
        assert entry["evidence_line"].startswith(f"undecided: stopped during the {expected}")


def test_a_slow_claim_is_undecided_at_its_budget_naming_the_stage_and_the_others_go_on(tmp_path):
    # tanh' nested 6 deep passes the guards and takes about 30 s: over a 5 s budget.
    slow = free_claim("slow", nest(r"\tanh'", 6) + " = " + nest(r"\tanh'", 6))
    fine = free_claim("fine", r"\sigma(z) = \frac{1}{1 + e^{-z}}")
    started = time.monotonic()
    result, elapsed, _ = check(claims_file(tmp_path, slow, fine), "--claim-budget", "5", "--jobs", "1")
    assert elapsed < 5 + SLACK + 10
    slow_entry, fine_entry = result["claims"]
    assert slow_entry["verdict"] == "undecided" and slow_entry["evidence"]["ran_out"] == "time"
    assert slow_entry["evidence"]["limit"] == "5 s" and slow_entry["evidence"]["stage"] in (
        "numeric evaluation", "proof", "reading")
    assert "the claim's time budget ran out (5 s)" in slow_entry["evidence_line"]
    assert fine_entry["verdict"] == "agrees" and result["exit_code"] == 0
    assert time.monotonic() - started < 60


# -- out of memory, killed, past the deadline: claims modules, whose code can do anything -------------------------
HUNGRY = '''
import os
import time
from derive.claim import Source, claim
from derive.verify import Experiment

SOURCE = Source("hungry", "Hungry claims", "a test")

def _eat(seed, quick=False):
    return {"size": len(bytearray(8 * 1024 ** 3))}  # 8 GB: over any --memory derive accepts here

def _sleep(seed, quick=False):
    time.sleep(float(os.environ.get("SLEEP", "60")))
    return {"x": 1}

@claim("hungry.eats", where="s1", printed="x", reading="allocates 8 GB")
def eats():
    return Experiment("eats", _eat, lambda numbers: True)

@claim("hungry.sleeps", where="s2", printed="x", reading="sleeps")
def sleeps():
    return Experiment("sleeps", _sleep, lambda numbers: True)

@claim("hungry.quick", where="s3", printed="x", reading="answers at once")
def quick():
    return Experiment("answers", lambda seed, quick=False: {"x": 1}, lambda numbers: True)
'''


def report(tmp_path: Path, *options: str, env=None):
    module = tmp_path / "hungry.py"
    module.write_text(HUNGRY)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "derive", "report", "--file", str(module), "-o", str(out), "--no-pdf",
                           "-q", *options], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, **(env or {})})
    assert "Traceback" not in done.stderr, done.stderr
    claims = {c["id"]: c for c in json.loads((out / "report.json").read_text())["claims"]} if done.returncode == 0 \
        else None
    return done, claims, out


def test_a_claim_over_its_memory_limit_is_undecided_and_the_run_goes_on(tmp_path):
    done, claims, out = report(tmp_path, "--memory", "2G", "--claim-budget", "30", env={"SLEEP": "0"})
    assert done.returncode == 0, done.stderr
    eats = claims["hungry.eats"]
    assert (eats["verdict"], eats["method"]) == ("undecided", "none")
    assert eats["evidence"] == {"stage": "experiment", "ran_out": "memory", "limit": "2 GB", "note": "",
                                "why": "stopped during the experiment: the claim's memory limit was reached (2 GB)"}
    assert claims["hungry.sleeps"]["verdict"] == claims["hungry.quick"]["verdict"] == "agrees"
    assert r"stopped during the experiment: the claim's memory limit was reached (2 GB)" in \
        (out / "report.tex").read_text()


def test_the_runs_deadline_makes_the_rest_undecided_and_the_report_is_still_written(tmp_path):
    started = time.monotonic()
    done, claims, _ = report(tmp_path, "--deadline", "8", "--jobs", "1", env={"SLEEP": "60"})
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 8 + SLACK
    assert claims["hungry.sleeps"]["evidence"]["ran_out"] == "deadline"
    assert claims["hungry.sleeps"]["evidence"]["why"] == "stopped during the experiment: the run's deadline passed"
    assert claims["hungry.quick"]["evidence"]["why"] == "not started: the run's deadline passed"


def test_a_claim_whose_process_is_killed_is_undecided_saying_how(tmp_path):
    module = tmp_path / "hungry.py"
    module.write_text(HUNGRY)
    process = subprocess.Popen([sys.executable, "-m", "derive", "report", "--file", str(module), "-o",
                                str(tmp_path / "out"), "--no-pdf", "--jobs", "1", "--claims", "hungry.sleeps",
                                "hungry.quick", "-v"], cwd=ROOT, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    lines = []
    while "verifying" not in "".join(lines):
        lines.append(process.stderr.readline())
    deadline = time.monotonic() + 30
    children = []
    while not children and time.monotonic() < deadline:
        time.sleep(0.2)
        children = [int(pid) for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()]
    os.kill(children[0], signal.SIGKILL)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0 and "Traceback" not in err, err
    claims = {c["id"]: c for c in json.loads((tmp_path / "out" / "report.json").read_text())["claims"]}
    assert claims["hungry.sleeps"]["verdict"] == "undecided"
    assert claims["hungry.sleeps"]["evidence"]["ran_out"] == "died"
    assert "was killed by SIGKILL" in claims["hungry.sleeps"]["evidence"]["note"]
    assert claims["hungry.quick"]["verdict"] == "agrees"


# -- the options of the limits -------------------------------------------------------------------------------------
@pytest.mark.parametrize("option, value", [("--budget", "inf"), ("--budget", "-1"), ("--budget", "nan"),
                                           ("--budget", "0"), ("--budget", "1e9"), ("--claim-budget", "inf"),
                                           ("--deadline", "-5"), ("--memory", "1K"), ("--memory", "lots"),
                                           ("--memory", "1e30G")])
def test_limits_out_of_range_are_one_line_usage_errors(option, value):
    done = subprocess.run([sys.executable, "-m", "derive", "check", "examples/lstm_notes.toml", option, value],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and f"argument {option}" in done.stderr, done.stderr


def test_jobs_are_clamped_to_the_cores_saying_so(tmp_path):
    path = claims_file(tmp_path, free_claim("one", r"\sigma(z) = \frac{1}{1 + e^{-z}}"))
    result, _, err = check(path, "--jobs", "500")
    assert f"--jobs 500 is more than the {len(os.sched_getaffinity(0))} cores; using" in err
    assert only(result)["verdict"] == "agrees"


# -- determinism -----------------------------------------------------------------------------------------------
def test_jobs_change_the_speed_never_the_results():
    """The same JSON, byte for byte, with one process at a time and with eight (clamped to the cores), under load."""
    files = [str(ROOT / "examples" / name) for name in ("lstm_notes.toml", "papers.toml", "gru_notes.toml")]
    outputs = []
    for jobs in ("1", "8"):
        done = subprocess.run([sys.executable, "-m", "derive", "check", *files, "--json", "--jobs", jobs],
                              capture_output=True, text=True, cwd=ROOT, timeout=600)
        outputs.append(done.stdout)
    assert json.loads(outputs[0])["claims"] and outputs[0] == outputs[1]
