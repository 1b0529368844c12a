"""Who works with whom: how many matching stories name both of two countries.

Both backends list the matching stories (copies of one story collapsed, as the search counts
them) with their countries (`Backend.stories`); the counting is done here, once, so the matrix
is the same whichever index answers. A story counts once per pair however often it names each
country, and a story naming three countries counts for each of its three pairs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from itertools import combinations
from typing import Any

from indexer.document import Story

DEFAULT_TOP = 15  # countries on each side of the matrix
MAX_TOP = 50


def cooccurrence(
    stories: Iterable[Story], name_of: Callable[[str], str], top: int = DEFAULT_TOP
) -> dict[str, Any]:
    """The matrix over the `top` countries most stories name, and every pair any story names.

    `countries` are the matrix's rows and columns, most named first (ties by code); `matrix[i][j]`
    is the number of stories naming both, the diagonal those naming the country at all; `pairs`
    lists every pair at least one story names (not only those of the matrix), most first.
    """
    # Stories naming the same countries are counted together: far fewer sets than stories.
    sets = Counter(tuple(sorted(set(story.countries))) for story in stories)
    total = named = paired = 0
    single: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for codes, n in sets.items():
        total += n
        if codes:
            named += n
            for code in codes:
                single[code] += n
        if len(codes) > 1:
            paired += n
            for pair in combinations(codes, 2):
                pairs[pair] += n
    axes = [code for code, _n in sorted(single.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
    matrix = [
        [single[a] if a == b else pairs[(a, b) if a < b else (b, a)] for b in axes] for a in axes
    ]
    return {
        "total": total,
        "with_country": named,
        "with_pair": paired,
        "countries": [{"id": c, "name": name_of(c), "stories": single[c]} for c in axes],
        "matrix": matrix,
        "pairs": [
            {"countries": [a, b], "names": [name_of(a), name_of(b)], "stories": n}
            for (a, b), n in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
    }
