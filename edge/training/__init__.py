"""Training, export and evaluation of the project's YOLO weights (wrapping ultralytics)."""
