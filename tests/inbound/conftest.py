"""Inbound mail fixtures: realistic messages from tests/fixtures/mail, a partner world with a
conflict waiting on the partner, and a real, throw-away Dovecot IMAP server on loopback."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import NOW
from tests.factories import make_conflict, make_manager, make_partner, make_partner_user, triage
from tests.servers import LOOPBACK, free_port
from tracker.extensions import db
from tracker.services import conflicts, mail_threads

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mail"
INTAKE = "conflicts@trustomer.example"


def mail_fixture(name: str, **values: str) -> bytes:
    """A fixture message with its %PLACEHOLDERS% filled in (ASCII values: the bytes of a
    Latin-1 or Shift-JIS body stay as they are)."""
    raw = (FIXTURES / name).read_bytes()
    for key, value in values.items():
        raw = raw.replace(f"%{key.upper()}%".encode(), value.encode())
    return raw


@dataclass
class World:
    """A partner user with a conflict waiting on their answer, a colleague, a manager, and an
    outsider of another partner."""

    partner_user: object
    colleague: object
    manager: object
    outsider: object
    conflict: object

    def reply(self, name: str, *, sender=None, reply_to: str | None = None, **values: str) -> bytes:  # type: ignore[no-untyped-def]
        user = sender or self.partner_user
        address = reply_to or mail_threads.reply_address(self.conflict.id, user.id)
        return mail_fixture(
            name,
            FROM=user.email,
            REPLY_TO=address,
            THREAD=mail_threads.thread_root_id(self.conflict.id),
            REF=self.conflict.ref,
            INTAKE=INTAKE,
            **values,
        )


@pytest.fixture
def intake(app):  # type: ignore[no-untyped-def]
    app.config.update(
        MAIL_INTAKE_ADDRESS=INTAKE,
        MAIL_FROM="Trustomer <trustomer@trustomer.example>",
        BASE_URL="https://trustomer.example",
    )
    return INTAKE


@pytest.fixture
def world(app, intake) -> World:  # type: ignore[no-untyped-def]
    acme = make_partner(name="Acme Logistics")
    partner_user = make_partner_user(acme, email="petra@acme.example", name="Petra Partner")
    colleague = make_partner_user(acme, email="paul@acme.example", name="Paul Partner")
    outsider = make_partner_user(
        make_partner(name="Globex"), email="gus@globex.example", name="Gus Globex"
    )
    manager = make_manager(email="anna@trustomer.example", name="Anna Manager")
    conflict = make_conflict(partner_user, title="Pallets for order 5521", now=NOW)
    triage(conflict, manager, now=NOW)
    conflicts.act(
        manager,
        conflict.id,
        "wait_on_partner",
        {"message": "When were the pallets collected?"},
        now=NOW,
    )
    db.session.expire_all()
    return World(partner_user, colleague, manager, outsider, conflict)


# --- a real IMAP server ------------------------------------------------------------------------


def _dovecot() -> str | None:
    found = shutil.which("dovecot")
    if found is None and os.path.exists("/usr/sbin/dovecot"):
        found = "/usr/sbin/dovecot"
    return found


@dataclass
class ImapServer:
    """A Dovecot instance of our own: its base_dir, one passwd-file user, a Maildir."""

    host: str
    port: int
    user: str
    password: str
    ca_file: str
    processed_folder: str = "Trustomer-processed"

    def connect(self) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=self.ca_file)
        connection = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=context, timeout=10)
        connection.login(self.user, self.password)
        return connection

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver a message into the mailbox (as the MTA would)."""
        connection = self.connect()
        try:
            connection.create(folder)
            typ, data = connection.append(folder, None, None, raw)
            assert typ == "OK", data
        finally:
            connection.logout()

    def count(self, folder: str = "INBOX") -> int:
        connection = self.connect()
        try:
            typ, data = connection.select(f'"{folder}"', readonly=True)
            if typ != "OK":
                return 0
            typ, data = connection.uid("SEARCH", None, "UNDELETED")
            return len((data[0] or b"").split())
        finally:
            connection.logout()

    def settings(self) -> dict[str, object]:
        return {
            "IMAP_HOST": self.host,
            "IMAP_PORT": self.port,
            "IMAP_USER": self.user,
            "IMAP_PASSWORD": self.password,
            "IMAP_FOLDER": "INBOX",
            "IMAP_PROCESSED_FOLDER": self.processed_folder,
            "IMAP_CA_FILE": self.ca_file,
        }

    def env(self) -> dict[str, str]:
        return {f"TRACKER_{key}": str(value) for key, value in self.settings().items()}


def _write_config(root: Path, port: int, mail_uid: int, mail_gid: int) -> Path:
    as_root = os.geteuid() == 0
    me = pwd.getpwuid(os.geteuid()).pw_name
    internal = "dovecot" if as_root else me
    login = "dovenull" if as_root else me
    (root / "passwd").write_text(
        f"inbox:{{PLAIN}}imap-test-secret:{mail_uid}:{mail_gid}::{root / 'home'}\n"
    )
    config = root / "dovecot.conf"
    config.write_text(
        f"""
base_dir = {root / "run"}
state_dir = {root / "state"}
instance_name = trustomer-test-{port}
listen = {LOOPBACK}
protocols = imap
ssl = required
ssl_cert = <{root / "cert.pem"}
ssl_key = <{root / "key.pem"}
disable_plaintext_auth = yes
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root / "passwd"}
}}
userdb {{
  driver = passwd-file
  args = {root / "passwd"}
}}
mail_location = maildir:{root / "home" / "Maildir"}
first_valid_uid = {min(mail_uid, 500)}
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
log_path = {root / "dovecot.log"}
ssl_min_protocol = TLSv1.2
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = {LOOPBACK}
    port = {port}
    ssl = yes
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
protocol imap {{
  mail_max_userip_connections = 50
}}
"""
    )
    return config


@pytest.fixture
def imap_server() -> Iterator[ImapServer]:
    """Dovecot on a free loopback port, TLS with a certificate made here for 127.0.0.1."""
    binary = _dovecot()
    if binary is None:
        pytest.skip("dovecot is not installed (scripts/ensure-dovecot.sh installs it as root)")
    # Not under pytest's tmp_path: that is private to root, and Dovecot's mail processes run
    # as the unprivileged mail user, who must reach the Maildir.
    root = Path(tempfile.mkdtemp(prefix="trustomer-imap-"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        mail_user = pwd.getpwnam("dovecot")
        uid, gid = mail_user.pw_uid, mail_user.pw_gid
    else:
        uid, gid = os.geteuid(), os.getegid()
    (root / "home").mkdir()
    os.chown(root / "home", uid, gid)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem"),
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    config = _write_config(root, port, uid, gid)
    # Dovecot daemonises: its master keeps no pipe of ours open (a captured one would never
    # reach EOF), so its output goes to the log file only.
    subprocess.run(
        [binary, "-c", str(config)],
        check=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = ImapServer(LOOPBACK, port, "inbox", "imap-test-secret", str(root / "cert.pem"))
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                server.connect().logout()
                break
            except (OSError, imaplib.IMAP4.error):
                if time.monotonic() > deadline:
                    log = (
                        (root / "dovecot.log").read_text()
                        if (root / "dovecot.log").exists()
                        else ""
                    )
                    raise RuntimeError(f"dovecot did not come up:\n{log}") from None
                time.sleep(0.1)
        yield server
    finally:
        subprocess.run(
            ["doveadm", "-c", str(config), "stop"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
        )
        deadline = time.monotonic() + 5
        while (root / "run" / "master.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        shutil.rmtree(root, ignore_errors=True)
