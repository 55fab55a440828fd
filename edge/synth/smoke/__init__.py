"""Synthetic straw-burning smoke scenes seen by a high-mounted pan/tilt camera over farmland.

A scene builds a 360-degree panorama of procedurally generated farmland once, then for each
frame crops the view of the current pan/tilt pose and draws the moving layers on top: the smoke
plume with its flame, and negatives that look like smoke (clouds, haze, chimney steam, road
dust, headlights). Every random choice comes from one seeded generator, so the same arguments
give byte-identical frames and ground truth.

Conventions: the camera stands on a mast at the world origin. A pan angle is measured clockwise
from the camera's pan 0 (world +y), elevation is positive above the horizon. The panorama is
cylindrical: column = pan * px_per_deg, row = (top elevation - elevation) * px_per_deg; views
are linear crops of it, which is what `view_bearing_deg` inverts.
"""

from edge.synth.smoke.distractors import DISTRACTOR_NAMES
from edge.synth.smoke.geometry import view_bearing_deg
from edge.synth.smoke.plume import FIRE_TRACK_ID, SMOKE_TRACK_ID
from edge.synth.smoke.scene import SmokeScene

__all__ = ["DISTRACTOR_NAMES", "FIRE_TRACK_ID", "SMOKE_TRACK_ID", "SmokeScene", "view_bearing_deg"]
