"""Evaluation: a compiled pack and a case to an assessment; the durable-rules cross-check."""
