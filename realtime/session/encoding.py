"""Encoding an event once per view of its topic, not once per subscriber.

Every subscriber with the same view gets the same envelope (presented when the
event was logged), so the encoded text is cached per process by (topic, view,
seq): a fan-out to thousands of connections encodes each event once per view.
"""

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from realtime.conf import realtime_settings
from realtime.ops import metrics
from realtime.protocol.messages import encode


class EncodingCache:
    """A small LRU of encoded events keyed by topic, view and seq."""

    def __init__(self) -> None:
        self._entries: OrderedDict[Hashable, str] = OrderedDict()

    def text_for(self, event: dict[str, Any], view: str) -> str:
        """The event (as ``view`` shows it) encoded."""
        # (topic, view, seq) names an event; the timestamp guards against a
        # reset database reusing seqs while this process keeps running.
        key = (event["topic"], view, event["seq"], event["data"]["timestamp"])
        text = self._entries.get(key)
        if text is None:
            metrics.observe_latency(event["data"]["timestamp"])
            text = self._entries[key] = encode(event)
            if len(self._entries) > realtime_settings.ENCODE_CACHE_SIZE:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        return text


encoding_cache = EncodingCache()
