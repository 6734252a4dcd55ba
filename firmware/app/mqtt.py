# The MQTT 3.1.1 session of a node, umqtt.simple's client redone for what
# delivery needs (its fields and framing kept; not a subclass: its bytecode is
# 3 KB of heap on a board that runs none of it):
#  - TLS through tls.SSLContext (umqtt.simple imports `ussl`, gone in 1.25),
#    certificate and host-name verification on unless the config says
#    `tls_insecure_skip_verify`;
#  - every packet framed in one buffer and written with ONE socket write
#    (several small writes meet Nagle and delayed ACKs: ~23 publishes/s);
#  - QoS 1 publishes that do not wait: PUBACKs are read later by poll(),
#    so a window of publishes can be in flight;
#  - a connect that never waits (TCP, TLS handshake, CONNECT, CONNACK driven
#    step by step on a non-blocking socket) and name lookups through a cache;
#  - a non-blocking reader (PUBACK, PUBLISH, SUBACK, PINGRESP) and keepalive
#    with dead-connection detection; every blocking write has a timeout.
import errno
import select
import socket
import struct
import time

from app.console import say

HEAD_ROOM = 5  # fixed header: type byte + up to 4 remaining-length bytes
PHASES = (None, "TCP", "TLS handshake/CONNECT", "CONNACK")
_resolver = None


def resolver():
    """The node's one name cache (app.resolve), made on first use."""
    global _resolver
    if _resolver is None:
        from app.resolve import Resolver
        _resolver = Resolver()
    return _resolver


class ProtocolError(OSError):
    pass


class MQTTException(Exception):
    """The broker said no: a CONNACK return code (4 bad user/password, 5 not authorized)
    or a refused subscription."""


def tls_context(broker, read_file=None):
    """tls.SSLContext for the broker section, or None for plain TCP.

    broker: {"tls": true, "ca": path, "cert": path, "key": path,
             "tls_insecure_skip_verify": false}
    """
    if not broker.get("tls"):
        return None
    import tls

    read_file = read_file or _read
    ctx = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)  # verify_mode CERT_REQUIRED
    if broker.get("tls_insecure_skip_verify") is True:
        say("mqtt: WARNING: TLS certificate verification is OFF (tls_insecure_skip_verify)")
        ctx.verify_mode = tls.CERT_NONE
    else:
        ca = broker.get("ca")
        if not ca:
            raise ValueError("broker.tls needs broker.ca (the municipality's CA, PEM)")
        ctx.load_verify_locations(read_file(ca))
    if broker.get("cert"):
        ctx.load_cert_chain(read_file(broker["cert"]), read_file(broker["key"]))
    return ctx


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def put_length(buf, end, n):
    """Write n as MQTT remaining length ending just before `end`; -> start index."""
    digits = 1
    v = n >> 7
    while v:
        digits += 1
        v >>= 7
    i = end - digits
    start = i
    while True:
        b = n & 0x7F
        n >>= 7
        buf[i] = b | 0x80 if n else b
        i += 1
        if not n:
            return start


def _utf8(s):
    return s.encode() if isinstance(s, str) else bytes(s)


