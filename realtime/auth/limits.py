"""Per-user limits of one server process."""

from collections import Counter


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
