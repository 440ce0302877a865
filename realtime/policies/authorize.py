"""Deciding whether a user may follow a topic, and with which view.

Every transport asks here, so a topic is refused the same way everywhere: an
inactive or anonymous user, an unknown resource type, a policy that says no,
and an identifier the policy cannot use (``board:abc`` for an integer key) are
all a refusal, never an error.
"""

import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import DataError

from realtime.conf import realtime_settings
from realtime.policies.base import REFUSED, Grant, TopicPolicy
from realtime.policies.registry import policy_for
from realtime.protocol.topics import parse_topic

logger = logging.getLogger(__name__)

# What a query raises for an identifier of the wrong shape: Django's field
# conversion (ValueError, ValidationError) before any SQL is sent, a lookup of
# a row that is not there, a number out of range (Django answers an exact
# lookup with no rows; other lookups may reach the database).
UNUSABLE_IDENTIFIER = (
    ValueError,
    TypeError,
    OverflowError,
    ValidationError,
    ObjectDoesNotExist,
    DataError,
)


def staff_bypasses(policy: TopicPolicy, user: Any) -> bool:
    """Whether the user's staff flag alone grants topics of this policy."""
    allowed = policy.allow_staff
    if allowed is None:
        allowed = realtime_settings.STAFF_BYPASS_POLICIES
    return bool(allowed and user.is_staff)


def authorize(user: Any, topic: str) -> Grant | None:
    """A grant if the user may follow the (valid) topic, else None. Sync: may query."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    parsed = parse_topic(topic)
    policy = policy_for(parsed.resource_type)
    if policy is None:
        return None
    try:
        if staff_bypasses(policy, user):
            view = policy.view(user, parsed.identifier)
        else:
            view = policy.view_if_permitted(user, parsed.identifier)
    except UNUSABLE_IDENTIFIER as error:
        logger.info(
            "Refused %s: its policy could not use the identifier (%s)",
            topic,
            type(error).__name__,
        )
        return None
    return grant_of(policy, topic, view)


def grant_of(policy: TopicPolicy, topic: str, view: Any) -> Grant | None:
    """The grant a policy's answer makes: none for ``REFUSED``, or for a view
    the policy did not declare."""
    if view is REFUSED:
        return None
    if view not in policy.views:
        # A bug in the policy: its events were logged for its declared views
        # only, so this follower would see none of them.
        logger.error(
            "Refused %s: its policy's view %r is not among its views %r",
            topic,
            view,
            policy.views,
        )
        return None
    return Grant(topic, policy, view)


def authorize_pairs(pairs: list[tuple[Any, str]]) -> list[Grant | Exception | None]:
    """``authorize`` for many (user, topic) pairs, in order: each policy
    answers all of its pairs in one call (``views_if_permitted``: one query
    for a crowd subscribing at once, where the policy can). A batch the
    policy cannot answer (an identifier it cannot use, a bug) is asked pair
    by pair, and a pair that still fails gets its exception, not a grant."""
    results: list[Grant | Exception | None] = [None] * len(pairs)
    asked: dict[TopicPolicy, list[tuple[int, Any, str, str]]] = {}
    for index, (user, topic) in enumerate(pairs):
        if user is None or not user.is_authenticated or not user.is_active:
            continue
        parsed = parse_topic(topic)
        policy = policy_for(parsed.resource_type)
        if policy is None:
            continue
        if staff_bypasses(policy, user):
            results[index] = _alone(user, topic)
        else:
            asked.setdefault(policy, []).append((index, user, topic, parsed.identifier))
    for policy, items in asked.items():
        try:
            views = policy.views_if_permitted([(u, ident) for _, u, _, ident in items])
        except Exception:
            for index, user, topic, _ in items:
                results[index] = _alone(user, topic)
            continue
        for (index, _, topic, _), view in zip(items, views, strict=True):
            results[index] = grant_of(policy, topic, view)
    return results


def _alone(user: Any, topic: str) -> Grant | Exception | None:
    try:
        return authorize(user, topic)
    except Exception as error:
        return error


def authorize_many(user: Any, topics: list[str]) -> dict[str, Grant | None]:
    """``authorize`` for several topics in one hop from async code."""
    return {topic: authorize(user, topic) for topic in topics}
