"""Committed Django model changes as live events, filtered per recipient.

The public API, importable before Django is set up (each name loads its module
when first used)::

    import realtime

    realtime.register(Note, topics=lambda note: [f"board:{note.board_id}"])

    @realtime.policy("board")
    def board(user, board_id):
        return Board.objects.filter(pk=board_id, members=user).exists()

Put these lines in ``<app>/realtime.py``: the realtime app imports that module of
every installed app when Django starts, as the admin does with ``admin.py``.
"""

from importlib import import_module
from typing import Any

__version__ = "0.2.0"

# Public name -> the module that defines it.
_EXPORTS = {
    "register": "realtime.publishing.registry",
    "unregister": "realtime.publishing.registry",
    "publish": "realtime.publishing.publisher",
    "publish_instances": "realtime.publishing.signals",
    "update_and_publish": "realtime.publishing.signals",
    "reauthorize_users": "realtime.publishing.reauthorize",
    "reauthorize_topics": "realtime.publishing.reauthorize",
    "policy": "realtime.policies.registry",
    "register_policy": "realtime.policies.registry",
    "unregister_policy": "realtime.policies.registry",
    "TopicPolicy": "realtime.policies.base",
    "REFUSED": "realtime.policies.base",
    "ADDED": "realtime.protocol.events",
    "UPDATED": "realtime.protocol.events",
    "DELETED": "realtime.protocol.events",
    "STATUS_CHANGED": "realtime.protocol.events",
    "trace": "realtime.ops.context",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'realtime' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
