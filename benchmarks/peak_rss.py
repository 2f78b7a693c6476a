"""Peak resident memory of this process and its children, sampled in a thread (shared by the benchmarks)."""

from __future__ import annotations

import threading
import time

import psutil


class PeakRSS:
    """Samples RSS (this process + children, e.g. a Spark JVM) every 50 ms; .peak in bytes.

    Use as a context manager. `reset()` starts a new peak; `peak_between(t0, t1)` is the peak over a
    time.perf_counter() window of the samples taken so far.
    """

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.peak = 0
        self.samples: list[tuple[float, int]] = []  # (perf_counter, rss)
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        total = self.proc.memory_info().rss
        for c in self.proc.children(recursive=True):
            try:
                total += c.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = self._rss()
            self.peak = max(self.peak, rss)
            self.samples.append((time.perf_counter(), rss))
            time.sleep(0.05)

    def reset(self) -> None:
        self.peak = self._rss()

    def peak_between(self, t0: float, t1: float) -> int:
        return max((r for t, r in self.samples if t0 <= t <= t1), default=0)

    def __enter__(self) -> PeakRSS:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
