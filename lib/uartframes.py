# Shared by the UART particulate drivers (sds011, pms5003, sps30): pull bytes
# from a machine.UART-like stream into a fixed receive buffer and hand them to
# the driver's byte parser, stopping at each new measurement.


class FrameReader:
    """Base: subclasses set self.uart and implement _push(byte) -> True on a new measurement."""

    def _init_rx(self, size):
        self._rx = bytearray(size)
        self._rxi = 0  # next unparsed byte in _rx
        self._rxn = 0  # bytes held in _rx

    def read(self):
        """Parse buffered UART bytes up to the next measurement.

        True when a new measurement is in the driver's fields; call again
        until False to drain everything the UART holds.
        """
        rx = self._rx
        while True:
            i = self._rxi
            n = self._rxn
            while i < n:
                b = rx[i]
                i += 1
                if self._push(b):
                    self._rxi = i
                    return True
            self._rxi = 0
            self._rxn = 0
            n = self.uart.readinto(rx)
            if not n:
                return False
            self._rxn = n

    def feed(self, data):
        """Parse bytes given directly (a recording, a test); True on a new measurement."""
        fresh = False
        for b in data:
            if self._push(b):
                fresh = True
        return fresh
