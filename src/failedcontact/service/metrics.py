"""The service's Prometheus metrics."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram


@dataclass(frozen=True, slots=True)
class Metrics:
    """One app's metrics: requests and their latency by route, problems by code, assessments."""

    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    errors: Counter
    assessments: Counter

    @classmethod
    def create(cls) -> Metrics:
        """A fresh set of metrics in a registry of their own."""
        registry = CollectorRegistry()  # the app's own: no process-global metric state
        return cls(
            registry,
            Counter(
                "failedcontact_requests",
                "HTTP requests.",
                ["route", "method", "status"],
                registry=registry,
            ),
            Histogram(
                "failedcontact_request_seconds",
                "Time to answer a request.",
                ["route"],
                registry=registry,
                buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            ),
            Counter(
                "failedcontact_errors", "Problems answered, by code.", ["code"], registry=registry
            ),
            Counter(
                "failedcontact_assessments",
                "Assessments made.",
                ["pack", "version", "risk_tier"],
                registry=registry,
            ),
        )
