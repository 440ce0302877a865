"""Messages between server processes on the channel layer (never seen by
clients): live events, re-authorization requests and the layer check."""

from typing import Any

# A committed event for a topic's group, as each view that shows it shows it;
# every process's hub receives it once.
EVENT = "realtime.event"
# A client event for a topic's group: not logged, delivered once by every
# process's hub to the followers whose view may see it, but its sender.
CLIENT_EVENT = "realtime.client_event"
# A user's first connection arrived in a topic, or their last one left,
# anywhere: every process's hub tells its followers (presence_diff).
PRESENCE = "realtime.presence"
# Re-check grants: sent to one user's group (``user_id``: that user's
# connections; each process's hub joins the group of every user it serves), or
# to every hub's control group (``resource_types``: every follower of those topics).
REAUTHORIZE = "realtime.reauthorize"
# The group every process's hub joins once, for requests that concern all of
# its sessions.
CONTROL_GROUP = "rt-control"


def event_message(
    topic: str, views: dict[str, dict[str, Any]], echo_to: str | None = None
) -> dict[str, Any]:
    """The layer message carrying one logged change of a topic: ``views`` maps
    each view that shows it ("" for the single view) to its envelope there,
    with that view's seq. A view that does not show it is absent. ``echo_to``
    names the connection whose request made the change, if it said so."""
    message = {"type": EVENT, "topic": topic, "views": views}
    if echo_to is not None:
        message["echo_to"] = echo_to
    return message


def reauthorize_message(
    *,
    ended: list[str] | None = None,
    resource_types: list[str] | None = None,
    user_id: str | None = None,
) -> dict[str, Any]:
    """A request to re-check grants: one user's connections (``user_id``,
    sent to that user's group) or every follower of ``resource_types``;
    ``ended`` are the fingerprints of credentials (sessions, tokens) that
    just ended."""
    message: dict[str, Any] = {"type": REAUTHORIZE}
    if user_id is not None:
        message["user_id"] = user_id
    if ended:
        message["ended"] = ended
    if resource_types:
        message["resource_types"] = resource_types
    return message


def client_event_message(
    *,
    topic: str,
    event: str,
    data: dict[str, Any],
    user_id: str,
    sender: str,
    views: list[str],
) -> dict[str, Any]:
    """The layer message carrying one client event: ``views`` are the view
    names that may see it, ``sender`` the connection that sent it."""
    return {
        "type": CLIENT_EVENT,
        "topic": topic,
        "event": event,
        "data": data,
        "user_id": user_id,
        "sender": sender,
        "views": views,
    }


def presence_message(
    topic: str,
    joins: dict[str, Any],
    leaves: dict[str, Any],
    sender: str | None = None,
) -> dict[str, Any]:
    """The layer message of a presence change: entries by user id; ``sender``
    is the connection whose arrival it announces (it knows already)."""
    message = {"type": PRESENCE, "topic": topic, "joins": joins, "leaves": leaves}
    if sender is not None:
        message["sender"] = sender
    return message
