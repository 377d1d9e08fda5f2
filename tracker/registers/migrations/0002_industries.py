"""The divisions (大类) of GB/T 4754-2017, shipped as data (tracker.registers.industries)."""

from django.db import migrations


def load(apps, schema_editor):
    from tracker.registers.industries import DIVISIONS

    Industry = apps.get_model("registers", "Industry")
    existing = set(Industry.objects.values_list("code", flat=True))
    Industry.objects.bulk_create([Industry(code=code, section=section, name=name)
                                  for section, code, name in DIVISIONS if code not in existing])


def unload(apps, schema_editor):
    apps.get_model("registers", "Industry").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("registers", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
