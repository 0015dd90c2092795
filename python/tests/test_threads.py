"""Calls release the GIL: two Python threads calling one engine run at once."""

from __future__ import annotations

import os
import threading
import time

import pytest

# One sentence is one batch, which one pool thread runs: two at once can use
# two cores only if neither call holds the GIL.
SENTENCE = "Dr. Anna Keller inspected the Hamburg plant of Siemens with two engineers from Munich."
CALLS = 12


def run(engine, calls):
    for _ in range(calls):
        engine.extract(SENTENCE, tasks=["entities", "parse"])


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores")
def test_two_threads_beat_serial(engine):
    assert engine.threads >= 2
    run(engine, 2)  # warm the plans
    best_ratio = None
    for _ in range(3):  # the best of three, against a noisy neighbour
        start = time.perf_counter()
        run(engine, 2 * CALLS)
        serial = time.perf_counter() - start
        threads = [threading.Thread(target=run, args=(engine, CALLS)) for _ in range(2)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        concurrent = time.perf_counter() - start
        ratio = concurrent / serial
        best_ratio = ratio if best_ratio is None else min(best_ratio, ratio)
    print(f"two threads / serial: {best_ratio:.2f}")
    # Holding the GIL would give 1.0 or more; released, about 0.5-0.6 on two cores.
    assert best_ratio < 0.8


def test_results_from_threads_equal_serial(engine):
    texts = [f"{SENTENCE} Report {i} came from Berlin." for i in range(8)]
    expected = [engine.extract(t).to_dict() for t in texts]
    got: dict[int, dict] = {}

    def work(i):
        got[i] = engine.extract(texts[i]).to_dict()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [got[i] for i in range(len(texts))] == expected
