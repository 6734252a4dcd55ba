# A RAM-only stand-in for the store-and-forward log, with the same interface.
# Readings are lost on power loss: the flash log replaces it on real nodes.


class MemLog:
    def __init__(self, capacity=1000):
        self.capacity = capacity
        self._recs = []  # (seq, payload), oldest first, not yet acknowledged
        self.next_seq = 1
        self.dropped = 0

    def append(self, payload):
        seq = self.next_seq
        self.next_seq += 1
        self._recs.append((seq, bytes(payload)))
        if len(self._recs) > self.capacity:
            self._recs.pop(0)
            self.dropped += 1
        return seq

    @property
    def pending(self):
        return len(self._recs)

    def used(self):
        """Percent of the capacity the undelivered readings fill."""
        return len(self._recs) * 100 // self.capacity

    def read(self, after_seq, out, max_count, max_bytes):
        """Append (seq, payload) with seq > after_seq to out, oldest first."""
        size = 0
        for seq, p in self._recs:
            if seq <= after_seq:
                continue
            if len(out) >= max_count or (out and size + len(p) > max_bytes):
                break
            out.append((seq, p))
            size += len(p)
        return out

    def ack(self, seq):
        """The broker has everything up to seq: forget it."""
        recs = self._recs
        i = 0
        while i < len(recs) and recs[i][0] <= seq:
            i += 1
        del recs[:i]
