"""Shared test setup: every source of randomness is seeded, and the built-in claims are verified once per run.

`builtin_report` runs the main job (derive.pipeline.run_report) once, in
process, into a temporary folder: the derivation suite reads its verdicts and
the command-line tests read the files it wrote.
"""
import random
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _seeded():
    random.seed(1234)
    np.random.seed(1234)
    yield


@pytest.fixture(scope="session")
def builtin_report(tmp_path_factory):
    from derive.pipeline import ReportConfig, run_report

    output = tmp_path_factory.mktemp("builtin-report")
    result = run_report(ReportConfig(output=output, pdf=shutil.which("pdflatex") is not None, verbosity=0))
    return output, result


@pytest.fixture(scope="session")
def builtin_claims(builtin_report):
    return {claim.id: claim for claim, _ in builtin_report[1].results}


@pytest.fixture(scope="session")
def builtin_verdicts(builtin_report):
    return {claim.id: verdict for claim, verdict in builtin_report[1].results}
