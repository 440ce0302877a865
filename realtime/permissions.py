"""Topic authorization and per-recipient presentation.

One policy per resource type. A policy says who may subscribe
(``has_permission``), works out once per subscription which *view* of the
topic the subscriber gets (``view``, may query the database), and shows each
event through that view (``present``, pure: no database, so it can run on every
delivery). Resource types without a policy are refused, staff included.
"""

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from .topics import parse_topic


class TopicPolicy:
    """Rules for one resource type; subclass it and register an instance."""

    #: Staff users may subscribe to every topic of this type.
    allow_staff = True

    def has_permission(self, user: Any, identifier: str) -> bool:
        """Whether the (authenticated, active) user may subscribe."""
        return False

    def view(self, user: Any, identifier: str) -> Hashable:
        """The subscriber's view of the topic, computed once at subscribe time.

        Subscribers with equal views see identical events, so an event is
        filtered and encoded once per view rather than once per subscriber.
        """
        return None

    def present(self, event: dict[str, Any], view: Hashable) -> dict[str, Any] | None:
        """The event as this view shows it, or None to withhold it. No database."""
        return event


_policies: dict[str, TopicPolicy] = {}


def register_policy(resource_type: str, policy: TopicPolicy) -> None:
    """Make ``policy`` the rules of topics ``resource_type:*``."""
    _policies[resource_type] = policy


def unregister_policy(resource_type: str) -> None:
    """Remove the policy of a resource type (its topics become forbidden)."""
    _policies.pop(resource_type, None)


def policy_for(resource_type: str) -> TopicPolicy | None:
    """The policy of a resource type, or None."""
    return _policies.get(resource_type)


@dataclass(frozen=True, slots=True)
class Grant:
    """Permission to follow one topic, with the view to show it through."""

    topic: str
    policy: TopicPolicy
    view: Hashable

    def present(self, event: dict[str, Any]) -> dict[str, Any] | None:
        return self.policy.present(event, self.view)


def authorize(user: Any, topic: str) -> Grant | None:
    """A grant if the user may follow the (valid) topic, else None. Sync: may query."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    parsed = parse_topic(topic)
    policy = policy_for(parsed.resource_type)
    if policy is None:
        return None
    staff = policy.allow_staff and user.is_staff
    if not staff and not policy.has_permission(user, parsed.identifier):
        return None
    return Grant(topic, policy, policy.view(user, parsed.identifier))


def authorize_many(user: Any, topics: list[str]) -> dict[str, Grant | None]:
    """``authorize`` for several topics in one database round trip from async code."""
    return {topic: authorize(user, topic) for topic in topics}
