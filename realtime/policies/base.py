"""A topic policy and the grant it issues.

One policy per resource type. A policy says who may follow a topic
(``has_permission``), works out once per subscription which of its declared
*views* of the topic the follower gets (``view``, may query the database), and
shows each event through each view (``present``, pure: it runs when the event
is logged, and each view numbers only the events it shows). Resource types
without a policy are refused, staff included.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

#: What ``view_if_permitted`` returns for a user who may not follow the topic.
REFUSED = type("Refused", (), {"__repr__": lambda self: "REFUSED"})()


class TopicPolicy:
    """Rules for one resource type; subclass it and register it with
    ``@realtime.policy("resource-type")``."""

    #: Whether staff users may follow every topic of this type without
    #: ``has_permission``. None: the ``STAFF_BYPASS_POLICIES`` setting decides
    #: (off unless a project turns it on).
    allow_staff: bool | None = None

    #: Every view ``view()`` may return: a finite set, so that when an event is
    #: logged each view's own seq can be taken for it (a recipient's seqs count
    #: only what its view shows). Views are names (strings), or None for the
    #: one view of a topic everyone sees alike.
    views: tuple[str | None, ...] = (None,)

    #: Models, or many-to-many fields (``Board.members``), whose changes can
    #: change the answer of ``has_permission`` or ``view``: a committed change
    #: to one re-checks the open subscriptions it may affect.
    depends_on: Iterable[Any] = ()

    #: Client events a follower may send to the others (PROTOCOL.md section
    #: 7), by name; none unless a policy lists them.
    client_events: Iterable[str] = ()

    #: Whether followers of this type's topics are shown present to each
    #: other (PROTOCOL.md section 7). Off: presence costs nothing.
    presence: bool = False

    def has_permission(self, user: Any, identifier: str) -> bool:
        """Whether the (authenticated, active) user may follow the topic."""
        return False

    def allows_client_event(
        self, user: Any, identifier: str, event: str, view: str | None
    ) -> bool:
        """Whether this follower may send the client event ``event``. Pure, no
        database: it runs for every event sent. By default: any name in
        ``client_events``."""
        return event in self.client_events

    def presence_meta(self, user: Any) -> dict[str, Any]:
        """What a present user's entry shows besides ``user_id`` and
        ``connections``: ``name`` (the display name), and whatever a policy
        adds. Called once per connection that joins; may not query."""
        full_name = getattr(user, "get_full_name", lambda: "")()
        return {"name": full_name or user.get_username()}

    def present_presence(
        self, entry: dict[str, Any], view: str | None
    ) -> dict[str, Any] | None:
        """A presence entry as this view shows it (a copy if changed), or None
        to hide it. Pure."""
        return entry

    def client_event_views(
        self, event: str, sender_view: str | None
    ) -> Iterable[str | None]:
        """The views whose followers receive a client event (a subset of
        ``views``); by default all of them."""
        return self.views

    def view(self, user: Any, identifier: str) -> str | None:
        """The follower's view of the topic: one of ``views``, computed once
        per subscription (and again when access is re-checked)."""
        return None

    def view_if_permitted(self, user: Any, identifier: str) -> Any:
        """``view()`` if ``has_permission()``, else ``REFUSED``. Override it
        where one query can answer both (every subscribe asks both); by
        default it asks one, then the other."""
        if not self.has_permission(user, identifier):
            return REFUSED
        return self.view(user, identifier)

    def views_if_permitted(self, pairs: list[tuple[Any, str]]) -> list[Any]:
        """``view_if_permitted`` for each (user, identifier) pair, in order:
        the subscribes of a crowd connecting at once are asked together.
        Override it where one query can answer them all; by default each
        pair is asked alone."""
        return [self.view_if_permitted(user, identifier) for user, identifier in pairs]

    def present(self, event: dict[str, Any], view: str | None) -> dict[str, Any] | None:
        """The event as this view shows it (a copy if changed), or None to
        withhold it. Pure: it runs when the event is logged, once per view."""
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
    view: str | None

    @property
    def view_key(self) -> str:
        """The view's name in the log ("" for the single view None)."""
        return view_key(self.view)


def view_key(view: str | None) -> str:
    """How a view is named in the log: its name, or "" for None."""
    return "" if view is None else view
