# A register-file stand-in for machine.I2C's memory interface (the unix port
# has no I2C): records every write, serves reads from preset register bytes.


class RegisterBus:
    def __init__(self, addr, regs=None, status=()):
        self.addr = addr
        self.status = status  # registers the device sets itself: writes do not change them
        self.regs = bytearray(512)
        self.writes = []  # (register, bytes) in order
        for reg, data in (regs or {}).items():
            self.regs[reg:reg + len(data)] = data

    def writeto_mem(self, addr, reg, data, addrsize=8):
        if addr != self.addr:
            raise OSError(19)  # ENODEV: no device acknowledges
        self.writes.append((reg, bytes(data)))
        for i in range(len(data)):
            if reg + i not in self.status:
                self.regs[reg + i] = data[i]

    def readfrom_mem_into(self, addr, reg, buf, addrsize=8):
        if addr != self.addr:
            raise OSError(19)  # ENODEV: no device acknowledges
        buf[:] = self.regs[reg:reg + len(buf)]
