"""Runners: run a command where a target lives (this machine, a running container)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from typing import Any

from envman.ecosystems.base import RunResult
from envman.errors import UnreachableError

__all__ = ["LocalRunner", "ContainerRunner"]


class LocalRunner:
    """Runs on this machine. With clean_python_env, PYTHONPATH/PYTHONHOME of envman's own
    process do not leak into the interpreter probed (it is inspected as it is installed)."""

    def __init__(self, clean_python_env: bool = True) -> None:
        self.env = None
        if clean_python_env:
            self.env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE")}

    def run(self, argv: Sequence[str], input: bytes | None = None, timeout: float = 120) -> RunResult:
        try:
            proc = subprocess.run(list(argv), input=input, capture_output=True, timeout=timeout, env=self.env)
        except subprocess.TimeoutExpired:
            raise UnreachableError(f"{argv[0]} did not answer within {timeout:.0f} s") from None
        return RunResult(proc.returncode, proc.stdout, proc.stderr)

    def read_file(self, path: str) -> bytes:
        with open(path, "rb") as handle:
            return handle.read()


class ContainerRunner:
    """`docker exec` through the SDK; `what` names the target in errors."""

    def __init__(self, container: Any, what: str) -> None:
        self.container = container
        self.what = what

    def run(self, argv: Sequence[str], input: bytes | None = None, timeout: float = 120) -> RunResult:
        import docker.errors

        if input is not None:
            raise ValueError("ContainerRunner does not pass stdin")
        api = self.container.client.api
        try:
            exec_id = api.exec_create(self.container.id, list(argv), stdout=True, stderr=True)["Id"]
            out, err = api.exec_start(exec_id, demux=True)
            if out and not err and out.rstrip().endswith(b"}"):
                code = 0  # a complete JSON answer and nothing on stderr: spare the inspect call
            else:
                code = api.exec_inspect(exec_id).get("ExitCode")
        except docker.errors.APIError as exc:
            raise UnreachableError(f"{self.what}: cannot exec in the container: {exc.explanation or exc}") from None
        except docker.errors.DockerException as exc:
            raise UnreachableError(f"{self.what}: the Docker engine is not reachable: {exc}") from None
        if code in (126, 127) and (not out or b"OCI runtime exec failed" in out):
            raise FileNotFoundError(argv[0])
        return RunResult(code if code is not None else 1, out or b"", err or b"")

    def read_file(self, path: str) -> bytes:
        import io
        import tarfile

        stream, _ = self.container.get_archive(path)
        data = io.BytesIO(b"".join(stream))
        with tarfile.open(fileobj=data) as archive:
            member = archive.next()
            handle = archive.extractfile(member) if member else None
            if handle is None:
                raise FileNotFoundError(path)
            return handle.read()
