"""Mosquitto password files, hashed by Mosquitto's own `mosquitto_passwd` (never by hand here).

Each password goes to the tool on its standard input, as it would be typed at its prompt, not
with `-b` on its command line, where every local user could read it in the process list.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)

TOOL = "mosquitto_passwd"
_TIMEOUT_S = 30.0


class PasswdError(RuntimeError):
    """mosquitto_passwd is missing or refused an entry."""


def find_tool() -> str:
    """The mosquitto_passwd executable; PasswdError when it is not installed."""
    path = shutil.which(TOOL) or ("/usr/bin/" + TOOL if os.access("/usr/bin/" + TOOL, os.X_OK) else None)
    if path is None:
        raise PasswdError(f"{TOOL} not found (Debian package `mosquitto`)")
    return path


def write_password_file(path: Path, passwords: Mapping[str, str], *, tool: str | None = None) -> None:
    """Write `passwords` (username -> password) as a new Mosquitto password file at `path`.

    The file is built beside `path` and moved into place when complete (mode 0640: readable by
    the broker's group, not by others). Raises PasswdError.
    """
    if not passwords:
        raise PasswdError("no accounts to write")
    exe = tool or find_tool()
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        for i, (username, password) in enumerate(passwords.items()):
            args = [exe, *(["-c"] if i == 0 else []), str(partial), username]
            done = subprocess.run(args, input=f"{password}\n{password}\n", text=True, capture_output=True,
                                  timeout=_TIMEOUT_S, check=False)
            if done.returncode != 0:
                reason = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
                raise PasswdError(f"{TOOL} refused the entry for {username!r}: {reason[0]}")
        partial.chmod(0o640)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    log.info("wrote %d account(s) to %s", len(passwords), path)
