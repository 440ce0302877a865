"""Showing an event to a subscriber and encoding it, once per distinct view.

Every subscriber with the same grant view sees the same bytes, so the filtered
and encoded text is cached per process by (event identity, policy, view): a
fan-out to thousands of connections encodes each event a handful of times.
"""

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from realtime.conf import realtime_settings
from realtime.ops import metrics
from realtime.policies.base import Grant
from realtime.protocol.messages import encode

_WITHHELD = ""  # cached marker: this view does not see the event


class EncodingCache:
    """A small LRU of encoded events keyed by event and view."""

    def __init__(self) -> None:
        self._entries: OrderedDict[Hashable, str] = OrderedDict()

    def text_for(self, event: dict[str, Any], grant: Grant) -> str | None:
        """The event as the grant's view shows it, encoded; None when withheld."""
        # (topic, seq) names an event; the timestamp guards against a reset
        # database reusing seqs while this process keeps running.
        key = (
            event["topic"],
            event["seq"],
            event["data"]["timestamp"],
            id(grant.policy),
            grant.view,
        )
        text = self._entries.get(key)
        if text is None:
            metrics.observe_latency(event["data"]["timestamp"])
            shown = grant.present(event)
            text = _WITHHELD if shown is None else encode(shown)
            self._entries[key] = text
            if len(self._entries) > realtime_settings.ENCODE_CACHE_SIZE:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        return text or None


encoding_cache = EncodingCache()
