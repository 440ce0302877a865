"""Topic grammar, topic to channel-layer group names, and resume cursors.

A topic is ``resource-type:identifier``. Channel layers accept only
``[A-Za-z0-9._-]`` in group names, so the colon cannot be used as it is.
"""

import hashlib
import re
from dataclasses import dataclass

# \Z, not $: "$" also matches before a final newline, which is not a topic.
TOPIC_PATTERN = re.compile(r"^([a-z][a-z0-9-]{0,39}):([A-Za-z0-9_.-]{1,64})\Z")
RESOURCE_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,39}\Z")
# Resource types never contain a dot, so the first dot after the prefix splits
# the group name back into the topic unambiguously.
GROUP_PREFIX = "rt."
USER_GROUP_PREFIX = "rt-user."
# Channels refuses group names of 100 characters or more; longer topics are
# named by a digest under a prefix the plain form can never produce.
MAX_GROUP_NAME = 99
HASHED_GROUP_PREFIX = "rt-h."
# A seq in cursor text: ASCII digits only (str.isdigit() takes "²" and "٣", and
# int() reads "٣" as 3), at most 18 of them so it fits a 64-bit integer.
SEQ_PATTERN = re.compile(r"[0-9]{1,18}")


class InvalidTopic(ValueError):
    """The text is not a topic of the grammar ``resource-type:identifier``."""


class InvalidCursor(ValueError):
    """The text is not a cursor of the form ``topic@seq,topic@seq``."""


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed topic."""

    resource_type: str
    identifier: str

    def __str__(self) -> str:
        return f"{self.resource_type}:{self.identifier}"


def parse_topic(text: object) -> Topic:
    """Parse a topic, raising :class:`InvalidTopic` with the reason."""
    if not isinstance(text, str):
        raise InvalidTopic("a topic must be a string")
    match = TOPIC_PATTERN.match(text)
    if match is None:
        raise InvalidTopic(
            "a topic is resource-type:identifier, resource-type matching "
            "[a-z][a-z0-9-]{0,39} and identifier [A-Za-z0-9_.-]{1,64}"
        )
    return Topic(match.group(1), match.group(2))


def is_valid_topic(text: object) -> bool:
    """Whether the text is a valid topic."""
    return isinstance(text, str) and TOPIC_PATTERN.match(text) is not None


def group_name(topic: str) -> str:
    """The channel-layer group that carries a topic's live events."""
    resource_type, identifier = topic.split(":", 1)
    name = f"{GROUP_PREFIX}{resource_type}.{identifier}"
    if len(name) > MAX_GROUP_NAME:
        name = HASHED_GROUP_PREFIX + hashlib.sha256(topic.encode()).hexdigest()
    return name


def user_group_name(user_id: object) -> str:
    """The control group of one user's connections (re-authorization)."""
    return f"{USER_GROUP_PREFIX}{user_id}"


def format_cursor(positions: dict[str, int]) -> str:
    """Cursor text for topic positions: ``gift-list:17@42,family:5@3``."""
    return ",".join(f"{topic}@{seq}" for topic, seq in positions.items())


def parse_cursor(text: str) -> dict[str, int]:
    """Parse cursor text into ``{topic: seq}``; empty text is an empty cursor."""
    positions: dict[str, int] = {}
    text = text.strip()
    if not text:
        return positions
    for part in text.split(","):
        topic, sep, seq_text = part.strip().rpartition("@")
        if not sep or not is_valid_topic(topic):
            raise InvalidCursor(f"{part.strip()!r} is not topic@seq")
        if SEQ_PATTERN.fullmatch(seq_text) is None:
            raise InvalidCursor(f"{part.strip()!r}: seq must be a non-negative integer")
        if topic in positions:
            raise InvalidCursor(f"topic {topic!r} appears twice in the cursor")
        positions[topic] = int(seq_text)
    return positions
