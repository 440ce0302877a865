"""Which Redis shard of the channel layer carries a group.

channels-redis spreads groups over its ``hosts`` by a CRC32 ring, each layer
hashing its own name for a group: the core layer the group name, the pub/sub
layer the group's Redis channel (prefix included). When one shard stops, only
the groups on it stop delivering, so what depends on a group is told apart by
the same hash. A layer without shards (in memory) is one shard, numbered 0.
"""

import uuid
from typing import Any

from channels_redis.utils import _consistent_hash


def _pubsub_loop_layer(layer: Any) -> Any | None:
    """The pub/sub layer's per-loop layer (it keeps the shards), else None."""
    get_layer = getattr(type(layer), "_get_layer", None)
    return get_layer(layer) if get_layer is not None else None


def shard_count(layer: Any) -> int:
    """How many Redis shards ``layer`` spreads its groups over."""
    if hasattr(layer, "ring_size"):  # channels-redis core
        return int(layer.ring_size)
    loop_layer = _pubsub_loop_layer(layer)
    if loop_layer is not None:
        return len(loop_layer._shards)
    return 1


def resubscribes(layer: Any) -> bool:
    """Whether the layer subscribes its groups again by itself after its
    Redis comes back (the pub/sub layer), rather than losing them."""
    return _pubsub_loop_layer(layer) is not None


def shard_of(layer: Any, group: str) -> int:
    """The index (in ``hosts``) of the shard that carries ``group``."""
    if hasattr(layer, "ring_size"):
        return layer.consistent_hash(group)
    loop_layer = _pubsub_loop_layer(layer)
    if loop_layer is not None:
        name = loop_layer._get_group_channel_name(group)
        return _consistent_hash(name, len(loop_layer._shards))
    return 0


def group_on_shard(layer: Any, prefix: str, shard: int) -> str:
    """A new group name that ``layer`` puts on ``shard``."""
    while True:
        group = prefix + uuid.uuid4().hex
        if shard_of(layer, group) == shard:
            return group
