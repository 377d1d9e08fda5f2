from django.db import migrations


def move_content_type(apps, schema_editor):
    """Permissions and admin history of the policy follow it to its new app label."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="targets", model="reportingpolicy").exists():
        ContentType.objects.filter(app_label="reminders", model="reportingpolicy").update(app_label="targets")


class Migration(migrations.Migration):

    dependencies = [
        ("reminders", "0002_default_policy"),
        ("targets", "0006_reportingpolicy"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.RemoveConstraint(model_name="reportingpolicy", name="policy_unit_or_target"),
            migrations.DeleteModel(name="ReportingPolicy"),
        ], database_operations=[]),
        migrations.RunPython(move_content_type, migrations.RunPython.noop),
    ]
