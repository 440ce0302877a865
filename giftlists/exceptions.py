"""Domain errors raised by the gift-list services.

They carry a stable machine-readable ``code`` and a human-readable message, and
know nothing of HTTP; ``giftlists.api_errors`` maps them to responses. Invalid
field values are reported with Django's ``ValidationError`` instead, keyed by
field name.
"""


class DomainError(Exception):
    """A request the domain rules refuse; ``code`` names the rule."""

    code = "domain_error"
    default_message = "This action is not allowed."

    def __init__(self, message: str | None = None, code: str | None = None) -> None:
        self.message = message or self.default_message
        if code is not None:
            self.code = code
        super().__init__(self.message)


class NotPermitted(DomainError):
    """The actor may see the object but may not make this change to it."""

    code = "permission_denied"
    default_message = "You do not have permission to perform this action."


class NotAMember(NotPermitted):
    """The actor is not a member of the family the change belongs to."""

    code = "not_a_member"
    default_message = "You are not a member of this family."


class TransitionNotAllowed(DomainError):
    """A gift cannot move from its current state by this action and actor."""

    code = "transition_not_allowed"
    default_message = "This gift cannot change state this way."


class InvitationNotFound(DomainError):
    """No invitation has this token, or it names someone else.

    Both cases read the same, so a token tells nothing to anyone it is not for.
    """

    code = "not_found"
    default_message = "This invitation does not exist or is not for you."


class InvitationGone(DomainError):
    """The invitation was for this user but can no longer be accepted.

    ``code`` says why: ``invitation_used``, ``invitation_expired`` or
    ``invitation_withdrawn`` (whoever sent it has left the family).
    """

    code = "invitation_gone"
    default_message = "This invitation can no longer be accepted."
