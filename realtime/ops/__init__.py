"""Running it: health and readiness, metrics, request trace ids, log filters
and system checks."""
