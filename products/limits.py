"""A SIM's effective data limit: its own, else its product's default, else the console's default
(Particle's rule). Defined once here, in Python for the pages and the API and in SQL for pausing at
the limit; this module imports no model, so the models use it too."""

# The effective data limit of a SIM whose product sets no default (and of a developer's own SIM).
DEFAULT_DATA_LIMIT_MB = 5


def effective_limit_mb(own_mb: int | None, product_default_mb: int | None) -> int:
    """The limit in MB from a SIM's own limit and its product's default (None: not set, or no product)."""
    if own_mb is not None:
        return own_mb
    if product_default_mb is not None:
        return product_default_mb
    return DEFAULT_DATA_LIMIT_MB


def effective_limit_sql(sim: str, product: str) -> str:
    """The same as an SQL expression in MB, over the aliases of the SIM table and of its product's,
    LEFT JOINed (a developer's own SIM has none)."""
    return f"COALESCE({sim}.data_limit_mb, {product}.default_data_limit_mb, {int(DEFAULT_DATA_LIMIT_MB)})"
