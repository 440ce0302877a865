"""Sequences per view of a topic (PROTOCOL.md section 1, changed 2026-12-01).

Existing counters and events become those of the single view "". Topics whose
policy declares several views start their views' numbering afresh: a client
resuming one of them from an older cursor is told ``recovered: false`` and
refetches over REST, as after any reset.
"""

from django.db import migrations, models


def copy_counters(apps, schema_editor):
    TopicSequence = apps.get_model("realtime", "TopicSequence")
    Sequence = apps.get_model("realtime", "Sequence")
    Sequence.objects.bulk_create(
        Sequence(topic=row.topic, view="", last_seq=row.last_seq)
        for row in TopicSequence.objects.iterator()
    )


def copy_counters_back(apps, schema_editor):
    TopicSequence = apps.get_model("realtime", "TopicSequence")
    Sequence = apps.get_model("realtime", "Sequence")
    TopicSequence.objects.bulk_create(
        TopicSequence(topic=row.topic, last_seq=row.last_seq)
        for row in Sequence.objects.filter(view="").iterator()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("realtime", "0002_connection_ticket"),
    ]

    operations = [
        migrations.CreateModel(
            name="Sequence",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("topic", models.CharField(max_length=105)),
                ("view", models.CharField(blank=True, default="", max_length=40)),
                ("last_seq", models.BigIntegerField(default=0)),
            ],
            options={
                "db_table": "realtime_sequence",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("topic", "view"), name="realtime_sequence_topic_view"
                    )
                ],
            },
        ),
        migrations.RunPython(copy_counters, copy_counters_back),
        migrations.DeleteModel(name="TopicSequence"),
        migrations.RemoveConstraint(model_name="event", name="realtime_event_topic_seq"),
        migrations.AddField(
            model_name="event",
            name="view",
            field=models.CharField(blank=True, default="", max_length=40),
        ),
        migrations.AlterModelOptions(
            name="event", options={"ordering": ["topic", "view", "seq"]}
        ),
        migrations.AddConstraint(
            model_name="event",
            constraint=models.UniqueConstraint(
                fields=("topic", "view", "seq"), name="realtime_event_topic_view_seq"
            ),
        ),
    ]
