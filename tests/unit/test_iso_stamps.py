"""Timestamps read straight on the driver as a record's ISO text (``UTCDateTime.iso_processor``).

SQLite's stored text is rearranged without parsing when it is exactly what
SQLAlchemy writes; these tests pin that this gives what parsing and
:func:`threadstore.clock.isoformat` give, for any instant, and that any other
text still goes through the parse.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from threadstore.clock import isoformat, isoformat_utc_many, stamp
from threadstore.types import UTCDateTime

_SQLITE = sqlite.dialect()  # type: ignore[no-untyped-call]
_PG = postgresql.dialect()  # type: ignore[no-untyped-call]

instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)


def _stored_on_sqlite(value: datetime) -> str:
    """The text SQLAlchemy writes for ``value`` into a SQLite UTCDateTime column."""
    column = UTCDateTime()
    bound = column.process_bind_param(value, _SQLITE)
    impl = column.load_dialect_impl(_SQLITE)
    text = impl.bind_processor(_SQLITE)(bound)  # type: ignore[misc]
    assert isinstance(text, str)
    return text


@given(instants)
def test_sqlite_text_becomes_the_records_iso_text(value: datetime) -> None:
    text = _stored_on_sqlite(value)
    iso = UTCDateTime().iso_processor(_SQLITE, None)
    parsed = UTCDateTime().result_processor(_SQLITE, None)(text)
    assert iso(text) == isoformat(parsed) == isoformat(value)


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-02 03:04:05",  # no microseconds (e.g. written by hand or CURRENT_TIMESTAMP)
        "2026-01-02T03:04:05.000006",  # ISO with a T
        "2026-01-02 03:04:05.000006+02:00",  # with an offset
    ],
)
def test_other_sqlite_text_is_parsed(text: str) -> None:
    iso = UTCDateTime().iso_processor(_SQLITE, None)
    expected = datetime.fromisoformat(text)
    if expected.tzinfo is None:
        expected = expected.replace(tzinfo=UTC)
    assert iso(text) == isoformat(expected)


@given(instants, st.integers(min_value=-14 * 60, max_value=14 * 60))
def test_postgresql_datetimes_become_iso_text_in_utc(value: datetime, minutes: int) -> None:
    iso = UTCDateTime().iso_processor(_PG, None)
    shifted = value.astimezone(timezone(timedelta(minutes=minutes)))
    assert iso(shifted) == isoformat(value)


def test_none_stays_none_and_stamp_takes_both_forms() -> None:
    assert UTCDateTime().iso_processor(_SQLITE, None)(None) is None
    assert UTCDateTime().iso_processor(_PG, None)(None) is None
    moment = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert stamp(moment) == stamp(isoformat(moment)) == "2026-01-02T03:04:05.000006+00:00"


@given(instants)
def test_asyncpg_utc_datetimes_take_the_one_call_path(value: datetime) -> None:
    """asyncpg gives timestamptz values in UTC: formatted at once, as isoformat would."""
    from sqlalchemy.dialects.postgresql import asyncpg

    iso = UTCDateTime().iso_processor(asyncpg.dialect(), None)  # type: ignore[no-untyped-call]
    assert value.tzinfo is UTC
    assert iso(value) == isoformat(value)


class _Moment(datetime):
    """A datetime subclass, which orjson refuses to render."""


@given(
    st.lists(
        instants
        | instants.map(lambda moment: moment.replace(microsecond=0))
        | instants.map(lambda moment: moment.replace(tzinfo=None))
        | instants.map(lambda moment: moment.astimezone(timezone(timedelta(hours=-3))))
        | st.none()
        | st.text(max_size=40),
        max_size=30,
    ),
    st.booleans(),
)
def test_a_column_of_utc_datetimes_is_formatted_as_isoformat_would(
    values: list[object], with_subclass: bool
) -> None:
    """One orjson call for the whole column; other values are left to the caller (None)."""
    if with_subclass:
        values = [*values, _Moment(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)]
    expected = [
        isoformat(value) if isinstance(value, datetime) and value.tzinfo is UTC else None
        for value in values
    ]
    if with_subclass:
        expected[-1] = None  # not a datetime exactly: the caller's general path
    assert isoformat_utc_many(values) == expected


def test_asyncpg_pages_format_each_timestamp_column_in_one_pass() -> None:
    from sqlalchemy.dialects.postgresql import asyncpg

    fill = UTCDateTime().iso_column(asyncpg.dialect())  # type: ignore[no-untyped-call]
    assert fill is not None
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    records: list[dict[str, object]] = [
        {"at": moment},
        {"at": None},
        {"at": moment.replace(tzinfo=None)},  # naive: taken to be UTC, as the column reads it
        {"at": moment.astimezone(timezone(timedelta(hours=2)))},
    ]
    fill(records, "at")
    assert [record["at"] for record in records] == [
        "2026-01-02T03:04:05.000000+00:00",
        None,
        "2026-01-02T03:04:05.000000+00:00",
        "2026-01-02T03:04:05.000000+00:00",
    ]


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    )
)
def test_sqlite_bind_text_is_sqlalchemys_storage_format(value: datetime) -> None:
    """The one-call bind of an aware datetime writes the text SQLAlchemy's DATETIME writes."""
    bind = UTCDateTime()._cached_bind_processor(_SQLITE)
    assert bind is not None
    assert bind(value) == _stored_on_sqlite(value)
    assert bind(None) is None


def test_sqlite_bind_still_refuses_naive_datetimes() -> None:
    bind = UTCDateTime()._cached_bind_processor(_SQLITE)
    assert bind is not None
    with pytest.raises(ValueError, match="naive"):
        bind(datetime(2026, 1, 2, 3, 4, 5))
