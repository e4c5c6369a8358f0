"""The (team, original) index with the parent, so the gallery counts its cards from it alone.

The unfiltered gallery counts its cards, tiles aside: the distinct stored originals of the
team's jobs without a parent, to a thousand. With the parent in the index, PostgreSQL reads
them from the index without visiting the table: 1.25 ms to 0.3 ms at a million jobs. The
lookups by team and original (a job's versions, a tile's earlier runs) use it as before.

Built as migration 0013 builds its index: first the new one, on PostgreSQL concurrently, then
the old one dropped in a commit of its own, so reads of the job table never wait on a build.
"""

from django.db import migrations, models

from enhancer.migration_operations import AddIndexConcurrentlyWherePossible


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("enhancer", "0013_job_indexes_without_redundancy"),
    ]

    operations = [
        AddIndexConcurrentlyWherePossible(
            model_name="job",
            index=models.Index(fields=["team", "original", "parent"], name="job_versions"),
        ),
        migrations.RemoveIndex(model_name="job", name="enhancer_jo_team_id_00fcff_idx"),
    ]
