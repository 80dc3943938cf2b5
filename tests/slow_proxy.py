"""A TCP proxy on 127.0.0.1 that passes requests on at once and holds each answer back for a while:
Stripe made slow for real, so a request reaches the server (and is carried out) while the
client's timeout runs out. Requests that start with one of `quick` (say b"GET /v1/payment_methods/") are
answered at once, so a test can make one kind of call slow. Bounded: a connection lives at most
`max_seconds`, and `stop()` ends everything.
"""

import socket
import threading
import time


class SlowProxy:
    def __init__(self, upstream_port: int, *, delay: float, max_seconds: float = 20, quick: tuple[bytes, ...] = ()):
        self.upstream = ("127.0.0.1", upstream_port)
        self.delay = delay
        self.quick = quick
        self.max_seconds = max_seconds
        self.requests = 0  # connections that sent a request on to the server
        self._stopped = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._threads: list[threading.Thread] = []

    def start(self) -> "SlowProxy":
        self._spawn(self._accept)
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:  # timeout, or closed by stop()
                continue
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        ends_at = time.monotonic() + self.max_seconds
        try:
            upstream = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            client.close()
            return
        with client, upstream:
            for sock in (client, upstream):
                sock.settimeout(0.2)
            sent = False
            answer_due = None
            while not self._stopped.is_set() and time.monotonic() < ends_at:
                data = self._read(client)
                if data is None:
                    return  # the client gave up (its timeout) or finished
                if data:
                    upstream.sendall(data)
                    if not sent:
                        sent, self.requests = True, self.requests + 1
                    answer_due = time.monotonic() + (0 if data.startswith(self.quick) else self.delay)
                if answer_due is not None and time.monotonic() >= answer_due:
                    answer = self._read(upstream)
                    if answer is None:
                        return
                    if answer:
                        client.sendall(answer)

    @staticmethod
    def _read(sock: socket.socket) -> bytes | None:
        """Bytes waiting on the socket, b"" if none yet, None once it is closed."""
        try:
            data = sock.recv(65536)
        except TimeoutError:
            return b""
        except OSError:
            return None
        return data or None
