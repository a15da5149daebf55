"""A throwaway Dovecot IMAP server on loopback, for the email intake tests.

Debian's ``dovecot-imapd`` (``apt-get install dovecot-imapd``), started with
its own config and passwd-file in a fresh folder on a free port, and stopped
afterwards. Without the binary the IMAP tests skip, or fail when
``REQUIRE_IMAP=1`` (as in CI).
"""

from __future__ import annotations

import imaplib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port

CONF_TEMPLATE = Path(__file__).parent / "dovecot-loopback.conf.in"
USER = "inbox@test.local"
PASSWORD = "secret"


@dataclass
class ImapServer:
    host: str
    port: int  # IMAP; with TLS it also offers STARTTLS
    user: str
    password: str
    base: Path
    ssl_port: int | None = None  # IMAPS, when started with TLS
    cafile: Path | None = None  # the self-signed certificate to trust

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(self.user, self.password)
        return conn


def _unavailable(reason: str) -> None:
    if os.environ.get("REQUIRE_IMAP") == "1":
        pytest.fail(f"REQUIRE_IMAP=1 but {reason}")
    pytest.skip(reason)


def _self_signed_certificate(base: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        _unavailable("openssl is not installed (it comes with dovecot-core)")
    cert, key = base / "cert.pem", base / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def start_dovecot(*, tls: bool = False) -> tuple[ImapServer, int]:
    """Start Dovecot; with ``tls`` also IMAPS and STARTTLS with a self-signed certificate."""
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not os.path.exists(binary):
        _unavailable("dovecot is not installed (apt-get install dovecot-imapd)")
    if os.geteuid() != 0:
        _unavailable("starting dovecot needs root (its login process drops privileges)")
    base = Path(tempfile.mkdtemp(prefix="conectados-dovecot-"))
    base.chmod(0o755)  # the dovecot user must reach its mail folder below
    for name in ("mail", "run", "state"):
        (base / name).mkdir()
    port = free_port()
    config = CONF_TEMPLATE.read_text().replace("@BASE@", str(base)).replace("@PORT@", str(port))
    ssl_port = cafile = None
    if tls:
        cafile, key = _self_signed_certificate(base)
        ssl_port = free_port()
        config = config.replace("ssl = no", f"ssl = yes\nssl_cert = <{cafile}\nssl_key = <{key}")
        config = config.replace("  inet_listener imaps {\n    port = 0\n  }",
                                "  inet_listener imaps {\n    address = 127.0.0.1\n"
                                f"    port = {ssl_port}\n    ssl = yes\n  }}")
        assert f"port = {ssl_port}" in config
    (base / "dovecot.conf").write_text(config)
    (base / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    shutil.chown(base / "mail", "dovecot", "dovecot")
    subprocess.run([binary, "-c", str(base / "dovecot.conf")], check=True)
    deadline = time.monotonic() + 15
    pid_file = base / "run" / "master.pid"
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            pid = int(pid_file.read_text())
            break
        except (OSError, ValueError):
            if time.monotonic() > deadline:
                log = (base / "dovecot.log")
                raise RuntimeError("dovecot did not start: "
                                   + (log.read_text() if log.exists() else "no log")) from None
            time.sleep(0.1)
    server = ImapServer("127.0.0.1", port, USER, PASSWORD, base, ssl_port, cafile)
    return server, pid


def stop_dovecot(server: ImapServer, pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    shutil.rmtree(server.base, ignore_errors=True)


def empty_mailbox(server: ImapServer, *folders: str) -> None:
    """Delete every message of INBOX and drop the other folders (fresh state per test)."""
    conn = server.connect()
    try:
        _, data = conn.select("INBOX")
        if int(data[0]):
            conn.store("1:*", "+FLAGS", r"(\Deleted)")
            conn.expunge()
        conn.close()
        for folder in folders:
            conn.delete(f'"{folder}"')
    finally:
        conn.logout()
