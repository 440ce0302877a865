"""The policy of each resource type, and ``@realtime.policy`` to declare one."""

from collections.abc import Callable, Iterable
from typing import Any

from realtime.policies.base import FunctionPolicy, TopicPolicy
from realtime.protocol.topics import RESOURCE_TYPE_PATTERN

# As in the log (realtime.models.VIEW_MAX_LENGTH), without importing models here.
VIEW_MAX_LENGTH = 40

_policies: dict[str, TopicPolicy] = {}


def register_policy(resource_type: str, policy: TopicPolicy) -> TopicPolicy:
    """Make ``policy`` the rules of topics ``resource_type:*``; returns it."""
    if not RESOURCE_TYPE_PATTERN.match(resource_type):
        raise ValueError(
            f"resource type {resource_type!r} must match "
            f"{RESOURCE_TYPE_PATTERN.pattern}"
        )
    if not isinstance(policy, TopicPolicy):
        raise TypeError("a policy is a TopicPolicy instance")
    views = tuple(policy.views)
    if (
        not views
        or len(set(views)) != len(views)
        or not all(
            view is None or (isinstance(view, str) and 0 < len(view) <= VIEW_MAX_LENGTH)
            for view in views
        )
    ):
        raise ValueError(
            f"the views of {resource_type!r} must be distinct names (strings of "
            f"at most {VIEW_MAX_LENGTH} characters) or None, not {views!r}"
        )

    _policies[resource_type] = policy
    from realtime.policies.dependencies import watch_dependencies

    watch_dependencies(resource_type, policy)
    return policy


def unregister_policy(resource_type: str) -> None:
    """Remove the policy of a resource type (its topics become forbidden)."""
    from realtime.policies.dependencies import unwatch_dependencies

    _policies.pop(resource_type, None)
    unwatch_dependencies(resource_type)


def policy_for(resource_type: str) -> TopicPolicy | None:
    """The policy of a resource type, or None."""
    return _policies.get(resource_type)


def policy(
    resource_type: str, *, depends_on: Iterable[Any] = ()
) -> Callable[[Any], Any]:
    """Declare the policy of ``resource_type`` topics; use as a decorator.

    On a function ``(user, identifier) -> bool``, it answers who may follow;
    on a :class:`TopicPolicy` subclass, an instance of it is the policy (for
    views and per-recipient presentation). ``depends_on`` names the models or
    many-to-many fields (``Board.members``) the answer reads, so that a change
    to them re-checks open subscriptions (see ``TopicPolicy.depends_on``).
    Returns what it decorates, unchanged.
    """

    def declare(target: Any) -> Any:
        if isinstance(target, type) and issubclass(target, TopicPolicy):
            instance = target()
            if depends_on:
                instance.depends_on = (*instance.depends_on, *depends_on)
        elif isinstance(target, TopicPolicy):
            instance = target
            if depends_on:
                instance.depends_on = (*instance.depends_on, *depends_on)
        elif callable(target):
            instance = FunctionPolicy(target, depends_on)
        else:
            raise TypeError(
                "@realtime.policy decorates a function (user, identifier) -> bool "
                "or a TopicPolicy subclass"
            )
        register_policy(resource_type, instance)
        return target

    return declare
