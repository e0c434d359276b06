"""A small progress bar for a terminal (no dependency), e.g. on a command's stderr.

    bar = TerminalProgress(write=sys.stderr.write, label="Writing stations")
    bar(done, total)   # call as often as you like; it redraws at most every 0.1 s
    bar.close()        # ends the line

Use it only when the stream is a terminal (``stream.isatty()``): redirected
output gets no carriage returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class TerminalProgress:
    def __init__(
        self,
        write: Callable[[str], object],
        *,
        label: str = "",
        width: int = 30,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.write = write
        self.label = label
        self.width = width
        self.interval = interval
        self.clock = clock
        # The first call starts the clock (time spent before the work is not counted), and its
        # ``done`` is the base of the rate (work found already done is not counted either).
        self.started: float | None = None
        self.first_done = 0
        self.last_drawn: float | None = None
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if self.started is None:
            self.started, self.first_done = now, done
        finished = total > 0 and done >= total
        if self.last_drawn is not None and now - self.last_drawn < self.interval and not finished:
            return
        self.last_drawn = now
        self.shown = True
        self.write("\r" + self.render(done, total, now - self.started))

    def render(self, done: int, total: int, elapsed: float) -> str:
        fraction = min(1.0, done / total) if total else 0.0
        filled = int(fraction * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        rate = (done - self.first_done) / elapsed if elapsed > 0 else 0.0
        text = f"[{bar}] {fraction:4.0%} {done:,}/{total:,}"
        if rate and done < total:
            text += f" {rate:,.0f}/s, {((total - done) / rate):.0f} s left"
        elif elapsed:
            text += f" in {elapsed:.1f} s"
        prefix = f"{self.label} " if self.label else ""
        return (prefix + text).ljust(self.width + 50)

    def close(self) -> None:
        if self.shown:
            self.write("\n")
            self.shown = False
