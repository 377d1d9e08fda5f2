import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('targets', '0005_target_comparator_name_en'),
        ('reminders', '0002_default_policy'),
    ]

    # The reporting policy moves from the reminders app to the domain core. Its table
    # (reminders_reportingpolicy) stays as it is: only Django's idea of which app owns it changes.
    operations = [migrations.SeparateDatabaseAndState(state_operations=[
        migrations.CreateModel(
            name='ReportingPolicy',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('due_working_day', models.PositiveSmallIntegerField(default=5, help_text='Figures for a month are due on this working day of the following month.', validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(20)], verbose_name='due on working day')),
                ('remind_days_before', models.PositiveSmallIntegerField(default=3, help_text="Send the 'due soon' reminder this many working days before the deadline (0: none).", validators=[django.core.validators.MaxValueValidator(20)], verbose_name='remind working days before')),
                ('escalate_after_days', models.PositiveSmallIntegerField(default=2, help_text="Tell the unit's reviewer once figures are this many working days overdue.", validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(60)], verbose_name='escalate after working days overdue')),
                ('overdue_cap_days', models.PositiveSmallIntegerField(default=10, help_text='Overdue reminders go out each working day after the deadline, for at most this many working days.', validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(120)], verbose_name='chase for working days')),
                ('target', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='reporting_policy', to='targets.target', verbose_name='target')),
                ('unit', models.OneToOneField(blank=True, help_text='Leave unit and target empty for the default policy.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='reporting_policy', to='targets.unit', verbose_name='unit')),
            ],
            options={
                'verbose_name': 'reporting policy',
                'verbose_name_plural': 'reporting policies',
                'db_table': 'reminders_reportingpolicy',
                'constraints': [models.CheckConstraint(condition=models.Q(('unit__isnull', True), ('target__isnull', True), _connector='OR'), name='policy_unit_or_target')],
            },
        ),
    ], database_operations=[])]
