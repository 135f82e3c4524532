"""Windows of sign-in attempts opened by the first one, in the database (console.models.AttemptWindow):
shared by every process and counted atomically, so parallel guesses cannot pass a lockout's limit."""

import time

from django.db import connection
from django.db.models import F

from console.models import AttemptWindow


def take_attempt(key: str, *, allowed: int, window_seconds: int) -> tuple[bool, int, float]:
    """Count one attempt for `key` unless `allowed` are already counted in its open window; the first
    opens a window of `window_seconds`. Returns (counted, attempts in the window, when it closes).

    One statement, so parallel attempts each see the count the others left: at most `allowed` get
    through, however many arrive at once (a read then a write would let them all see the same count).
    """
    table = connection.ops.quote_name(AttemptWindow._meta.db_table)
    for _ in range(2):
        now = time.time()
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {table} ("key", attempts, closes) VALUES (%s, 1, %s)
                ON CONFLICT ("key") DO UPDATE SET
                    attempts = CASE WHEN {table}.closes <= %s THEN 1 ELSE {table}.attempts + 1 END,
                    closes = CASE WHEN {table}.closes <= %s THEN excluded.closes ELSE {table}.closes END
                WHERE {table}.closes <= %s OR {table}.attempts < %s
                RETURNING attempts, closes""",
                [key, now + window_seconds, now, now, now, allowed],
            )
            row = cursor.fetchone()
        if row is not None:
            attempts, closes = row
            if attempts == 1:  # a new window: forget the ones that have closed
                AttemptWindow.objects.filter(closes__lt=now).delete()
            return True, attempts, closes
        # The window is open and full, unless a success cleared it since: then count again.
        if window := AttemptWindow.objects.filter(key=key).values_list("attempts", "closes").first():
            return False, *window
    return False, allowed, time.time() + window_seconds


def attempts_in_window(key: str) -> tuple[int, float | None]:
    """The attempts counted for `key` in its open window, and when that window closes (a Unix time)."""
    window = AttemptWindow.objects.filter(key=key, closes__gt=time.time()).values_list("attempts", "closes").first()
    return window or (0, None)


def give_back_attempt(key: str) -> None:
    """Uncount an attempt that turned out not to count (it succeeded, or another limit refused it)."""
    AttemptWindow.objects.filter(key=key, closes__gt=time.time(), attempts__gt=0).update(attempts=F("attempts") - 1)


def clear_attempts(key: str) -> None:
    AttemptWindow.objects.filter(key=key).delete()
