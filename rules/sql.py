"""The few SQL spellings PostgreSQL and SQLite do not share."""

from django.db import connection


def json_object(*pairs: str) -> str:
    """A JSON object from alternating key literals and SQL expressions, as the JSON column stores it."""
    function = "jsonb_build_object" if connection.vendor == "postgresql" else "json_object"
    return f"{function}({', '.join(pairs)})"


def text(placeholder: str = "%s") -> str:
    """A text parameter PostgreSQL can type inside a JSON builder."""
    return f"CAST({placeholder} AS text)"
