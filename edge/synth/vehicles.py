"""Two-wheelers, cars and pedestrians built from the primitives in `sprites`."""

from __future__ import annotations

import numpy as np

from edge.synth.sprites import Colour, Painter, Person, draw_person_upper, shade

SEAT_Y_M = 0.85
HANDLEBAR = (0.32, 1.0)


def draw_legs(p: Painter, person: Person, hip_y: float, stride: float = 0.0) -> None:
    """Two legs hanging from `hip_y`; `stride` (-1..1) swings them for walking."""
    s = person.scale
    for side in (-1.0, 1.0):
        if stride == 0.0:  # seated: knees out, feet on the footboard
            knee = (side * 0.24 * s, hip_y - 0.22)
            p.poly([(side * 0.04, hip_y), (side * 0.16, hip_y + 0.02),
                    (knee[0] + side * 0.05, knee[1]), (knee[0] - side * 0.05, knee[1] - 0.04)],
                   person.trousers, 0)
            p.poly([(knee[0] - side * 0.05, knee[1]), (knee[0] + side * 0.05, knee[1]),
                    (side * 0.2 * s, 0.3), (side * 0.12 * s, 0.3)], person.trousers, 0)
            p.rect(side * 0.1 * s, 0.26, side * 0.22 * s, 0.32, (30, 30, 30), 0)
            continue
        swing = 0.06 * stride * side
        p.poly([(side * 0.05 * s, hip_y), (side * 0.17 * s, hip_y),
                (side * 0.15 * s + swing, 0.08), (side * 0.06 * s + swing, 0.08)],
               person.trousers, 0)


def draw_two_wheeler(p: Painter, vehicle: str, colour: Colour, facing: bool, oid: int,
                     basket: bool) -> None:
    """Vehicle body seen from the front (`facing`) or the back, in metres above the ground."""
    tyre = (25, 25, 28)
    if vehicle == "bicycle":
        p.ellipse(0, 0.34, 0.02, 0.34, tyre, oid)
        p.line(0, 0.34, 0, 0.95, 0.04, colour, oid)
        p.line(-HANDLEBAR[0], HANDLEBAR[1] - 0.05, HANDLEBAR[0], HANDLEBAR[1] - 0.05, 0.03,
               (60, 60, 60), oid)
        return
    wide = 1.25 if vehicle == "motorcycle" else 1.0
    p.ellipse(0, 0.28, 0.06 * wide, 0.28, tyre, oid)
    if vehicle == "motorcycle":
        p.rect(-0.2, 0.25, 0.2, 0.55, (45, 45, 50), oid)  # engine block between the legs
    p.rect(-0.28 * wide, 0.24, 0.28 * wide, 0.3, shade(colour, 0.6), oid)  # footboard
    if facing:
        p.poly([(-0.24 * wide, 0.3), (0.24 * wide, 0.3), (0.2 * wide, 0.98),
                (-0.2 * wide, 0.98)], colour, oid)
        p.ellipse(0, 0.5, 0.1 * wide, 0.2, shade(colour, 0.8), oid)  # front fender
        p.ellipse(0, 0.86, 0.07 * wide, 0.055, (225, 245, 250), oid)
        if basket:
            p.rect(-0.17, 0.62, 0.17, 0.8, (50, 50, 55), oid)
            p.rect(-0.14, 0.65, 0.14, 0.77, shade(colour, 0.5), oid)
    else:
        p.poly([(-0.12 * wide, 0.3), (0.12 * wide, 0.3), (0.26 * wide, 0.8),
                (-0.26 * wide, 0.8)], colour, oid)
        p.rect(-0.09, 0.62, 0.09, 0.68, (20, 20, 200), oid)
        p.rect(-0.08, 0.42, 0.08, 0.52, (200, 220, 230), oid)
    p.line(-HANDLEBAR[0] * wide, HANDLEBAR[1], HANDLEBAR[0] * wide, HANDLEBAR[1], 0.035,
           (40, 40, 40), oid)
    if vehicle == "motorcycle":
        for side in (-1.0, 1.0):
            p.line(side * 0.28, 1.0, side * 0.32, 1.2, 0.015, (60, 60, 60), oid)
            p.ellipse(side * 0.33, 1.23, 0.05, 0.035, (70, 70, 75), oid)


def draw_seated(p: Painter, person: Person, facing: bool, body_id: int, head_id: int,
                hip_y: float = SEAT_Y_M, hands: bool = True) -> None:
    draw_person_upper(p, person, hip_y, facing, body_id, head_id, HANDLEBAR if hands else None)


def draw_pedestrian(p: Painter, person: Person, facing: bool, phase: float, body_id: int,
                    head_id: int) -> None:
    stride = float(np.sin(phase))
    draw_legs(p, person, 0.9 * person.scale, stride)
    s = person.scale
    draw_person_upper(p, person, 0.9 * s, facing, body_id, head_id, None)
    for side in (-1.0, 1.0):
        p.line(side * 0.22 * s, 1.4 * s, side * 0.25 * s - 0.05 * stride * side, 0.95 * s,
               0.07 * s, shade(person.top, 0.85), body_id)


def draw_car(p: Painter, colour: Colour, facing: bool, oid: int) -> None:
    tyre = (25, 25, 28)
    for side in (-1.0, 1.0):
        p.rect(side * 0.8 - 0.1, 0.0, side * 0.8 + 0.1, 0.32, tyre, oid)
    p.rect(-0.92, 0.25, 0.92, 0.92, colour, oid)
    p.poly([(-0.8, 0.92), (0.8, 0.92), (0.62, 1.45), (-0.62, 1.45)], shade(colour, 0.9), oid)
    glass = (70, 60, 55)
    p.poly([(-0.7, 0.97), (0.7, 0.97), (0.56, 1.38), (-0.56, 1.38)], glass, oid)
    # Occupants behind tinted glass: dim silhouettes, deliberately not labelled as heads.
    for side in (-0.3, 0.3):
        p.ellipse(side, 1.2, 0.09, 0.11, (55, 50, 48), oid)
    lamp = (220, 240, 245) if facing else (30, 30, 210)
    for side in (-1.0, 1.0):
        p.rect(side * 0.85 - 0.13, 0.7, side * 0.85 + 0.13, 0.8, lamp, oid)
    p.rect(-0.25, 0.35, 0.25, 0.47, (210, 225, 235), oid)
