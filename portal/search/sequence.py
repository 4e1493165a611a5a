"""ExactSequence: a Whoosh Phrase (slop 1) whose position check is set arithmetic.

Every multi-character Chinese query word is a phrase of bigrams, so phrase matching
is most of a search's time. Whoosh checks a phrase by building Span objects for
every position of every token and walking them pairwise in Python (SpanNear2);
here the start positions p with token i at p + i for every i are one intersection
of integer sets per token. Same matches, same scores (the sum of the tokens' scores,
as Whoosh's phrase matcher gives); measured on the benchmark corpus in
BENCHMARKS.md.
"""
from whoosh import matching
from whoosh.query import Phrase, SpanNear2, Term
from whoosh.query.spans import Span


class _SequenceMatcher(SpanNear2.SpanNear2Matcher):
    def _get_spans(self):
        matchers = self.ms
        starts = set(matchers[0].value_as("positions"))
        for offset in range(1, len(matchers)):
            if not starts:
                return []
            starts.intersection_update([p - offset for p in matchers[offset].value_as("positions")])
        last = len(matchers) - 1
        return [Span(p, p + last) for p in sorted(starts)]


class ExactSequence(Phrase):
    """A Phrase; with slop 1 (the default, and all the portal uses) matched faster."""

    def matcher(self, searcher, context=None):
        if self.slop != 1:
            return super().matcher(searcher, context)
        field = searcher.schema[self.fieldname] if self.fieldname in searcher.schema else None
        if field is None or not field.format or not field.format.supports("positions"):
            return matching.NullMatcher()
        reader, terms = searcher.reader(), []
        for word in self.words:
            try:
                word = field.to_bytes(word)
            except ValueError:
                return matching.NullMatcher()
            if (self.fieldname, word) not in reader:
                return matching.NullMatcher()
            terms.append(Term(self.fieldname, word))
        m = _SequenceMatcher([t.matcher(searcher, context) for t in terms])
        return matching.WrappingMatcher(m, boost=self.boost) if self.boost != 1.0 else m
