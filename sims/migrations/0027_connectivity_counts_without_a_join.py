from django.db import migrations

# The connectivity counts' statement trigger (0023) without joining its transition tables on an update:
# the same sums, linear in the rows updated (bench/README.md, bench/network_events.py --new-devices).
COUNT_WITHOUT_A_JOIN = """
CREATE OR REPLACE FUNCTION sims_count_connectivity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO sims_simconnectivitydelta (product_id, status, sims)
        SELECT product_id, status, COUNT(*) FROM new_rows WHERE product_id IS NOT NULL GROUP BY product_id, status;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO sims_simconnectivitydelta (product_id, status, sims)
        SELECT product_id, status, -COUNT(*) FROM old_rows WHERE product_id IS NOT NULL GROUP BY product_id, status;
    ELSE
        -- Each row counted +1 under its new status and -1 under its old one: a row whose status stayed adds
        -- nothing. No join of the two transition tables (a nested loop over them, quadratic at 100,000 rows).
        INSERT INTO sims_simconnectivitydelta (product_id, status, sims)
        SELECT product_id, status, SUM(sims) FROM (
            SELECT product_id, status, 1 AS sims FROM new_rows WHERE product_id IS NOT NULL
            UNION ALL
            SELECT product_id, status, -1 FROM old_rows WHERE product_id IS NOT NULL
        ) AS changes GROUP BY product_id, status HAVING SUM(sims) <> 0;
    END IF;
    RETURN NULL;
END $$;
"""
COUNT_WITH_THE_JOIN = """
CREATE OR REPLACE FUNCTION sims_count_connectivity() RETURNS trigger LANGUAGE plpgsql AS $$
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
"""


def count_without_a_join(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COUNT_WITHOUT_A_JOIN)


def count_with_the_join(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COUNT_WITH_THE_JOIN)


class Migration(migrations.Migration):
    dependencies = [
        ("sims", "0026_offline_counts_by_hour"),
    ]

    operations = [migrations.RunPython(count_without_a_join, count_with_the_join)]
