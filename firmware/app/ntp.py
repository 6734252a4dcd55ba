# SNTP (RFC 4330) as a non-blocking exchange: one 48-byte request on a UDP
# socket, then poll() from the link's steps until the answer or the deadline.
# ntptime.settime() waits for the answer inside recv (1 s timeout on the chip):
# the asyncio loop, and sensing with it, stopped for the round trip.
# Times are integers (seconds and milliseconds): the ESP32's floats are single
# precision and cannot hold today's Unix time to the second.
import errno
import os
import socket
import struct
import time

PORT = 123
NTP_TO_UNIX = 2208988800  # 1900-01-01 -> 1970-01-01, seconds


def request(nonce):
    """48 bytes: LI 0, version 4, mode 3 (client); the nonce as transmit timestamp."""
    req = bytearray(48)
    req[0] = 0x23
    req[40:48] = nonce
    return req


def _ms(buf, at):
    """NTP timestamp at buf[at:at+8] -> Unix milliseconds (integer)."""
    secs, frac = struct.unpack_from("!II", buf, at)
    if not secs & 0x80000000:  # era 1: after 2036-02-07 the 32-bit seconds wrap
        secs += 0x100000000
    return (secs - NTP_TO_UNIX) * 1000 + (frac * 1000 >> 32)


def parse(packet, nonce, rtt_ms):
    """A server's answer -> (Unix seconds, ms) at the moment it arrived, or None when
    it is not a usable answer to our request (wrong mode, unsynchronised server,
    kiss-of-death, another request's answer, truncated)."""
    if len(packet) < 48:
        return None
    b0 = packet[0]
    if b0 & 7 != 4 or b0 >> 6 == 3 or not 3 <= b0 >> 3 & 7 <= 4:
        return None  # not a server, clock not synchronised (LI 3), unknown version
    if not 1 <= packet[1] <= 15:
        return None  # stratum 0: kiss-of-death; 16: unsynchronised
    if packet[24:32] != nonce:
        return None  # not the answer to our request (RFC 4330 section 5: origin check)
    if packet[40:48] == b"\0" * 8:
        return None
    received = _ms(packet, 32)
    sent = _ms(packet, 40)
    # The answer travelled for half of the round trip minus the server's own time.
    held = max(0, sent - received)
    now = sent + max(0, rtt_ms - held) // 2
    return now // 1000, now % 1000


class Exchange:
    """One request in flight.  poll() -> None while waiting, (Unix s, ms) once
    answered; OSError after timeout_ms.  Packets that are not our answer are
    dropped and the wait goes on."""

    def __init__(self, addr, timeout_ms=3000):
        self.nonce = os.urandom(8)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.sock.connect(addr)  # only the server's datagrams are delivered to us
        self.sent = time.ticks_ms()
        self.timeout_ms = timeout_ms
        self.sock.send(request(self.nonce))

    def poll(self):
        sock = self.sock
        while True:
            try:
                packet = sock.recv(64)
            except OSError as e:
                if e.errno == errno.EAGAIN:  # nothing yet
                    break
                raise  # ECONNREFUSED: no NTP server at that address
            rtt = time.ticks_diff(time.ticks_ms(), self.sent)
            got = parse(packet, self.nonce, rtt)
            if got is not None:
                return got
        if time.ticks_diff(time.ticks_ms(), self.sent) > self.timeout_ms:
            raise OSError("no NTP answer within %d ms" % self.timeout_ms)
        return None

    def close(self):
        self.sock.close()
