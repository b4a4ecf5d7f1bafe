"""Runs over many cases or decisions: batches, the decision log, replay, pack shelves."""
