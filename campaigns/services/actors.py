"""Who did it: a person (a ``User``) or a named job such as ``"suppressions.rematch"``."""

from __future__ import annotations

from typing import TypeAlias

from campaigns.models import User

Actor: TypeAlias = User | str


def actor_fields(actor: Actor, *, user_field: str, job_field: str) -> dict[str, object]:
    """Return the model fields that record ``actor``: the user, or the job's name."""
    if isinstance(actor, User):
        return {user_field: actor, job_field: ""}
    if isinstance(actor, str) and actor.strip():
        return {user_field: None, job_field: actor.strip()}
    raise TypeError("actor must be a User or the non-empty name of a job")


def actor_may(actor: Actor, permission: str) -> bool:
    """Return whether ``actor`` holds ``permission``; a job holds the permissions its code was given."""
    if isinstance(actor, User):
        return actor.is_active and actor.has_perm(permission)
    return True


def actor_label(actor: Actor) -> str:
    """Return who ``actor`` is in a log line: the user's username, or the job's name."""
    return actor.get_username() if isinstance(actor, User) else actor
