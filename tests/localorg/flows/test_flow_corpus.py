"""The real-world Flow yardstick (bench/flow_corpus_bench.py) as a test: no crash, every refusal named."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root, where bench/ lives
from bench.flow_corpus_bench import CORPUS, run  # noqa: E402


@pytest.mark.skipif(not list(CORPUS.glob("*.flow-meta.xml")),
                    reason="the corpus is not fetched: python tests/localorg/flows/corpus/fetch.py")
def test_every_real_flow_deploys_or_is_refused_naming_its_line_never_a_crash():
    started = time.monotonic()
    report = run()
    assert len(report.outcomes) == len(list(CORPUS.glob("*.flow-meta.xml"))) > 0
    assert [(o.name, o.crash) for o in report.outcomes if o.crash] == []
    for o in report.outcomes:
        assert o.deployed or o.problem, o.name
    assert time.monotonic() - started < 60
    print(report.summary())
