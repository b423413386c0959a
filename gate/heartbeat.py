"""Progress for people while the gate waits: a line at most every 10 s in a CI log, a
live bar on a terminal. Text from the service is already one line; secrets are redacted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TextIO

from gate.core import seconds_text as duration
from gate.text import redact
from gate.waiting import Progress

LINE_EVERY = 10.0
BAR_WIDTH = 24


class Heartbeat:
    """Called by the wait loop with the last progress and the time waited so far."""

    def __init__(self, stream: TextIO, task_id: str, secrets: Sequence[str], live: bool) -> None:
        self.stream, self.task_id, self.secrets, self.live = stream, task_id, secrets, live
        self.printed_at: float | None = None
        self.drawn = False
        self.estimate: Callable[[], str | None] = lambda: None

    def use_estimate(self, estimate: Callable[[], str | None]) -> None:
        """Show ``estimate()`` (``about 1 min 20 s left (from the last 12 scans)``) while
        the scan is checking."""
        self.estimate = estimate

    @property
    def tick(self) -> float:
        """How often the wait loop should call: every second for a live bar."""
        return 1.0 if self.live else LINE_EVERY

    def __call__(self, progress: Progress | None, elapsed: float) -> None:
        text = self.text(progress, elapsed)
        if self.live:
            self.stream.write(f"\r\x1b[K{self.bar(progress)} {text}")
            self.drawn = True
        elif self.due(progress, elapsed):
            self.stream.write(f"codearts-gate: {text}\n")
            self.printed_at = elapsed
        self.stream.flush()

    def due(self, progress: Progress | None, elapsed: float) -> bool:
        """A line at most every ``LINE_EVERY`` s; the first answer and the final one always."""
        if progress is not None and (self.printed_at is None or progress.finished):
            return True
        return elapsed - (self.printed_at or 0.0) >= LINE_EVERY

    def text(self, progress: Progress | None, elapsed: float) -> str:
        """``task T: checking, 42% (info), about 20 s left (from the last 3 scans), 1 min 5 s
        elapsed``."""
        state = progress.describe() if progress else "waiting for the first answer"
        estimate = self.estimate() if progress is None or not progress.finished else None
        state += f", {estimate}" if estimate else ""
        return redact(f"task {self.task_id}: {state}, {duration(elapsed)} elapsed", self.secrets)

    @staticmethod
    def bar(progress: Progress | None) -> str:
        """``[#########...............]`` from the ratio (empty without one)."""
        ratio = progress.ratio if progress and progress.ratio is not None else 0.0
        filled = round(ratio * BAR_WIDTH)
        return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}]"

    def close(self) -> None:
        """End the live bar's line."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
