"""Writing to the search outbox from services."""
from portal.extensions import db
from portal.search.models import SearchOutbox


def enqueue(kind: str, object_id: int) -> None:
    """Ask the indexer to refresh one object; part of the caller's transaction."""
    db.session.add(SearchOutbox(kind=kind, object_id=object_id))
