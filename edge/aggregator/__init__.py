"""Site aggregator (DESIGN.md 2): exactly-once statistics, helmet rates, fire incidents, reports."""
