"""Calls release the GIL: other Python threads run while the engine works,
and threads calling one engine get the results of serial calls."""

from __future__ import annotations

import threading
import time

SENTENCE = "Dr. Anna Keller inspected the Hamburg plant of Siemens with two engineers from Munich."


def test_calls_release_the_gil(engine):
    """While one thread is inside extract_batch, another keeps running Python.

    A call that held the GIL would stop every other Python thread for its
    whole length: the longest pause between two turns of the loop below would
    be about the call's duration. Released, the loop runs on through the
    call. Judged against the call's own duration, not a clock budget, so a
    busy machine slows both sides alike and cannot fail it."""
    engine.extract_batch([SENTENCE] * 48, tasks=["entities", "parse"])  # warm the plans
    call = {}

    def work():
        start = time.perf_counter()
        engine.extract_batch([SENTENCE] * 48, tasks=["entities", "parse"])
        call["seconds"] = time.perf_counter() - start

    worker = threading.Thread(target=work)
    longest_pause = 0.0
    last = time.perf_counter()
    worker.start()
    while worker.is_alive():
        now = time.perf_counter()
        longest_pause = max(longest_pause, now - last)
        last = now
    worker.join()
    print(f"call {call['seconds']:.3f} s, longest pause of the other thread {longest_pause:.3f} s")
    assert longest_pause < call["seconds"] / 4


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
