from django.db import migrations, models

# As 0010 does for states: statement-level triggers with transition tables, one INSERT of a few
# grouped rows per statement, however many SIMs' connectivity it changed.
COUNT_STATUSES = """
CREATE FUNCTION sims_count_connectivity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO sims_simconnectivitydelta (product_id, status, sims)
        SELECT product_id, status, COUNT(*) FROM new_rows WHERE product_id IS NOT NULL GROUP BY product_id, status;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO sims_simconnectivitydelta (product_id, status, sims)
        SELECT product_id, status, -COUNT(*) FROM old_rows WHERE product_id IS NOT NULL GROUP BY product_id, status;
    ELSE
        INSERT INTO sims_simconnectivitydelta (product_id, status, sims)
        SELECT product_id, status, SUM(sims) FROM (
            SELECT n.product_id, n.status, 1 AS sims FROM new_rows n JOIN old_rows o ON o.sim_id = n.sim_id
            WHERE n.product_id IS NOT NULL AND (n.status, n.product_id) IS DISTINCT FROM (o.status, o.product_id)
            UNION ALL
            SELECT o.product_id, o.status, -1 FROM new_rows n JOIN old_rows o ON o.sim_id = n.sim_id
            WHERE o.product_id IS NOT NULL AND (n.status, n.product_id) IS DISTINCT FROM (o.status, o.product_id)
        ) AS changes GROUP BY product_id, status HAVING SUM(sims) <> 0;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sims_connectivity_inserted AFTER INSERT ON sims_simconnectivity
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sims_count_connectivity();
CREATE TRIGGER sims_connectivity_updated AFTER UPDATE ON sims_simconnectivity
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sims_count_connectivity();
CREATE TRIGGER sims_connectivity_deleted AFTER DELETE ON sims_simconnectivity
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sims_count_connectivity();
INSERT INTO sims_simconnectivitydelta (product_id, status, sims)
    SELECT product_id, status, COUNT(*) FROM sims_simconnectivity WHERE product_id IS NOT NULL GROUP BY product_id, status;
"""
STOP_COUNTING = """
DROP TRIGGER IF EXISTS sims_connectivity_inserted ON sims_simconnectivity;
DROP TRIGGER IF EXISTS sims_connectivity_updated ON sims_simconnectivity;
DROP TRIGGER IF EXISTS sims_connectivity_deleted ON sims_simconnectivity;
DROP FUNCTION IF EXISTS sims_count_connectivity();
"""


def count_statuses(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COUNT_STATUSES)


def stop_counting(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(STOP_COUNTING)


class Migration(migrations.Migration):
    dependencies = [
        ("sims", "0022_domain_event_sms_received"),
    ]

    operations = [
        migrations.CreateModel(
            name="SimConnectivityDelta",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("product_id", models.BigIntegerField()),
                ("status", models.CharField(max_length=8)),
                ("sims", models.BigIntegerField()),
            ],
            options={
                "indexes": [models.Index(fields=["product_id", "status"], name="simconndelta_product_status")],
            },
        ),
        migrations.RunPython(count_statuses, stop_counting),
    ]
