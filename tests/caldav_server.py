"""A private CalDAV server (Radicale, from PyPI) on a free port of 127.0.0.1, for the tests of CalDAV calendars.

Users sign in with a password from an htpasswd file (plain text: tests only); each test gets its own storage
folder, so nothing is shared. `calendar(user, name)` makes a calendar through the caldav client itself.
"""

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import caldav
import requests


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class CalDAVServer:
    def __init__(self, users: dict[str, str]):
        self.users = users
        self.port = _free_port()
        self._folder = tempfile.TemporaryDirectory(prefix="radicale-")
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> "CalDAVServer":
        folder = Path(self._folder.name)
        users = folder / "users"
        users.write_text("".join(f"{name}:{password}\n" for name, password in self.users.items()))
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "radicale",
                "--server-hosts",
                f"127.0.0.1:{self.port}",
                "--storage-filesystem-folder",
                str(folder / "collections"),
                "--auth-type",
                "htpasswd",
                "--auth-htpasswd-filename",
                str(users),
                "--auth-htpasswd-encryption",
                "plain",
                "--rights-type",
                "owner_only",
                "--logging-level",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                requests.get(self.url, timeout=1)
                return self
            except requests.ConnectionError:
                if self._process.poll() is not None:
                    raise RuntimeError(f"Radicale did not start: {self._process.stderr.read().decode()}") from None
                time.sleep(0.1)
        raise RuntimeError("Radicale did not answer within 20 s")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
        self._folder.cleanup()

    def client(self, user: str) -> caldav.DAVClient:
        return caldav.DAVClient(url=self.url, username=user, password=self.users[user], timeout=10)

    def calendar(self, user: str, name: str) -> caldav.Calendar:
        principal = self.client(user).principal()
        return principal.make_calendar(name=name, cal_id=name.lower().replace(" ", "-"))
