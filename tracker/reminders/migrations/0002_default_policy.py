from django.db import migrations


def create_default_policy(apps, schema_editor):
    ReportingPolicy = apps.get_model("reminders", "ReportingPolicy")
    if not ReportingPolicy.objects.filter(unit__isnull=True, target__isnull=True).exists():
        ReportingPolicy.objects.create()


class Migration(migrations.Migration):
    dependencies = [("reminders", "0001_initial")]

    operations = [migrations.RunPython(create_default_policy, migrations.RunPython.noop)]
