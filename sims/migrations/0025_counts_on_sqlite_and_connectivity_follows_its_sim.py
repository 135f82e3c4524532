from django.db import migrations

# SQLite has no statement-level triggers: row triggers keep ONE SimConnectivityDelta row per product
# and status (and one SimStateDelta row per product and state, below) (writers are serial there, so a counter row makes nobody wait), which a unique index
# lets an upsert add to. An update fires only when it names status or product_id (UPDATE OF), and
# counts only when one of them changed. A SIM leaving a count subtracts from its row, which its arrival
# made, and never makes one: a flush (DELETE FROM every table, in any order) may have emptied the
# counters before the SIMs, and must not leave negative rows behind for the next product 1.
SQLITE_COUNT_STATUSES = [
    "CREATE UNIQUE INDEX simconndelta_one_per_status ON sims_simconnectivitydelta (product_id, status)",
    "INSERT INTO sims_simconnectivitydelta (product_id, status, sims) "
    "SELECT product_id, status, COUNT(*) FROM sims_simconnectivity WHERE product_id IS NOT NULL GROUP BY product_id, status",
    """CREATE TRIGGER sims_connectivity_inserted AFTER INSERT ON sims_simconnectivity WHEN NEW.product_id IS NOT NULL
    BEGIN
        INSERT INTO sims_simconnectivitydelta (product_id, status, sims) VALUES (NEW.product_id, NEW.status, 1)
        ON CONFLICT (product_id, status) DO UPDATE SET sims = sims + 1;
    END""",
    """CREATE TRIGGER sims_connectivity_deleted AFTER DELETE ON sims_simconnectivity WHEN OLD.product_id IS NOT NULL
    BEGIN
        UPDATE sims_simconnectivitydelta SET sims = sims - 1 WHERE product_id = OLD.product_id AND status = OLD.status;
    END""",
    """CREATE TRIGGER sims_connectivity_updated AFTER UPDATE OF status, product_id ON sims_simconnectivity
    WHEN OLD.status IS NOT NEW.status OR OLD.product_id IS NOT NEW.product_id
    BEGIN
        UPDATE sims_simconnectivitydelta SET sims = sims - 1 WHERE product_id = OLD.product_id AND status = OLD.status;
        INSERT INTO sims_simconnectivitydelta (product_id, status, sims) SELECT NEW.product_id, NEW.status, 1
        WHERE NEW.product_id IS NOT NULL ON CONFLICT (product_id, status) DO UPDATE SET sims = sims + 1;
    END""",
]
# The same for states (SimStateDelta): the header's "never seen" is the product's SIMs less those seen,
# and counting a million SIMs' index took 40-85 ms on SQLite, most of the header's time.
SQLITE_COUNT_STATES = [
    "CREATE UNIQUE INDEX simstatedelta_one_per_state ON sims_simstatedelta (product_id, state)",
    "INSERT INTO sims_simstatedelta (product_id, state, sims) "
    "SELECT product_id, state, COUNT(*) FROM sims_sim WHERE product_id IS NOT NULL GROUP BY product_id, state",
    """CREATE TRIGGER sims_count_inserted AFTER INSERT ON sims_sim WHEN NEW.product_id IS NOT NULL
    BEGIN
        INSERT INTO sims_simstatedelta (product_id, state, sims) VALUES (NEW.product_id, NEW.state, 1)
        ON CONFLICT (product_id, state) DO UPDATE SET sims = sims + 1;
    END""",
    """CREATE TRIGGER sims_count_deleted AFTER DELETE ON sims_sim WHEN OLD.product_id IS NOT NULL
    BEGIN
        UPDATE sims_simstatedelta SET sims = sims - 1 WHERE product_id = OLD.product_id AND state = OLD.state;
    END""",
    """CREATE TRIGGER sims_count_updated AFTER UPDATE OF state, product_id ON sims_sim
    WHEN OLD.state IS NOT NEW.state OR OLD.product_id IS NOT NEW.product_id
    BEGIN
        UPDATE sims_simstatedelta SET sims = sims - 1 WHERE product_id = OLD.product_id AND state = OLD.state;
        INSERT INTO sims_simstatedelta (product_id, state, sims) SELECT NEW.product_id, NEW.state, 1
        WHERE NEW.product_id IS NOT NULL ON CONFLICT (product_id, state) DO UPDATE SET sims = sims + 1;
    END""",
]
SQLITE_STOP_COUNTING = [
    "DROP TRIGGER IF EXISTS sims_count_inserted",
    "DROP TRIGGER IF EXISTS sims_count_deleted",
    "DROP TRIGGER IF EXISTS sims_count_updated",
    "DROP INDEX IF EXISTS simstatedelta_one_per_state",
    "DELETE FROM sims_simstatedelta",
    "DROP TRIGGER IF EXISTS sims_connectivity_inserted",
    "DROP TRIGGER IF EXISTS sims_connectivity_deleted",
    "DROP TRIGGER IF EXISTS sims_connectivity_updated",
    "DROP INDEX IF EXISTS simconndelta_one_per_status",
    "DELETE FROM sims_simconnectivitydelta",
]

# A SIM's connectivity row carries its product (the counts and the "Offline for" sort read it by
# product): when the SIM leaves its product (removal) or moves to another (an import), the row follows
# whatever wrote the move, and the counting triggers move its count. Rows left behind by moves made
# before this migration are put right first.
SQLITE_FOLLOW = [
    "UPDATE sims_simconnectivity SET product_id = (SELECT s.product_id FROM sims_sim s WHERE s.id = sim_id) "
    "WHERE product_id IS NOT (SELECT s.product_id FROM sims_sim s WHERE s.id = sim_id)",
    """CREATE TRIGGER sims_connectivity_follows_product AFTER UPDATE OF product_id ON sims_sim
    WHEN OLD.product_id IS NOT NEW.product_id
    BEGIN
        UPDATE sims_simconnectivity SET product_id = NEW.product_id WHERE sim_id = NEW.id;
    END""",
]
SQLITE_STOP_FOLLOWING = ["DROP TRIGGER IF EXISTS sims_connectivity_follows_product"]

# PostgreSQL: a statement-level trigger as the counting ones are (transition tables can't be limited
# to a column), one UPDATE per statement however many SIMs it moved.
PG_FOLLOW = """
CREATE FUNCTION sims_connectivity_follows_product() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sims_simconnectivity c SET product_id = n.product_id
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE c.sim_id = n.id AND n.product_id IS DISTINCT FROM o.product_id;
    RETURN NULL;
END $$;
CREATE TRIGGER sims_connectivity_follows_product AFTER UPDATE ON sims_sim
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sims_connectivity_follows_product();
UPDATE sims_simconnectivity c SET product_id = s.product_id FROM sims_sim s
    WHERE s.id = c.sim_id AND c.product_id IS DISTINCT FROM s.product_id;
"""
PG_STOP_FOLLOWING = """
DROP TRIGGER IF EXISTS sims_connectivity_follows_product ON sims_sim;
DROP FUNCTION IF EXISTS sims_connectivity_follows_product();
"""


def count_and_follow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FOLLOW)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_FOLLOW + SQLITE_COUNT_STATUSES + SQLITE_COUNT_STATES:
            schema_editor.execute(statement)


def stop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_STOP_FOLLOWING)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_STOP_FOLLOWING + SQLITE_STOP_COUNTING:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("sims", "0024_domain_event_rule_fired"),
    ]

    operations = [
        migrations.RunPython(count_and_follow, stop),
    ]
