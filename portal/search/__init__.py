"""Full-text search: Whoosh schema, Chinese analyzer, indexer, queries."""
