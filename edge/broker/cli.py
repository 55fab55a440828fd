"""`edge broker-config SITE.yaml --out DIR`: the Mosquitto password file and ACL of a site.

Adding a camera is one change to the site config (the camera with its `mqtt:` password) and a
rerun of this command; the broker picks the new files up on SIGHUP (`systemctl reload`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def _fail(lines: list[str]) -> int:
    for line in lines:
        print(line, file=sys.stderr)
    return 2


def _broker_config(args: argparse.Namespace) -> int:
    from edge.broker.accounts import AccountsError, read_passwords, site_accounts
    from edge.broker.acl import acl_text
    from edge.broker.passwd import PasswdError, find_tool, write_password_file
    from edge.config import ConfigError, load_site

    try:
        site = load_site(args.config)
        accounts = site_accounts(site)
        passwords = read_passwords(accounts)
    except ConfigError as exc:
        return _fail(exc.messages)
    except AccountsError as exc:
        return _fail([f"{args.config}: {problem}" for problem in exc.problems])
    out: Path = args.out
    try:
        tool = find_tool()
        out.mkdir(parents=True, exist_ok=True)
        write_password_file(out / "passwd", passwords, tool=tool)
        (out / "acl").write_text(acl_text(site.broker.topic_prefix, site.site.id, accounts), encoding="utf-8")
    except (PasswdError, OSError) as exc:
        return _fail([f"{out}: {exc}"])
    roles = Counter(account.role for account in accounts)
    print(f"{out / 'passwd'}: {len(accounts)} accounts ({roles['aggregator']} aggregator, "
          f"{roles['operator']} operator(s), {roles['camera']} camera(s))")
    print(f"{out / 'acl'}: site {site.site.id} under {site.broker.topic_prefix}")
    return 0


def add_parsers(sub: Any) -> None:
    """Register `broker-config` on the `edge` command's subparsers."""
    p = sub.add_parser("broker-config", help="write the Mosquitto password file and ACL of a site",
                       description="Writes DIR/passwd (hashed with mosquitto_passwd) and DIR/acl. Passwords "
                                   "come from each account's password_env / password_file; a missing one "
                                   "is an error (exit 2).")
    p.add_argument("config", type=Path, metavar="CONFIG", help="site YAML")
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="where to write passwd and acl (e.g. /etc/mosquitto/edge)")
    p.set_defaults(func=_broker_config)
