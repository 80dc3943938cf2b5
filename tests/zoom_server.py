"""A local stand-in for Zoom's OAuth and meetings API, enough for the meeting provider.

POST /oauth/token?grant_type=account_credentials&account_id=…  (HTTP Basic client id/secret)
POST /v2/users/me/meetings                                       (Bearer token) -> 201 with join_url
It checks credentials like Zoom does, and records what it was asked.
"""

import base64
import itertools
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class LocalZoom:
    def __init__(self, *, account_id="acct-1", client_id="client-1", client_secret="secret-1"):
        self.account_id, self.client_id, self.client_secret = account_id, client_id, client_secret
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.meetings: list[dict] = []
        self._ids = itertools.count(81000000001)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "LocalZoom":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def _handler(self):
        zoom = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if url.path == "/oauth/token":
                    return self._token(parse_qs(url.query))
                if url.path == "/v2/users/me/meetings":
                    return self._meeting(json.loads(body or b"{}"))
                return self._reply(404, {"code": 404, "message": "Not found"})

            def _token(self, query):
                zoom.token_requests += 1
                expected = base64.b64encode(f"{zoom.client_id}:{zoom.client_secret}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    return self._reply(401, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"})
                if query.get("grant_type") != ["account_credentials"] or query.get("account_id") != [zoom.account_id]:
                    return self._reply(400, {"reason": "Invalid request", "error": "invalid_request"})
                token = secrets.token_urlsafe(16)
                zoom.tokens.add(token)
                return self._reply(200, {"access_token": token, "token_type": "bearer", "expires_in": 3599})

            def _meeting(self, payload):
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if token not in zoom.tokens:
                    return self._reply(401, {"code": 124, "message": "Invalid access token."})
                meeting_id = next(self._ids_source())
                meeting = {
                    "id": meeting_id,
                    "join_url": f"https://zoom.example/j/{meeting_id}?pwd={secrets.token_urlsafe(8)}",
                    **payload,
                }
                zoom.meetings.append(meeting)
                return self._reply(201, meeting)

            def _ids_source(self):
                return zoom._ids

        return Handler
