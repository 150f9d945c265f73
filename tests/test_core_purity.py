"""The core does no I/O: no module under monitor/ imports network or event-loop libraries."""

from __future__ import annotations

import ast
from pathlib import Path

import monitor

FORBIDDEN = {"redis", "starlette", "asyncio", "uvicorn", "websockets", "httpx", "socket", "livemon", "ingest"}


def test_core_modules_import_no_io_libraries() -> None:
    root = Path(monitor.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []
