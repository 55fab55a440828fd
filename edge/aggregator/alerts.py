"""Helmet alerts in the district's wording (DESIGN.md 1, 5): raised while a checkpoint direction's
verified week is below its standard with at least `min_riders` vehicles, cleared once it is back.
"""

from __future__ import annotations

from datetime import datetime

from edge.aggregator.settings import Settings
from edge.aggregator.weekly import CameraWeek
from edge.events import AlertFinding, HelmetAlert, PointFigures

_DIRECTION_ZH = {"southbound": "南向", "northbound": "北向", "eastbound": "东向", "westbound": "西向",
                 "inbound": "进城方向", "outbound": "出城方向"}


def point_name_zh(name: str, direction: str) -> str:
    """`农商银行百丈支行` + `southbound` -> `农商银行百丈支行南向点位`."""
    zh = _DIRECTION_ZH.get(direction)
    return f"{name}{zh}点位" if zh else f"{name}（{direction}）点位"


def point_name_en(name: str, direction: str) -> str:
    """`the Baizhang branch of the rural bank` + `southbound` -> `the southbound point at ...`."""
    return f"the {direction} point at {name}"


def alert_text_zh(name: str, direction: str, vehicles: int, no_helmet: int, rate: str) -> str:
    return (f"调查期间，{point_name_zh(name, direction)}一周通行电动自行车{vehicles}辆，"
            f"未佩戴头盔{no_helmet}人，头盔佩戴率{rate}，低于标准，请立即整改。")


def alert_text_en(name: str, direction: str, vehicles: int, no_helmet: int, rate: str) -> str:
    return (f"During the survey, {point_name_en(name, direction)} saw {vehicles} e-bikes in one week, "
            f"{no_helmet} riders without a helmet; helmet rate {rate}, below the standard; "
            "please act promptly.")


def finding(name: str, name_zh: str, point: PointFigures) -> AlertFinding:
    """The alert text of one direction below its standard."""
    assert point.rate is not None
    return AlertFinding(
        direction=point.direction,
        text_zh=alert_text_zh(name_zh, point.direction, point.vehicles, point.no_helmet, point.rate),
        text_en=alert_text_en(name, point.direction, point.vehicles, point.no_helmet, point.rate))


def _same(a: HelmetAlert, b: HelmetAlert) -> bool:
    keep = {"week", "active", "points", "findings", "min_riders"}
    return a.model_dump(include=keep) == b.model_dump(include=keep)


def evaluate(previous: HelmetAlert | None, week: CameraWeek, settings: Settings, event_id: str,
             now: datetime) -> HelmetAlert | None:
    """The camera's new alert state, or None when nothing changed.

    A week without any direction at `min_riders` leaves the previous state alone, so last
    week's alert stands until this week has enough riders to judge.
    """
    points = week.verified
    if not any(p.status in ("ok", "below") for p in points):
        return None
    name_zh = settings.name_zh_for(week.camera)
    findings = tuple(finding(week.name, name_zh, p) for p in points if p.status == "below")
    alert = HelmetAlert(event_id=event_id, site=settings.site, camera=week.camera, issued_at=now,
                        week=str(week.week), active=bool(findings), min_riders=settings.min_riders,
                        points=points, findings=findings)
    if previous is not None and _same(previous, alert):
        return None
    return alert
