"""Hooks for scripts/fuzz: query strings that carry NUL and other control characters.

Schemathesis draws a query string's values from the document, where a pattern forbids control
characters; a random value breaking that pattern is seldom the one byte PostgreSQL refuses in a
statement (NUL). So in the pass that loads these hooks every generated query gets one of them
(NUL as often as all the others) put into one of its text values, the others left valid so
that the value reaches the database: the server must answer with a 4xx, never a 5xx.
"""

import schemathesis
from hypothesis import strategies as st

CONTROLS = st.one_of(
    st.just("\x00"), st.sampled_from(["\x01", "\t", "\n", "\r", "\x1b", "\x7f", "\x85"])
)


@schemathesis.hook
def flatmap_query(context, query):
    texts = sorted(name for name, value in (query or {}).items() if isinstance(value, str))
    if not texts:
        return st.just(query)

    def inject(choice):
        name, control, at = choice
        value = query[name]
        cut = min(at, len(value))
        return {**query, name: value[:cut] + control + value[cut:]}

    return st.tuples(st.sampled_from(texts), CONTROLS, st.integers(0, 8)).map(inject)
