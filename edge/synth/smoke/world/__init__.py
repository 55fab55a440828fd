"""The static world around the mast: its layout, and the 360-degree panorama drawn from it."""
