# Name lookups for the link (broker, NTP server): bounded in number, cached.
#
# socket.getaddrinfo has no timeout and blocks the whole VM, asyncio loop and
# sensing included.  On the ESP32 it waits in lwIP's resolver (ESP-IDF
# components/lwip dns.c): a query is sent again after 1, 1, 2 and 3 s
# (DNS_MAX_RETRIES 4, one-second DNS timer), then the next DNS server is asked
# the same way; so a lookup blocks for up to about 7 s per DNS server the DHCP
# lease names (ESP-IDF keeps at most 3: 21 s).  That worst case cannot be cut
# from Python, so it is made rare:
#  - an IP literal never reaches a DNS server (getaddrinfo parses it at once);
#  - a good answer is reused for TTL_S;
#  - after a failure on the address (a connect that failed) the name is asked
#    again, but at most once per RETRY_S; a lookup that fails keeps the last
#    good address in use.
import socket
import time

TTL_S = 3600
RETRY_S = 300


def is_ip(host):
    parts = host.split(".")
    return len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts)


class Resolver:
    def __init__(self, getaddrinfo=None):
        self._getaddrinfo = getaddrinfo or socket.getaddrinfo
        self._cache = {}  # (host, port) -> [sockaddr, ticks_ms asked, stale]
        self.lookups = 0  # DNS lookups made (literals not counted)

    def addr(self, host, port):
        """-> a sockaddr for socket.connect; OSError when the name is unknown and
        no earlier answer exists."""
        if is_ip(host):
            return self._getaddrinfo(host, port)[0][-1]
        key = (host, port)
        entry = self._cache.get(key)
        now = time.ticks_ms()
        if entry is not None:
            age = time.ticks_diff(now, entry[1])
            if 0 <= age < (RETRY_S if entry[2] else TTL_S) * 1000:  # < 0: ticks wrapped
                return entry[0]
        self.lookups += 1
        try:
            found = self._getaddrinfo(host, port)[0][-1]
        except OSError:
            if entry is None:
                raise
            entry[1] = now  # keep the old address; ask again after RETRY_S
            return entry[0]
        self._cache[key] = [found, now, False]
        return found

    def failed(self, host):
        """The address of host did not answer: ask the name again, once RETRY_S has
        passed since it was last asked."""
        for key, entry in self._cache.items():
            if key[0] == host:
                entry[2] = True
