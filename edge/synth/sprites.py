"""Front/back views of riders, pedestrians and vehicles, drawn as billboards.

Every primitive is drawn twice: in colour on the frame and with an instance id on an id map,
so the ground truth knows exactly which pixels of each head survive occlusion.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

Colour = tuple[int, int, int]
_SHIFT = 4  # cv2 sub-pixel bits: smooth motion of small heads between frames
_ONE = 1 << _SHIFT

HELMET_COLOURS: list[Colour] = [
    (245, 245, 245), (30, 30, 200), (20, 200, 235), (190, 110, 30), (25, 25, 25),
    (180, 180, 180), (20, 120, 240), (160, 80, 200), (60, 140, 40),
]
CLOTH_COLOURS: list[Colour] = [
    (40, 40, 40), (120, 70, 30), (30, 30, 140), (200, 200, 200), (60, 110, 60), (140, 120, 100),
    (30, 90, 200), (90, 40, 90), (160, 150, 60), (70, 70, 110),
]
SKIN_TONES: list[Colour] = [(150, 180, 220), (120, 150, 195), (95, 125, 170), (140, 170, 205)]
HAIR_COLOURS: list[Colour] = [(20, 20, 25), (25, 30, 45), (35, 45, 70), (140, 140, 145)]

HELMET_KINDS = ("full_face", "half_shell", "half_shell_peak")
BARE_KINDS = ("bare_dark", "bare_light", "cap", "hood", "headscarf")


@dataclass
class Painter:
    """Draws metre-unit shapes anchored at a ground point onto `image` and `ids`."""

    image: np.ndarray
    ids: np.ndarray
    u0: float
    v0: float
    sx: float  # pixels per metre, horizontal
    sy: float  # pixels per metre, vertical (pitch foreshortens height)
    mirror: bool = False

    def px(self, x_m: float, y_m: float) -> tuple[int, int]:
        x = -x_m if self.mirror else x_m
        return (round((self.u0 + x * self.sx) * _ONE), round((self.v0 - y_m * self.sy) * _ONE))

    def ellipse(self, x_m: float, y_m: float, ax_m: float, ay_m: float, colour: Colour, oid: int,
                start_deg: float = 0, end_deg: float = 360) -> None:
        centre = self.px(x_m, y_m)
        axes = (max(1, round(ax_m * self.sx * _ONE)), max(1, round(ay_m * self.sy * _ONE)))
        if self.mirror:
            start_deg, end_deg = 180 - end_deg, 180 - start_deg
        cv2.ellipse(self.image, centre, axes, 0, start_deg, end_deg, colour, -1, cv2.LINE_AA, _SHIFT)
        cv2.ellipse(self.ids, centre, axes, 0, start_deg, end_deg, oid, -1, cv2.LINE_8, _SHIFT)

    def poly(self, pts_m: list[tuple[float, float]], colour: Colour, oid: int) -> None:
        pts = np.array([self.px(x, y) for x, y in pts_m], np.int32)
        cv2.fillPoly(self.image, [pts], colour, cv2.LINE_AA, _SHIFT)
        cv2.fillPoly(self.ids, [pts], oid, cv2.LINE_8, _SHIFT)

    def rect(self, x0: float, y0: float, x1: float, y1: float, colour: Colour, oid: int) -> None:
        self.poly([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], colour, oid)

    def line(self, x0: float, y0: float, x1: float, y1: float, w_m: float, colour: Colour,
             oid: int) -> None:
        t = max(1, round(w_m * self.sx))
        a, b = self.px(x0, y0), self.px(x1, y1)
        cv2.line(self.image, a, b, colour, t, cv2.LINE_AA, _SHIFT)
        cv2.line(self.ids, a, b, oid, t, cv2.LINE_8, _SHIFT)


def shade(colour: Colour, factor: float) -> Colour:
    b, g, r = (min(255, max(0, round(c * factor))) for c in colour)
    return (b, g, r)


@dataclass(frozen=True)
class Person:
    """Appearance of one person; `headwear` is one of HELMET_KINDS or BARE_KINDS."""

    headwear: str
    headwear_colour: Colour
    skin: Colour
    hair: Colour
    top: Colour
    trousers: Colour
    scale: float  # 1.0 adult; ~0.7 for a child passenger

    @property
    def has_helmet(self) -> bool:
        return self.headwear in HELMET_KINDS


def draw_head(p: Painter, person: Person, x: float, y: float, facing: bool, oid: int) -> None:
    """A head centred at (x, y) metres; `facing` is True when the face is towards the camera."""
    r = 0.105 * person.scale
    kind, hw = person.headwear, person.headwear_colour
    if kind == "hood" or kind == "headscarf":
        p.ellipse(x, y - 0.01, r * 1.3, r * 1.4, hw, oid)
        if facing:
            p.ellipse(x, y - 0.015, r * 0.72, r * 0.85, person.skin, oid)
        else:
            p.ellipse(x, y + 0.02, r * 1.0, r * 0.9, shade(hw, 0.85), oid)
        return
    if kind == "full_face":
        p.ellipse(x, y, r * 1.38, r * 1.45, hw, oid)
        if facing:
            visor = (50, 45, 40) if hw != (25, 25, 25) else (90, 80, 70)
            p.rect(x - r * 0.95, y - r * 0.25, x + r * 0.95, y + r * 0.45, visor, oid)
        else:
            p.rect(x - r * 0.15, y - r * 1.3, x + r * 0.15, y + r * 1.3, shade(hw, 0.8), oid)
        p.ellipse(x - r * 0.55, y + r * 0.8, r * 0.28, r * 0.18, shade(hw, 1.6), oid)
        return
    # Everything else shows a head: face (front) or hair (back), then what sits on top.
    light = kind == "bare_light"
    hair = person.hair if not light else (170, 175, 185)
    p.ellipse(x, y, r, r * 1.18, person.skin if facing else hair, oid)
    if facing:
        p.ellipse(x, y + r * 0.45, r * 1.02, r * 0.75, hair, oid, 180, 360)
        p.ellipse(x, y - r * 0.15, r * 0.8, r * 0.85, person.skin, oid)
    if kind in ("half_shell", "half_shell_peak"):
        p.ellipse(x, y + r * 0.25, r * 1.35, r * 1.2, hw, oid, 180, 360)
        p.rect(x - r * 1.35, y + r * 0.15, x + r * 1.35, y + r * 0.3, shade(hw, 0.7), oid)
        p.ellipse(x - r * 0.5, y + r * 0.95, r * 0.3, r * 0.15, shade(hw, 1.6), oid)
        if kind == "half_shell_peak" and facing:
            p.rect(x - r * 0.9, y + r * 0.2, x + r * 0.9, y + r * 0.35, shade(hw, 0.5), oid)
        if facing:
            p.line(x - r * 1.0, y + r * 0.2, x - r * 0.3, y - r * 1.1, 0.012, (30, 30, 30), oid)
            p.line(x + r * 1.0, y + r * 0.2, x + r * 0.3, y - r * 1.1, 0.012, (30, 30, 30), oid)
    elif kind == "cap":
        p.ellipse(x, y + r * 0.35, r * 1.08, r * 0.85, hw, oid, 180, 360)
        if facing:
            p.ellipse(x, y + r * 0.3, r * 1.0, r * 0.22, shade(hw, 0.65), oid)


def draw_person_upper(p: Painter, person: Person, base_y: float, facing: bool,
                      body_id: int, head_id: int, arms_to: tuple[float, float] | None) -> None:
    """Torso, arms and head of a seated person whose hips are at height `base_y` metres."""
    s = person.scale
    shoulder = 0.22 * s
    top_y = base_y + 0.55 * s
    p.poly([(-shoulder * 0.85, base_y), (shoulder * 0.85, base_y), (shoulder, top_y),
            (-shoulder, top_y)], person.top, body_id)
    if arms_to is not None:
        hx, hy = arms_to
        p.line(-shoulder, top_y - 0.05, -hx, hy, 0.08 * s, shade(person.top, 0.85), body_id)
        p.line(shoulder, top_y - 0.05, hx, hy, 0.08 * s, shade(person.top, 0.85), body_id)
    p.rect(-0.04 * s, top_y - 0.01, 0.04 * s, top_y + 0.06 * s, person.skin, body_id)
    draw_head(p, person, 0.0, top_y + 0.16 * s, facing, head_id)


def head_centre_y(person: Person, base_y: float) -> float:
    return base_y + 0.55 * person.scale + 0.16 * person.scale
