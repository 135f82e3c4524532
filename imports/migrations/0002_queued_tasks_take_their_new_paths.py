"""Task rows queued before their task moved name it by its old dotted path (django-tasks-db imports
`task_path` when a worker runs the row). Renaming them here lets the old paths go: `sims.tasks`,
which re-exported imports' task from below it, and api's re-exports of the webhook delivery."""

from django.db import migrations

NEW_PATHS = {
    "sims.tasks.run_import_job": "imports.importing.run_import_job",
    "sims.tasks.run_usage_tick": "sims.periodic.run_usage_tick",
    "api.tasks.deliver_webhook": "webhooks.delivery.deliver_webhook",
    "api.webhooks.deliver_webhook": "webhooks.delivery.deliver_webhook",
}


def rename(apps, schema_editor, paths: dict[str, str]) -> None:
    tasks = apps.get_model("django_tasks_database", "DBTaskResult").objects.using(schema_editor.connection.alias)
    for old, new in paths.items():
        tasks.filter(task_path=old).update(task_path=new)


def to_new_paths(apps, schema_editor) -> None:
    rename(apps, schema_editor, NEW_PATHS)


def to_old_paths(apps, schema_editor) -> None:
    rename(apps, schema_editor, {new: old for old, new in NEW_PATHS.items() if not old.startswith("api.webhooks")})


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0001_initial"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(to_new_paths, to_old_paths)]
