"""The four role groups. Their permissions are (re)assigned after every
migrate by `tracker.accounts.roles.sync_role_groups`, because permissions of
models added later (and on a fresh database, of all models) only exist once
all migrations have run."""

from django.db import migrations

GROUPS = ["clerk", "reviewer", "leader", "administrator"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in GROUPS:
        Group.objects.get_or_create(name=name)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_login_failure"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(create_groups, remove_groups),
    ]
