"""Move the comparators typed into margin targets' entries into the indicator series.

Each comparator series (a margin target's `comparator_name`, e.g. 全省规模以上工业增加值累计增速) becomes an
Indicator whose values for the province region are the comparators entered so far; the targets point at it.
Where targets of one series disagree for a month, the approved figure wins, then the latest saved one; every
entry's comparator is written into the history before it is cleared from the entry, so nothing is lost.
Reversing puts the series values back on the entries that had none.
"""

from django.db import migrations

SOURCE = "migration"


def _strip(name, prefixes):
    for prefix in prefixes:
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix):]
    return name


def forwards(apps, schema_editor):
    Target = apps.get_model("targets", "Target")
    ProgressEntry = apps.get_model("targets", "ProgressEntry")
    Region = apps.get_model("targets", "Region")
    Indicator = apps.get_model("targets", "Indicator")
    SeriesValue = apps.get_model("targets", "SeriesValue")
    Change = apps.get_model("audit", "Change")
    margins = list(Target.objects.filter(kind="margin", series_indicator__isnull=True).exclude(comparator_name="")
                   .order_by("pk"))
    if not margins:
        return
    province = Region.objects.filter(kind="province").order_by("order", "pk").first()
    if province is None:
        province = Region.objects.create(code="province", name="全省", name_en="the province", kind="province")
    indicators = {}
    for target in margins:
        name = target.comparator_name
        if name not in indicators:
            indicator = Indicator.objects.filter(name=_strip(name, ("全省",))).first()
            if indicator is None:
                number = Indicator.objects.count() + 1
                while Indicator.objects.filter(code=f"series-{number}").exists():
                    number += 1
                indicator = Indicator.objects.create(
                    code=f"series-{number}", name=_strip(name, ("全省",)),
                    name_en=_strip(target.comparator_name_en, ("the province's ", "the province’s ")),
                    aliases=name)
            indicators[name] = indicator
        target.series_indicator, target.comparator_region = indicators[name], province
        target.save(update_fields=["series_indicator", "comparator_region"])
    entries = (ProgressEntry.objects.filter(target__in=margins, comparator__isnull=False)
               .select_related("target").order_by("pk"))
    chosen = {}
    for entry in entries:
        key = (indicators[entry.target.comparator_name].pk, entry.year, entry.month)
        rank = (entry.state == "approved", entry.updated_at, entry.pk)
        if key not in chosen or rank > chosen[key][0]:
            chosen[key] = (rank, entry.comparator)
    for (indicator_id, year, month), (_rank, value) in chosen.items():
        SeriesValue.objects.update_or_create(indicator_id=indicator_id, region=province, year=year, month=month,
                                             defaults={"value": value})
    changes = []
    for entry in entries:
        series = chosen[(indicators[entry.target.comparator_name].pk, entry.year, entry.month)][1]
        reason = "对比值已移入指标数据（%s）" % province.name
        if series != entry.comparator:
            reason += "；指标数据取 %s" % series.normalize()
        changes.append(Change(
            model="targets.progressentry", object_id=str(entry.pk), object_repr=f"{entry.target.code} {entry.year}-"
            f"{entry.month:02d}"[:200], unit_id=entry.target.lead_unit_id, action="update", source=SOURCE,
            changes={"comparator": [format(entry.comparator.normalize(), "f"), None]}, reason=reason))
    Change.objects.bulk_create(changes, batch_size=500)
    ProgressEntry.objects.filter(pk__in=[e.pk for e in entries]).update(comparator=None)


def backwards(apps, schema_editor):
    Target = apps.get_model("targets", "Target")
    ProgressEntry = apps.get_model("targets", "ProgressEntry")
    SeriesValue = apps.get_model("targets", "SeriesValue")
    for target in Target.objects.filter(kind="margin", series_indicator__isnull=False,
                                        comparator_region__isnull=False):
        values = {(v.year, v.month): v.value for v in SeriesValue.objects.filter(
            indicator_id=target.series_indicator_id, region_id=target.comparator_region_id)}
        for entry in ProgressEntry.objects.filter(target=target, comparator__isnull=True):
            if (entry.year, entry.month) in values:
                entry.comparator = values[(entry.year, entry.month)]
                entry.save(update_fields=["comparator"])


class Migration(migrations.Migration):
    dependencies = [
        ("targets", "0010_indicator_series"),
        ("audit", "0002_change_token"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
