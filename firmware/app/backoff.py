# Reconnect delays: exponential backoff with full jitter (a uniformly random
# delay in [0, min(cap, base * 2**attempt)]), so that when a regional broker
# restarts, its thousands of nodes do not all come back in the same second.
# A plain object: the caller supplies the random source and acts on the delay.


class Backoff:
    def __init__(self, base=1.0, cap=300.0, random=None):
        if random is None:
            import random as _r

            random = _r.random
        self.base = base
        self.cap = cap
        self.random = random  # () -> float in [0, 1)
        self.attempt = 0

    def ceiling(self):
        """The upper bound of the next delay (seconds)."""
        return min(self.cap, self.base * (1 << min(self.attempt, 30)))

    def next(self):
        """A failure happened: -> seconds to wait before the next attempt."""
        d = self.random() * self.ceiling()
        self.attempt += 1
        return d

    def reset(self):
        """A connection succeeded."""
        self.attempt = 0
