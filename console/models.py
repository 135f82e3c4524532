from django.db import models


class AttemptWindow(models.Model):
    """Attempts counted for one key (a username's or a client address's sign-ins) in a window opened by
    the first one (console/attempts.py). In the database, not the cache: one atomic statement counts
    an attempt on SQLite and PostgreSQL alike, and every process sees the same count."""

    key = models.CharField(max_length=100, primary_key=True)
    attempts = models.PositiveIntegerField()
    closes = models.FloatField(db_index=True, help_text="Unix time")

    def __str__(self) -> str:
        return f"{self.key}: {self.attempts} until {self.closes:.0f}"
