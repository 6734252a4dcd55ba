"""A one-line progress bar on stderr, drawn only when stderr is a terminal."""
import sys


class Progress:
    def __init__(self, total, label="", stream=None, width=30):
        self.total = max(total, 1)
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.done = 0
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()

    def advance(self, n=1, note=""):
        self.done = min(self.done + n, self.total)
        if self.enabled:
            filled = self.width * self.done // self.total
            self.stream.write("\r%s [%s%s] %3d%% %s\x1b[K" % (
                self.label, "#" * filled, "." * (self.width - filled), 100 * self.done // self.total, note))
            self.stream.flush()

    def close(self):
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
