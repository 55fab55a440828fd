"""A site's broker accounts and the username convention the ACL relies on.

- A camera's worker logs in as `{site}/{camera}` with the password of the camera's `mqtt:`
  section. The ACL's `%u` patterns then let it write `{prefix}/{site}/{camera}/{kind}` and
  nothing else, so adding a camera needs no ACL change, and two sites can share a broker.
- The aggregator logs in as `broker.username` with the broker's password_env / password_file.
- Operators log in as `broker.operators[].username`.

Names other than cameras' hold no '/' (`edge.config.AccountName`; checked here for the
aggregator), so for them a pattern expands to `{prefix}/{name}/{kind}`: a topic no one reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal

from edge.config import BrokerConfig, CheckpointCamera, SecretUnavailableError, SiteConfig, SmokeCamera

Role = Literal["aggregator", "operator", "camera"]


@dataclass(frozen=True)
class Account:
    """One broker login: who it is, what it may do (`role`), and how to read its password."""

    username: str
    role: Role
    where: str  # the config field that holds its password, for messages
    read_password: Callable[[], str]


class AccountsError(Exception):
    """The site's accounts cannot be written; `problems` holds one printable line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def camera_username(site_id: str, camera_id: str) -> str:
    """The broker username of a camera's worker: `{site}/{camera}`."""
    return f"{site_id}/{camera_id}"


def worker_broker(site: SiteConfig, camera: CheckpointCamera | SmokeCamera) -> BrokerConfig:
    """The site's broker as `camera`'s worker uses it: with the camera's own account when it has one."""
    if camera.mqtt is None:
        return site.broker
    return site.broker.model_copy(update={
        "username": camera_username(site.site.id, camera.id), "password_env": camera.mqtt.password_env,
        "password_file": camera.mqtt.password_file, "operators": ()})


def _aggregator_password(broker: BrokerConfig) -> str:
    value = broker.password()
    if value is None:  # checked in site_accounts
        raise SecretUnavailableError("broker: no password_env or password_file")
    return value


def site_accounts(site: SiteConfig) -> list[Account]:
    """Every account of the site: the aggregator, the operators, one per camera.

    Raises AccountsError when an account is missing or names clash; passwords are not read here.
    """
    broker = site.broker
    problems: list[str] = []
    accounts: list[Account] = []
    if broker.username is None:
        problems.append("broker.username: not set; the aggregator needs its own account")
    elif "/" in broker.username or any(c in broker.username for c in "+#: "):
        problems.append(f"broker.username: {broker.username!r} may not contain '/', '+', '#', ':' or "
                        "spaces ('/' is for camera accounts, {site}/{camera})")
    elif not broker.has_password:
        problems.append("broker: give password_env or password_file for the aggregator's account")
    else:
        read = partial(_aggregator_password, broker)
        accounts.append(Account(broker.username, "aggregator", "broker", read))
    for i, operator in enumerate(broker.operators):
        where = f"broker.operators.{i}"
        accounts.append(Account(operator.username, "operator", where, partial(operator.password, where)))
    for i, camera in enumerate(site.cameras):
        where = f"cameras.{i}.mqtt (camera {camera.id})"
        if camera.mqtt is None:
            problems.append(f"{where}: not set; each camera's worker needs its own account "
                            "(mqtt: {password_env: ...} or {password_file: ...})")
            continue
        accounts.append(Account(camera_username(site.site.id, camera.id), "camera", where,
                                partial(camera.mqtt.password, where)))
    seen: dict[str, str] = {}
    for account in accounts:
        if account.username in seen:
            problems.append(f"{account.where}: username {account.username!r} is already used by "
                            f"{seen[account.username]}")
        seen.setdefault(account.username, account.where)
    if problems:
        raise AccountsError(problems)
    return accounts


def read_passwords(accounts: list[Account]) -> dict[str, str]:
    """username -> password for every account, read now from the environment or files.

    Raises AccountsError with one line per password that is missing, empty or not one line.
    """
    passwords: dict[str, str] = {}
    problems: list[str] = []
    for account in accounts:
        try:
            password = account.read_password()
        except SecretUnavailableError as exc:
            problems.append(str(exc))
            continue
        if not password:
            problems.append(f"{account.where}: the password is empty")
        elif "\n" in password or "\r" in password:
            problems.append(f"{account.where}: the password must be a single line")
        else:
            passwords[account.username] = password
    if problems:
        raise AccountsError(problems)
    return passwords
