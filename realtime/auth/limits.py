"""Limits of one connection and of one user in this process."""

import time
from collections import Counter


class TokenBucket:
    """A token bucket: ``rate`` tokens a second, at most ``burst`` saved up."""

    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self) -> bool:
        """Spend one token if there is one."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class ConnectionCounts:
    """Open connections per user in this process (counts only, no connections)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def acquire(self, user_id: object, limit: int) -> bool:
        """Count one more connection of the user, unless it already has ``limit``."""
        key = str(user_id)
        if self.counts[key] >= limit:
            return False
        self.counts[key] += 1
        return True

    def release(self, user_id: object) -> None:
        key = str(user_id)
        self.counts[key] -= 1
        if self.counts[key] <= 0:
            del self.counts[key]


websocket_connections = ConnectionCounts()