class Session:
    """One connection to the broker.  Callbacks: on_puback(pid), on_message(topic, payload);
    payload is None when a PUBLISH was too big for the receive buffer (it is skipped)."""

    def __init__(self, client_id, host, port=1883, user=None, password=None, keepalive=60,
                 ssl_context=None, server_hostname=None, timeout=5, rx_size=1024, names=None):
        self.client_id = client_id
        self.server = host
        self.port = port
        self.user = user
        self.pswd = password
        self.keepalive = keepalive
        self.lw_topic = None
        self.sock = None
        self.resolver = names or resolver()
        self.ctx = ssl_context
        self.server_hostname = server_hostname or host
        self.timeout = timeout
        self.raw = None
        self._rx = bytearray(rx_size)
        self._rxv = memoryview(self._rx)
        self._rn = 0
        self._skip = 0
        self._blocking = True
        self._poller = None
        self.on_puback = None
        self.on_message = None
        self.outstanding = 0  # PUBACKs and PINGRESPs we wait for
        self._waiting_since = None
        self._last_tx = 0
        self._pid = 0
        self._phase = 0  # connecting: 1 TCP, 2 TLS handshake and CONNECT, 3 CONNACK
        self._out = None
        self.connected = False

    def set_last_will(self, topic, msg, retain=False, qos=0):
        self.lw_topic = topic
        self.lw_msg = msg
        self.lw_qos = qos
        self.lw_retain = retain

    # -- connection --------------------------------------------------------------
    def connect(self, clean_session=True):
        """Connect and wait for the CONNACK (each phase bounded by self.timeout)."""
        self.begin(clean_session)
        while not self.advance():
            time.sleep_ms(2)

    def begin(self, clean_session=True):
        """Start connecting without waiting; then call advance() until it returns True.
        Only a name lookup the resolver has not cached can block here (app.resolve)."""
        self.close()
        addr = self.resolver.addr(self.server, self.port)
        raw = socket.socket()
        self.raw = raw
        try:
            # Our packets are whole already; Nagle would only hold PUBACKs and pings back.
            raw.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY (Linux and lwIP)
        except (OSError, AttributeError):
            pass
        raw.setblocking(False)
        try:
            raw.connect(addr)
        except OSError as e:
            if e.errno != errno.EINPROGRESS:
                raise
        self._clean = clean_session
        self._phase = 1
        self._deadline = time.ticks_add(time.ticks_ms(), self.timeout * 1000)
        self._poller = select.poll()
        self._poller.register(raw, select.POLLOUT)

    def advance(self):
        """-> True once the broker has accepted us; False while waiting; raises on failure.
        Never waits: each call does what the sockets allow now (the whole connect,
        TLS handshake included, is bounded by self.timeout)."""
        if self._phase == 0:
            return self.connected
        if time.ticks_diff(time.ticks_ms(), self._deadline) > 0:
            raise ProtocolError("connect timed out (%s)" % PHASES[self._phase])
        ready = self._poller.poll(0)
        if not ready:
            return False
        if self._phase == 1:  # TCP is up (or failed)
            if ready[0][1] & (select.POLLERR | select.POLLHUP):
                raise ProtocolError("connection refused")
            sock = self.raw
            if self.ctx is not None:
                # MicroPython 1.25 (extmod/modtls_mbedtls.c): without the handshake on
                # connect, mbedTLS runs it inside the socket's reads and writes; on a
                # non-blocking socket they return None (EAGAIN) while it waits for the
                # broker, and the SSL socket's poll asks for the direction it needs.
                # A refused certificate raises from that write.
                sock = self.ctx.wrap_socket(self.raw, server_hostname=self.server_hostname,
                                            do_handshake_on_connect=False)
            self.sock = sock
            self._blocking = False
            self._rn = 0
            self._skip = 0
            self.outstanding = 0
            self._waiting_since = None
            self._out = self._connect_packet(self._clean)
            self._poller = select.poll()
            self._poller.register(sock, select.POLLOUT)
            self._phase = 2
            ready = self._poller.poll(0)
            if not ready:
                return False
        if self._phase == 2:  # TLS handshake (driven by the write) and CONNECT
            n = self.sock.write(self._out)
            if n is None:
                return False
            self._out = self._out[n:]
            if len(self._out):
                return False
            self._out = None
            self._last_tx = time.ticks_ms()
            self._poller = select.poll()
            self._poller.register(self.sock, select.POLLIN)
            self._phase = 3
            return False
        n = self.sock.readinto(self._rxv[self._rn:4])  # the CONNACK, 4 bytes
        if n is None:
            return False
        if not n:
            raise ProtocolError("connection closed")
        self._rn += n
        if self._rn < 4:
            return False
        self._rn = 0
        ack = self._rx
        if ack[0] != 0x20 or ack[1] != 0x02:
            raise ProtocolError("expected CONNACK, got %r" % bytes(ack[:4]))
        if ack[3]:
            raise MQTTException(ack[3])  # 4: bad user/password, 5: not authorized
        self._phase = 0
        self.connected = True
        return True

    def _connect_packet(self, clean_session):
        fields = [_utf8(self.client_id)]
        flags = 0x02 if clean_session else 0
        if self.lw_topic:
            fields.append(_utf8(self.lw_topic))
            fields.append(_utf8(self.lw_msg))
            flags |= 0x04 | (self.lw_qos & 3) << 3 | (0x20 if self.lw_retain else 0)
        if self.user is not None:
            fields.append(_utf8(self.user))
            fields.append(_utf8(self.pswd or ""))
            flags |= 0xC0
        size = 10 + sum(2 + len(f) for f in fields)
        buf = bytearray(HEAD_ROOM + size)
        p = HEAD_ROOM
        buf[p:p + 10] = b"\x00\x04MQTT\x04\x00\x00\x00"
        buf[p + 7] = flags
        struct.pack_into("!H", buf, p + 8, self.keepalive)
        p += 10
        for f in fields:
            struct.pack_into("!H", buf, p, len(f))
            buf[p + 2:p + 2 + len(f)] = f
            p += 2 + len(f)
        start = put_length(buf, HEAD_ROOM, size) - 1
        buf[start] = 0x10
        return memoryview(buf)[start:]

    def close(self):
        self.connected = False
        self._phase = 0
        s, self.sock = self.sock, None
        raw, self.raw = self.raw, None
        # A connect that failed before TLS and CONNECT (refused, timed out) has only the
        # raw socket: left to the GC, a retry every 2 s against a dead broker ran the
        # unix port out of descriptors in minutes (an ESP32 has 10 lwIP sockets).
        for sock in (s, raw if raw is not s else None):
            if sock is not None:
                try:
                    sock.close()
                except Exception:
                    pass
        self._poller = None

    def disconnect(self):
        try:
            self._send(b"\xe0\x00")
        finally:
            self.close()

    # -- writing -----------------------------------------------------------------
    def _set_blocking(self, blocking):
        if blocking != self._blocking:
            if blocking:
                self.sock.setblocking(True)
                self.raw.settimeout(self.timeout)  # TLS reads and writes go through raw
            else:
                self.sock.setblocking(False)
            self._blocking = blocking

    def _send(self, data):
        self._set_blocking(True)
        n = self.sock.write(data)
        if n is not None and n != len(data):
            raise ProtocolError("short write")
        self._last_tx = time.ticks_ms()

    def next_pid(self):
        self._pid = self._pid % 65535 + 1
        return self._pid

    def frame_publish(self, buf, start, end, topic, qos=1, retain=False):
        """The payload is buf[start:end]; write topic, packet id and fixed header
        just before it (start must leave HEAD_ROOM + 4 + len(topic) bytes).
        -> (pid or 0, memoryview of the whole packet)."""
        topic = _utf8(topic)
        pid = 0
        p = start
        if qos:
            pid = self.next_pid()
            p -= 2
            struct.pack_into("!H", buf, p, pid)
        p -= len(topic)
        buf[p:p + len(topic)] = topic
        p -= 2
        struct.pack_into("!H", buf, p, len(topic))
        p = put_length(buf, p, end - p) - 1
        buf[p] = 0x30 | qos << 1 | (1 if retain else 0)
        return pid, memoryview(buf)[p:end]

    def send_publish(self, packet, qos):
        self._send(packet)
        if qos:
            self._expect()

    def publish(self, topic, msg, retain=False, qos=0):
        """Publish without waiting for the PUBACK (it comes through poll()); -> pid or 0."""
        topic = _utf8(topic)
        msg = _utf8(msg)
        start = HEAD_ROOM + 4 + len(topic)
        buf = bytearray(start + len(msg))
        buf[start:] = msg
        pid, pkt = self.frame_publish(buf, start, len(buf), topic, qos, retain)
        self.send_publish(pkt, qos)
        return pid

    def subscribe(self, topic, qos=1):
        topic = _utf8(topic)
        size = 2 + 2 + len(topic) + 1
        buf = bytearray(HEAD_ROOM + size)
        p = HEAD_ROOM
        struct.pack_into("!HH", buf, p, self.next_pid(), len(topic))
        buf[p + 4:p + 4 + len(topic)] = topic
        buf[-1] = qos
        start = put_length(buf, HEAD_ROOM, size) - 1
        buf[start] = 0x82
        self._send(memoryview(buf)[start:])
        self._expect()

    def ping(self):
        self._send(b"\xc0\x00")
        self._expect()

    def _expect(self):
        if not self.outstanding:
            self._waiting_since = time.ticks_ms()
        self.outstanding += 1

    def _answered(self):
        if self.outstanding:
            self.outstanding -= 1
        self._waiting_since = time.ticks_ms() if self.outstanding else None

    # -- reading -----------------------------------------------------------------
    def poll(self, timeout_ms=0):
        """Read and dispatch whatever has arrived; -> bytes read.
        Raises OSError when the connection is closed, broken or dead."""
        if not self.connected:
            raise ProtocolError("not connected")
        got = 0
        wait = timeout_ms
        while self._poller.poll(wait):
            wait = 0
            self._set_blocking(False)
            n = self.sock.readinto(self._rxv[self._rn:])
            if n is None:
                break
            if n == 0:
                raise ProtocolError("connection closed by broker")
            self._rn += n
            got += n
            self._parse()
            if self._rn < len(self._rx):
                # Short read: drained for now (TLS may hold a decrypted record: poll again).
                if self.ctx is None:
                    break
        return got

    def _parse(self):
        rx = self._rx
        handled = 0
        pos = 0
        while True:
            avail = self._rn - pos
            if self._skip:
                if not avail:
                    break
                k = min(self._skip, avail)
                self._skip -= k
                pos += k
                continue
            if avail < 2:
                break
            # Remaining length: up to 4 bytes.
            n = 0
            shift = 0
            i = pos + 1
            while True:
                if i >= self._rn:
                    n = -1
                    break
                b = rx[i]
                n |= (b & 0x7F) << shift
                i += 1
                if not b & 0x80:
                    break
                shift += 7
                if shift > 21:
                    raise ProtocolError("bad remaining length")
            if n < 0:
                break
            end = i + n
            if end - pos > len(rx):
                # Too big for our buffer: only a PUBLISH (a command) can be; acknowledge,
                # report and skip it, once its topic and packet id are in.
                kind = rx[pos]
                if kind & 0xF0 != 0x30:
                    raise ProtocolError("oversized packet 0x%02x" % kind)
                if i + 2 > self._rn:
                    break
                tl = rx[i] << 8 | rx[i + 1]
                head = i + 2 + tl + (2 if kind & 6 else 0)
                if head > self._rn:
                    if head - pos > len(rx):
                        raise ProtocolError("topic too long")
                    break
                topic = bytes(rx[i + 2:i + 2 + tl])
                if kind & 6 == 2:
                    self._send(bytes((0x40, 2, rx[head - 2], rx[head - 1])))
                self._skip = end - self._rn
                pos = self._rn
                handled += 1
                if self.on_message:
                    self.on_message(topic, None)
                continue
            if end > self._rn:
                break
            self._dispatch(rx[pos], i, end)
            handled += 1
            pos = end
        if pos:
            rest = self._rn - pos
            rx[0:rest] = rx[pos:self._rn]
            self._rn = rest
        return handled

    def _dispatch(self, kind, i, end):
        rx = self._rx
        t = kind & 0xF0
        if t == 0x40:  # PUBACK
            self._answered()
            if self.on_puback:
                self.on_puback(rx[i] << 8 | rx[i + 1])
        elif t == 0x30:  # PUBLISH
            qos = kind >> 1 & 3
            tl = rx[i] << 8 | rx[i + 1]
            topic = bytes(rx[i + 2:i + 2 + tl])
            p = i + 2 + tl
            pid = 0
            if qos:
                pid = rx[p] << 8 | rx[p + 1]
                p += 2
            msg = bytes(rx[p:end])
            if qos == 1:
                self._send(bytes((0x40, 2, pid >> 8, pid & 0xFF)))
            if self.on_message:
                self.on_message(topic, msg)
        elif t == 0x90 or t == 0xD0:  # SUBACK, PINGRESP
            self._answered()
            if t == 0x90 and end > i + 2 and rx[i + 2] == 0x80:
                raise MQTTException("subscription refused")
        else:
            raise ProtocolError("unexpected packet 0x%02x" % kind)

    # -- liveness ----------------------------------------------------------------
    def keepalive_due(self, now_ms):
        """Ping when we have been quiet for half the keepalive; raise if an answer
        (PUBACK, PINGRESP, SUBACK) is overdue by a whole keepalive (a dead connection)."""
        if not self.keepalive:
            return
        ka = self.keepalive * 1000
        if self._waiting_since is not None and time.ticks_diff(now_ms, self._waiting_since) > ka:
            raise ProtocolError("broker silent for %d s: connection dead" % self.keepalive)
        if time.ticks_diff(now_ms, self._last_tx) >= ka // 2:
            self.ping()
