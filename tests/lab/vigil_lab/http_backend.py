"""A backend behind vigil-l7 in the system tests and the demo: an HTTP/1.1 server that answers
GET with its name (GET /zeros/N: N zero bytes), POST and PUT with its name and the body's
length, and says which route field, scheme and client certificate subject it saw. Prints its
port, then serves until killed (a kill closes every connection at once). Given a certificate
and its key, it serves HTTPS.

    http_backend.py NAME [ADDRESS PORT [CERTIFICATE KEY]]     (default 127.0.0.1, a free port)"""

from __future__ import annotations

import http.server
import sys


class Named(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path.startswith("/zeros/"):
            # N bytes of zeros, streamed: a large download through the proxy.
            size = int(self.path[len("/zeros/"):])
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            block = bytes(1 << 20)
            while size > 0:
                n = min(size, len(block))
                self.wfile.write(block[:n])
                size -= n
            return
        self.answer(NAME.encode())

    def do_PUT(self):
        # A large upload, read and dropped as it comes.
        left = int(self.headers.get("Content-Length", 0))
        total = 0
        while left > 0:
            data = self.rfile.read(min(left, 1 << 20))
            if not data:
                break
            total += len(data)
            left -= len(data)
        self.answer(f"{NAME} got {total}".encode())

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        data = self.rfile.read(length)
        self.answer(f"{NAME} got {len(data)}".encode())

    def answer(self, body: bytes):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Seen-Route", self.headers.get("X-Route", "-"))
        self.send_header("X-Seen-Proto", self.headers.get("X-Forwarded-Proto", "-"))
        self.send_header("X-Seen-Subject", self.headers.get("X-Client-Subject", "-"))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


NAME = sys.argv[1]
ADDRESS = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
PORT = int(sys.argv[3]) if len(sys.argv) > 3 else 0
class Server(http.server.ThreadingHTTPServer):
    # A listen backlog like a real server's (nginx: 511), not socketserver's 5: a proxy worker
    # opening its pool's connections at once must not have its SYNs dropped.
    request_queue_size = 511


server = Server((ADDRESS, PORT), Named)
server.daemon_threads = True
if len(sys.argv) > 5:
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[4], sys.argv[5])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
