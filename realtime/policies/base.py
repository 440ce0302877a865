"""A topic policy and the grant it issues.

One policy per resource type. A policy says who may follow a topic
(``has_permission``), works out once per subscription which *view* of the topic
the follower gets (``view``, may query the database), and shows each event
through that view (``present``, pure: no database, so it can run on every
delivery). Resource types without a policy are refused, staff included.
"""

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any


class TopicPolicy:
    """Rules for one resource type; subclass it and register it with
    ``@realtime.policy("resource-type")``."""

    #: Whether staff users may follow every topic of this type without
    #: ``has_permission``. None: the ``STAFF_BYPASS_POLICIES`` setting decides
    #: (off unless a project turns it on).
    allow_staff: bool | None = None

    #: Models, or many-to-many fields (``Board.members``), whose changes can
    #: change the answer of ``has_permission`` or ``view``: a committed change
    #: to one re-checks the open subscriptions it may affect.
    depends_on: Iterable[Any] = ()

    def has_permission(self, user: Any, identifier: str) -> bool:
        """Whether the (authenticated, active) user may follow the topic."""
        return False

    def view(self, user: Any, identifier: str) -> Hashable:
        """The follower's view of the topic, computed once per subscription.

        Followers with equal views see identical events, so an event is
        filtered and encoded once per view rather than once per follower.
        """
        return None

    def present(self, event: dict[str, Any], view: Hashable) -> dict[str, Any] | None:
        """The event as this view shows it (a copy if changed), or None to
        withhold it. No database."""
        return event


class FunctionPolicy(TopicPolicy):
    """A policy from a plain ``(user, identifier) -> bool`` function."""

    def __init__(
        self, allows: Callable[[Any, str], bool], depends_on: Iterable[Any] = ()
    ) -> None:
        self.allows = allows
        self.depends_on = tuple(depends_on)

    def has_permission(self, user: Any, identifier: str) -> bool:
        return bool(self.allows(user, identifier))

    def __repr__(self) -> str:
        return f"FunctionPolicy({getattr(self.allows, '__qualname__', self.allows)})"


@dataclass(frozen=True, slots=True)
class Grant:
    """Permission to follow one topic, with the view to show it through."""

    topic: str
    policy: TopicPolicy
    view: Hashable

    def present(self, event: dict[str, Any]) -> dict[str, Any] | None:
        return self.policy.present(event, self.view)
