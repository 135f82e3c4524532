"""The SIMs page's links: sort headers, page links and "SIMs 51-100 of 1,000,000".

Every link carries the whole filter and sort in its query string, so that a bookmark or a shared
link shows the same view. Pages are cut by keyset, so a page does not know its offset: the page
links count pages as they go (page=2, 3, ... from the first, page=-1, -2, ... from the last), and
the count, which arrives in its own request, turns that number into a position.
"""

from dataclasses import dataclass

from django.http import QueryDict

from sims.listing import ListOrder, SimPage, SortKey

# A page number beyond this is not one a person reached by clicking: the position is left out.
MAX_PAGE_NUMBER = 10**7
# The first click on a column sorts it this way: the heaviest users, the latest changes, the longest offline first.
FIRST_DESCENDING = {SortKey.ICCID: False, SortKey.USAGE: True, SortKey.STATE_CHANGE: True, SortKey.OFFLINE: True}


@dataclass(frozen=True)
class Link:
    label: str
    query: str  # the query string, without "?"
    rel: str = ""


@dataclass(frozen=True)
class SortLink:
    query: str
    # "ascending" or "descending" for the column the list is sorted by (aria-sort), else "".
    current: str


def with_params(query: str, **values: object) -> str:
    """The query string with these parameters set (None or "" leave one out)."""
    kept = QueryDict(query, mutable=True)
    for name, value in values.items():
        kept.pop(name, None)
        if value is not None and value != "":
            kept[name] = str(value)
    return kept.urlencode()


def sort_links(filter_query: str, order: ListOrder) -> dict[str, SortLink]:
    """Per sortable column, the link that sorts by it (the other way round if it is the current sort)."""
    links = {}
    for key in SortKey:
        if key == order.key:
            target, current = order.reversed(), "descending" if order.descending else "ascending"
        else:
            target, current = ListOrder(key, FIRST_DESCENDING[key]), ""
        sort = "" if target == ListOrder() else str(target)
        links[key.value] = SortLink(query=with_params(filter_query, sort=sort), current=current)
    return links


def page_links(filter_query: str, page: SimPage, number: int | None) -> list[Link]:
    """First, Previous, Next and Last, each keeping the filter and sort and carrying its page number."""
    links = []
    if page.has_previous:
        previous = None if number is None else number - 1
        links += [
            Link("« First", filter_query),
            Link("‹ Previous", with_params(filter_query, before=page.first_cursor, page=previous), "prev"),
        ]
    if page.has_next:
        following = None if number is None else number + 1
        links += [
            Link("Next ›", with_params(filter_query, after=page.last_cursor, page=following), "next"),
            Link("Last »", with_params(filter_query, last=1)),
        ]
    return links


@dataclass(frozen=True)
class Position:
    first: int
    last: int


def page_position(params: QueryDict, *, count: int, per_page: int) -> Position | None:
    """Which of the `count` matching SIMs the page shows, from its number and its size; None if unknown."""
    try:
        number, shown = int(params.get("page", "")), int(params.get("shown", ""))
    except ValueError:
        return None
    if not number or abs(number) > MAX_PAGE_NUMBER or not 0 < shown <= per_page:
        return None
    first = (number - 1) * per_page + 1 if number > 0 else count + number * per_page + 1
    first = max(1, min(first, count))
    return Position(first=first, last=min(count, first + shown - 1))
