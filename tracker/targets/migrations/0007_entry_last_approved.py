from django.db import migrations, models
from django.db.models import F
from django.db.models.functions import Coalesce


def remember_approved_figures(apps, schema_editor):
    """Entries approved before this field existed: their figures as they stand are the approved ones."""
    entry = apps.get_model("targets", "ProgressEntry")
    entry.objects.filter(state="approved").update(
        approved_at=Coalesce("reviewed_at", "updated_at"), approved_value=F("value"),
        approved_comparator=F("comparator"), approved_is_done=F("is_done"),
    )


class Migration(migrations.Migration):

    dependencies = [
        ('targets', '0006_reportingpolicy'),
    ]

    operations = [
        migrations.AddField(
            model_name='progressentry',
            name='approved_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='last approved at'),
        ),
        migrations.AddField(
            model_name='progressentry',
            name='approved_comparator',
            field=models.DecimalField(blank=True, decimal_places=4, max_digits=16, null=True, verbose_name='last approved comparator'),
        ),
        migrations.AddField(
            model_name='progressentry',
            name='approved_is_done',
            field=models.BooleanField(default=False, verbose_name='last approved as completed'),
        ),
        migrations.AddField(
            model_name='progressentry',
            name='approved_value',
            field=models.DecimalField(blank=True, decimal_places=4, max_digits=16, null=True, verbose_name='last approved value'),
        ),
        migrations.RunPython(remember_approved_figures, migrations.RunPython.noop),
    ]
