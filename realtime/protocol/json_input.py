"""What the server accepts as JSON from a client, over the WebSocket and the HTTP
API alike: nesting no deeper than a limit, and text that can be written back.

Python's parser recurses once per level, so a body of a thousand ``[`` raises
``RecursionError`` (an exception no caller expects: a 500, or a dead socket);
and JSON's ``\\ud800`` escape yields a lone surrogate, a ``str`` that cannot be
encoded as UTF-8, so echoing it back in an error kills the connection. Both are
refused here, as :class:`JsonRefused`, before anything else reads the value.
"""

import json
from typing import Any


class JsonRefused(ValueError):
    """Valid JSON the server will not take: too deep, or not encodable text."""


def loads(text: str, max_depth: int) -> Any:
    """Parse JSON text, refusing what :func:`check` refuses.

    Raises ``ValueError`` for text that is not JSON, :class:`JsonRefused` for
    JSON nested deeper than ``max_depth`` or holding a lone surrogate.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonRefused(too_deep(max_depth)) from None
    # Lone surrogates come only from \u escapes: text decoded from UTF-8 has none.
    escapes = "\\u" in text
    # Fewer brackets than the limit cannot nest deeper than it: skip the walk.
    if escapes or text.count("[") + text.count("{") > max_depth:
        check(value, max_depth, strings=escapes)
    return value


def check(value: Any, max_depth: int, strings: bool = True) -> None:
    """Raise :class:`JsonRefused` if a parsed value nests lists and objects
    deeper than ``max_depth``, or (with ``strings``) if a key or a string in it
    is not encodable text (a lone surrogate)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > max_depth:
                raise JsonRefused(too_deep(max_depth))
            for key, child in item.items():
                if strings:
                    _encodable(key)
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth > max_depth:
                raise JsonRefused(too_deep(max_depth))
            stack.extend((child, depth + 1) for child in item)
        elif strings and isinstance(item, str):
            _encodable(item)


def too_deep(max_depth: int) -> str:
    """The refusal's text, the same wherever JSON is read."""
    return f"JSON nested deeper than {max_depth} levels is not accepted"


def _encodable(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise JsonRefused(
            "the JSON holds a lone UTF-16 surrogate (a \\ud800-\\udfff escape "
            "without its pair), which is not text"
        ) from None
