"""Revision labels: edition letter / modification number (A/0 → A/1 → B/0)."""
import string

from portal.errors import Conflict

EDITIONS = string.ascii_uppercase


def next_label(previous: tuple[str, int] | None, change_level: str) -> tuple[str, int]:
    """The (edition, modification) that follows `previous` for a minor or major change."""
    if previous is None:
        return "A", 0
    edition, modification = previous
    if change_level == "minor":
        return edition, modification + 1
    index = EDITIONS.index(edition)
    if index + 1 >= len(EDITIONS):
        raise Conflict("No edition letter after Z.", code="edition_exhausted")
    return EDITIONS[index + 1], 0


def format_label(edition: str, modification: int) -> str:
    return f"{edition}/{modification}"
