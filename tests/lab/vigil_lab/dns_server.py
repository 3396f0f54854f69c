"""A small authoritative DNS server for labs and tests (UDP, A and AAAA, RFC 1035's wire
format), whose records a test changes while it runs. Names it does not hold are NXDOMAIN.

    dns = DnsServer("127.0.0.1")           # a free port
    dns.set("app.test", ["10.0.0.5"], ttl=2)
    ...
    dns.close()

Run as a program (`python3 -m vigil_lab.dns_server ADDRESS PORT NAME=IP,IP[/TTL] ...`) it
serves those records until killed, for a lab node."""

from __future__ import annotations

import ipaddress
import socket
import struct
import sys
import threading


class DnsServer:
    def __init__(self, address: str = "127.0.0.1", port: int = 0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, port))
        self.port = self.sock.getsockname()[1]
        self.records: dict[str, tuple[list[str], int]] = {}
        self.queries: dict[str, int] = {}
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def set(self, name: str, addresses: list[str], ttl: int = 60):
        with self.lock:
            self.records[name.lower().rstrip(".")] = (list(addresses), ttl)

    def close(self):
        self.sock.close()

    def serve(self):
        while True:
            try:
                query, peer = self.sock.recvfrom(1500)
            except OSError:
                return
            answer = self.answer(query)
            if answer:
                try:
                    self.sock.sendto(answer, peer)
                except OSError:
                    return

    def answer(self, query: bytes) -> bytes | None:
        if len(query) < 12:
            return None
        at, labels = 12, []
        while at < len(query) and query[at] != 0:
            size = query[at]
            labels.append(query[at + 1:at + 1 + size].decode("ascii", "replace"))
            at += 1 + size
        if at + 5 > len(query):
            return None
        qtype = struct.unpack(">H", query[at + 1:at + 3])[0]
        name = ".".join(labels).lower()
        with self.lock:
            self.queries[name] = self.queries.get(name, 0) + 1
            record = self.records.get(name)
        flags = 0x8180 if record else 0x8183  # a response, recursion available; NXDOMAIN
        answers = b""
        count = 0
        for text in (record[0] if record else []):
            ip = ipaddress.ip_address(text)
            if (qtype, ip.version) not in ((1, 4), (28, 6)):
                continue
            answers += b"\xc0\x0c" + struct.pack(">HHIH", qtype, 1, record[1], len(ip.packed))
            answers += ip.packed
            count += 1
        header = query[:2] + struct.pack(">HHHHH", flags, 1, count, 0, 0)
        return header + query[12:at + 5] + answers


def main() -> int:
    server = DnsServer(sys.argv[1], int(sys.argv[2]))
    for spec in sys.argv[3:]:
        name, _, rest = spec.partition("=")
        addresses, _, ttl = rest.partition("/")
        server.set(name, addresses.split(","), int(ttl or 60))
    print(server.port, flush=True)
    server.thread.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
