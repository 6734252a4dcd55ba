# A register-file stand-in for machine.I2C's memory interface (the unix port
# has no I2C): records every write, serves reads from preset register bytes.


class RegisterBus:
    def __init__(self, addr, regs=None):
        self.addr = addr
        self.regs = bytearray(256)
        self.writes = []  # (register, bytes) in order
        for reg, data in (regs or {}).items():
            self.regs[reg:reg + len(data)] = data

    def writeto_mem(self, addr, reg, data):
        if addr != self.addr:
            raise OSError(19)  # ENODEV: no device acknowledges
        self.writes.append((reg, bytes(data)))
        self.regs[reg:reg + len(data)] = data

    def readfrom_mem_into(self, addr, reg, buf):
        if addr != self.addr:
            raise OSError(19)  # ENODEV: no device acknowledges
        buf[:] = self.regs[reg:reg + len(buf)]
