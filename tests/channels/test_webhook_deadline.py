"""A webhook receiver that answers a byte at a time cannot hold a deliverer past its lease."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.servers import LOOPBACK
from tracker.channels import DeliveryError
from tracker.channels.webhook import post_json


def _trickling_server() -> tuple[socket.socket, threading.Event]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind((LOOPBACK, 0))
    server.listen(1)
    stop = threading.Event()

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
                if stop.is_set():
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.2)  # each byte well within the per-operation timeout

    threading.Thread(target=serve, daemon=True).start()
    return server, stop


def test_a_trickling_receiver_is_cut_off_at_the_total_deadline() -> None:
    server, stop = _trickling_server()
    url = f"http://{LOOPBACK}:{server.getsockname()[1]}/hook"
    started = time.monotonic()
    try:
        with pytest.raises(DeliveryError, match="took longer than 1 s"):
            post_json(url, {"event": "test"}, timeout=5.0, total_timeout=1.0)
    finally:
        stop.set()
        server.close()
    assert time.monotonic() - started < 5  # not the 5 s per-operation timeout, nor longer
