"""PostgreSQL: compare ICCIDs byte by byte, whatever the database's default collation.

The SIMs page reads ICCID searches as index ranges ("starts with 123" is 123 <= iccid < 123:,
sims/listing.py), which needs ":" to sort right after "9". That holds in the C and C.UTF-8
collations, not in en_US.UTF-8 and the like, where punctuation sorts before digits. A database
created with such a default would return wrong pages. Django's `db_collation` cannot say this
for both databases (SQLite's byte order is its default and it has no collation named "C"),
hence this PostgreSQL-only step. A later change of the column's type must keep COLLATE "C":
tests/sims/test_listing.py checks it.
"""

from django.db import migrations


def compare_bytes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE sims_sim ALTER COLUMN iccid TYPE varchar(20) COLLATE "C"')


class Migration(migrations.Migration):
    dependencies = [("sims", "0008_import_speed")]

    operations = [migrations.RunPython(compare_bytes, migrations.RunPython.noop)]
