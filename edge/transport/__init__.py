"""MQTT transport: topic names (DESIGN.md 4) shared by workers, the aggregator and operators."""
