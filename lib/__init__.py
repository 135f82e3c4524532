"""Shared helpers that import no app of the project, only Django and third-party libraries: bulk inserts,
streaming a whole result, CSV export, units, the billing calendar, charts, cache rate limits, strict
environment parsing, the signed-in request's type. Not a Django app: it holds no models or templates."""
