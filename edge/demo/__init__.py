"""The demo: sample clips through workers, an embedded broker and the aggregator."""
