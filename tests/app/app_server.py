"""Helpers of the app's tests that start ``clustersim-app`` for real: a free port, a wait."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request

import pytest

__all__ = ["free_port", "wait_for_server"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(port: int, server: subprocess.Popen, timeout_s: float = 60) -> str:
    """The app's HTML once the server on ``port`` answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as reply:
                return reply.read().decode()
        except OSError:
            if server.poll() is not None:
                pytest.fail(f"clustersim-app exited with code {server.returncode}")
            time.sleep(0.5)
    pytest.fail(f"clustersim-app did not answer within {timeout_s} s")
