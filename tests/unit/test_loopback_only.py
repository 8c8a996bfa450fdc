"""The suite's own guard: nothing in a test can connect beyond this machine.

The refused targets are multicast groups, to which the kernel itself never opens a TCP
connection (ENETUNREACH): even a broken guard would send nothing off the machine.
"""

from __future__ import annotations

import socket

import pytest


@pytest.mark.parametrize(
    ("family", "address"),
    [(socket.AF_INET, ("224.0.0.1", 443)), (socket.AF_INET6, ("ff02::1", 443))],
)
def test_a_connection_off_this_machine_is_refused_by_the_guard(family, address) -> None:
    with (
        socket.socket(family, socket.SOCK_STREAM) as sock,
        pytest.raises(ConnectionRefusedError, match="loopback only"),
    ):
        sock.connect(address)


def test_loopback_is_reachable() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
