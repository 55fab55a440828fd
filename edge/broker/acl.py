"""The Mosquitto ACL of a site (DESIGN.md 4 topics; usernames as in `edge.broker.accounts`).

- camera `{site}/{camera}`: writes `{prefix}/{site}/{camera}/{status,stats,rider,smoke}`, reads nothing;
- aggregator: reads every camera's topics and `commands/+`; writes `alerts/...`, `rates/+`, `rejected`;
- operator: reads `alerts/...` and `rates/+`; writes `commands/+`.

Mosquitto denies whatever no line grants. Subscriptions themselves are always granted; each
message is checked against `read` lines on delivery, so a forbidden subscription receives nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from edge.broker.accounts import Account
from edge.transport.topics import CAMERA_KINDS

_HEADER = """\
# Mosquitto ACL for site {site} under topic prefix {prefix}; written by `edge broker-config`.
# Regenerate it rather than editing it. Anything not granted here is denied.
# - {site}/CAMERA, each camera's worker: writes its own topics, reads nothing (the patterns);
# - the aggregator: reads every camera's topics and commands; writes alerts, rates, rejected;
# - operators: read alerts and rates; write commands.
# Patterns apply to every account (%u is the username). Only camera usernames contain '/', so
# for any other account they name topics outside every site, which no account may read.
"""

def camera_patterns(prefix: str) -> list[str]:
    """`pattern` lines letting each camera account write its own topics: `{prefix}/%u/{kind}`."""
    return [f"pattern write {prefix}/%u/{kind.value}" for kind in CAMERA_KINDS]


def aggregator_grants(prefix: str, site: str) -> list[str]:
    """The aggregator's lines: read what workers and operators send, write what it publishes."""
    base = f"{prefix}/{site}"
    reads = [f"{base}/+/{kind.value}" for kind in CAMERA_KINDS] + [f"{base}/commands/+"]
    writes = [f"{base}/alerts/helmet/+", f"{base}/alerts/fire/+", f"{base}/rates/+", f"{base}/rejected"]
    return [f"topic read {t}" for t in reads] + [f"topic write {t}" for t in writes]


def operator_grants(prefix: str, site: str) -> list[str]:
    """An operator's lines: read alerts and rates, write commands."""
    base = f"{prefix}/{site}"
    reads = [f"{base}/alerts/helmet/+", f"{base}/alerts/fire/+", f"{base}/rates/+"]
    return [f"topic read {t}" for t in reads] + [f"topic write {base}/commands/+"]


def acl_text(prefix: str, site: str, accounts: Sequence[Account]) -> str:
    """The whole ACL file for `accounts` (cameras need no lines of their own: the patterns cover them)."""
    heading = "# Every camera's worker, by its username {site}/{camera}."
    patterns = "\n".join([heading, *camera_patterns(prefix)])
    blocks = [_HEADER.format(site=site, prefix=prefix).rstrip("\n"), patterns]
    grants = {"aggregator": aggregator_grants(prefix, site), "operator": operator_grants(prefix, site)}
    for account in accounts:
        if account.role in grants:
            title = ("the aggregator (broker.username)" if account.role == "aggregator"
                     else f"an operator ({account.where})")
            lines = [f"# {title}", f"user {account.username}", *grants[account.role]]
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
