# Reconnect delays: exponential backoff with full jitter (a uniformly random
# delay in [0, min(cap, base * 2**attempt)]), so that when a regional broker
# restarts, its thousands of nodes do not all come back in the same second.
# The ceiling never exceeds the time the node has already been away (nor base):
# after an outage of D seconds every node is back within about D of the broker's
# return, whatever the exponent reached (without it, a node whose early draws were
# short could wait a minute after a 10 s outage).
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

    def ceiling(self, away=None):
        """The upper bound of the next delay (seconds); away: seconds since the connection was lost."""
        c = min(self.cap, self.base * (1 << min(self.attempt, 30)))
        return c if away is None else min(c, max(self.base, away))

    def next(self, away=None):
        """A failure happened: -> seconds to wait before the next attempt."""
        d = self.random() * self.ceiling(away)
        self.attempt += 1
        return d

    def first(self):
        """Seconds before the first connect after a power-on: a random part of base, as the
        first retry would wait, so a region that boots together is spread like a reconnect."""
        return self.random() * self.base

    def reset(self):
        """A connection succeeded."""
        self.attempt = 0
