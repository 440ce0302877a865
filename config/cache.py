"""Django's Redis cache, following a Redis Sentinel master through failovers.

Django's ``RedisCache`` takes URLs; behind Sentinel the master's address
changes when a replica is promoted, so this client asks the sentinels for it
(redis-py's ``SentinelConnectionPool`` asks again after a connection fails).
``LOCATION`` lists the sentinels as ``host:port``, comma-separated;
``OPTIONS["master_name"]`` names the master.
"""

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


def sentinel_address(text: str) -> tuple[str, int]:
    """``host:port`` (port 26379 when left out) as a (host, port) pair."""
    host, _, port = text.strip().rpartition(":")
    if not host:
        return text.strip(), 26379
    return host.strip("[]"), int(port)


class SentinelCacheClient(RedisCacheClient):
    """Every read and write goes to the master the sentinels name now."""

    def __init__(
        self,
        servers: list[str],
        master_name: str,
        sentinel_kwargs: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(servers, **options)
        from redis.sentinel import Sentinel, SentinelConnectionPool

        self._sentinel = Sentinel(
            [sentinel_address(server) for server in servers],
            sentinel_kwargs=sentinel_kwargs,
        )
        self._master_pool = SentinelConnectionPool(
            master_name, self._sentinel, **self._pool_options
        )

    def _get_connection_pool(self, write: bool) -> Any:
        return self._master_pool


class SentinelRedisCache(RedisCache):
    """``RedisCache`` on the master a set of Redis Sentinels elect."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SentinelCacheClient
