"""Old dotted paths of tasks that now live elsewhere. Task rows already queued in a database name their
task by the path it had when queued (django-tasks-db imports `task_path`), so these names must keep
resolving until no row names them.

`sims.tasks.run_import_job` is imports' task: sims sits below imports, and this one re-export is the
only upward import, allowed by name in .importlinter."""

from imports.importing import run_import_job  # noqa: F401  (queued as sims.tasks.run_import_job)
from sims.periodic import run_usage_tick  # noqa: F401  (queued as sims.tasks.run_usage_tick)
