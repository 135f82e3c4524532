from django.db import migrations, models

# "Offline for more than 24 h" was the offline count less a count of the SIMs offline since the last 24
# hours: 276-578 ms at 1,000,000 SIMs under load, where 112,000 had gone offline that day
# (bench/sim_list_connectivity.py). These triggers keep, per product, how many offline SIMs went offline
# in each hour (`since` to the hour, UTC; a SIM offline since no known time is in no hour), so that count
# is a sum of the last day's rows and an index range of one hour. As 0023 and 0025 do for the statuses:
# statement-level triggers on PostgreSQL, a row per statement, folded by the periodic work; row triggers
# on SQLite into one row per product and hour (a unique index), which a departure subtracts from and
# never makes (a flush empties the tables in any order).
PG_COUNT_HOURS = """
CREATE FUNCTION sims_count_offline_hours() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO sims_simofflinehourdelta (product_id, hour, sims)
        SELECT product_id, date_trunc('hour', since, 'UTC'), COUNT(*) FROM new_rows
        WHERE product_id IS NOT NULL AND status = 'offline' AND since IS NOT NULL GROUP BY 1, 2;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO sims_simofflinehourdelta (product_id, hour, sims)
        SELECT product_id, date_trunc('hour', since, 'UTC'), -COUNT(*) FROM old_rows
        WHERE product_id IS NOT NULL AND status = 'offline' AND since IS NOT NULL GROUP BY 1, 2;
    ELSE
        -- Each row counted +1 under its new hour and -1 under its old one: a row that stayed adds nothing.
        -- No join of the two transition tables (a nested loop over them, quadratic at 100,000 rows).
        INSERT INTO sims_simofflinehourdelta (product_id, hour, sims)
        SELECT product_id, hour, SUM(sims) FROM (
            SELECT product_id, date_trunc('hour', since, 'UTC') AS hour, 1 AS sims FROM new_rows
            WHERE product_id IS NOT NULL AND status = 'offline' AND since IS NOT NULL
            UNION ALL
            SELECT product_id, date_trunc('hour', since, 'UTC'), -1 FROM old_rows
            WHERE product_id IS NOT NULL AND status = 'offline' AND since IS NOT NULL
        ) AS changes GROUP BY product_id, hour HAVING SUM(sims) <> 0;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sims_offline_hours_inserted AFTER INSERT ON sims_simconnectivity
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sims_count_offline_hours();
CREATE TRIGGER sims_offline_hours_updated AFTER UPDATE ON sims_simconnectivity
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sims_count_offline_hours();
CREATE TRIGGER sims_offline_hours_deleted AFTER DELETE ON sims_simconnectivity
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sims_count_offline_hours();
INSERT INTO sims_simofflinehourdelta (product_id, hour, sims)
    SELECT product_id, date_trunc('hour', since, 'UTC'), COUNT(*) FROM sims_simconnectivity
    WHERE product_id IS NOT NULL AND status = 'offline' AND since IS NOT NULL GROUP BY 1, 2;
"""
PG_STOP_COUNTING = """
DROP TRIGGER IF EXISTS sims_offline_hours_inserted ON sims_simconnectivity;
DROP TRIGGER IF EXISTS sims_offline_hours_updated ON sims_simconnectivity;
DROP TRIGGER IF EXISTS sims_offline_hours_deleted ON sims_simconnectivity;
DROP FUNCTION IF EXISTS sims_count_offline_hours();
"""

# Django stores a time as 'YYYY-MM-DD HH:MM:SS[.ffffff]' (UTC) on SQLite: its hour is the first 13 characters.
SQLITE_HOUR = "substr({row}.since, 1, 13) || ':00:00'"
SQLITE_COUNTED = "{row}.product_id IS NOT NULL AND {row}.status = 'offline' AND {row}.since IS NOT NULL"
SQLITE_ADD = (
    "INSERT INTO sims_simofflinehourdelta (product_id, hour, sims) SELECT NEW.product_id, {hour}, 1 WHERE {counted} "
    "ON CONFLICT (product_id, hour) DO UPDATE SET sims = sims + 1;"
).format(hour=SQLITE_HOUR.format(row="NEW"), counted=SQLITE_COUNTED.format(row="NEW"))
SQLITE_SUBTRACT = (
    "UPDATE sims_simofflinehourdelta SET sims = sims - 1 WHERE {counted} AND product_id = OLD.product_id AND hour = {hour};"
).format(hour=SQLITE_HOUR.format(row="OLD"), counted=SQLITE_COUNTED.format(row="OLD"))
SQLITE_COUNT_HOURS = [
    "CREATE UNIQUE INDEX simofflinehour_one_per_hour ON sims_simofflinehourdelta (product_id, hour)",
    "INSERT INTO sims_simofflinehourdelta (product_id, hour, sims) "
    f"SELECT product_id, {SQLITE_HOUR.format(row='c')}, COUNT(*) FROM sims_simconnectivity c "
    f"WHERE {SQLITE_COUNTED.format(row='c')} GROUP BY 1, 2",
    f"CREATE TRIGGER sims_offline_hours_inserted AFTER INSERT ON sims_simconnectivity BEGIN {SQLITE_ADD} END",
    f"CREATE TRIGGER sims_offline_hours_deleted AFTER DELETE ON sims_simconnectivity BEGIN {SQLITE_SUBTRACT} END",
    "CREATE TRIGGER sims_offline_hours_updated AFTER UPDATE OF status, product_id, since ON sims_simconnectivity "
    "WHEN OLD.status IS NOT NEW.status OR OLD.product_id IS NOT NEW.product_id OR OLD.since IS NOT NEW.since "
    f"BEGIN {SQLITE_SUBTRACT} {SQLITE_ADD} END",
]
SQLITE_STOP_COUNTING = [
    "DROP TRIGGER IF EXISTS sims_offline_hours_inserted",
    "DROP TRIGGER IF EXISTS sims_offline_hours_deleted",
    "DROP TRIGGER IF EXISTS sims_offline_hours_updated",
    "DROP INDEX IF EXISTS simofflinehour_one_per_hour",
]


def count_offline_hours(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_COUNT_HOURS)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_COUNT_HOURS:
            schema_editor.execute(statement)


def stop_counting(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_STOP_COUNTING)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_STOP_COUNTING:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("sims", "0025_counts_on_sqlite_and_connectivity_follows_its_sim"),
    ]

    operations = [
        migrations.CreateModel(
            name="SimOfflineHourDelta",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("product_id", models.BigIntegerField()),
                ("hour", models.DateTimeField()),
                ("sims", models.BigIntegerField()),
            ],
            options={
                "indexes": [models.Index(fields=["product_id", "hour"], name="simofflinehour_product_hour")],
            },
        ),
        migrations.RunPython(count_offline_hours, stop_counting),
    ]
