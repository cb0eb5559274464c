"""The ``clustersim-app`` command: the Solara call it makes, and a real server answering."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from app_server import free_port, wait_for_server
from threadpoolctl import threadpool_limits

from clustersim.app import main
from conftest import run_python


def test_clustersim_app_runs_solara_on_localhost(monkeypatch) -> None:
    from solara.__main__ import cli

    calls = []
    monkeypatch.setattr(cli, "main", lambda **kwargs: calls.append(kwargs))
    with threadpool_limits(limits=None):  # main() limits BLAS for its process: given back
        main([])
        main(["--host", "0.0.0.0", "--port", "9000", "--open"])
    assert calls[0]["args"] == [
        "run",
        "clustersim.app.page",
        "--host",
        "127.0.0.1",
        "--port",
        "8765",
        "--production",
        "--no-open",
    ]
    assert calls[1]["args"][2:7] == ["--host", "0.0.0.0", "--port", "9000", "--production"]
    assert calls[1]["args"][-1] == "--open"


def test_the_app_server_holds_one_blas_thread_from_its_start() -> None:
    # sessions step their models in the server's threads, where OpenBLAS keeps the count
    # the main thread set: one from the start gives them the commands' bits
    probe = (
        "import numpy, threadpoolctl\n"
        "from solara.__main__ import cli\n"
        "def blas():\n"
        "    return sorted({i['num_threads'] for i in threadpoolctl.threadpool_info()"
        " if i['user_api'] == 'blas'})\n"
        "cli.main = lambda **kwargs: print('serving', blas())\n"
        "print('before', blas())\n"
        "from clustersim.app import main\n"
        "main([])\n"
    )
    out = run_python(probe, OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS=None)
    assert out.returncode == 0, out.stderr
    default = min(2, os.cpu_count() or 1)
    assert out.stdout.splitlines() == [f"before [{default}]", "serving [1]"]


def test_a_port_out_of_range_is_one_line_before_solara_starts(monkeypatch, capsys) -> None:
    from solara.__main__ import cli

    monkeypatch.setattr(cli, "main", lambda **kwargs: pytest.fail("solara started"))
    for port, said in (("99999", "between 1 and 65535, got 99999"), ("abc", "whole number")):
        with pytest.raises(SystemExit) as exited:
            main(["--port", port])
        assert exited.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("clustersim-app: error: argument --port: a port is ")
        assert said in err[-1] and len(err) == 2  # argparse's usage line, then the error


def test_clustersim_app_command_serves_the_page() -> None:
    exe = Path(sys.executable).with_name("clustersim-app")
    assert exe.exists(), f"{exe} is missing: reinstall with pip install -e '.[app]'"
    port = free_port()
    server = subprocess.Popen(
        [str(exe), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        page = wait_for_server(port, server)
        assert "solara" in page.lower()
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0]
    assert f"http://127.0.0.1:{port}" in output
