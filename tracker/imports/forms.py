import datetime

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracker.accounts import scoping
from tracker.imports.parsing import ImportFileError, check_size
from tracker.targets.models import Plan, Unit, parse_period, validate_period


def previous_month(today=None):
    """The period usually being reported: figures for a month come out in the next one."""
    first = (today or timezone.localdate()).replace(day=1)
    last = first - datetime.timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def default_period(today=None):
    """Last month, or the end of the latest earlier plan's year when last month has no plan."""
    period = previous_month(today)
    year = int(period[:4])
    latest = Plan.objects.filter(year__lte=year).order_by("-year").values_list("year", flat=True).first()
    return period if latest in (None, year) else f"{latest:04d}-12"


class TemplateForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=Unit.objects.none(), label=_("Unit"))
    period = forms.CharField(label=_("Period"), max_length=7, help_text=_("YYYY-MM, e.g. 2022-06"))

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = scoping.visible_units(user)
        # A clerk usually works for one unit: offer it first.
        self.fields["unit"].initial = user.memberships.order_by("pk").values_list("unit_id", flat=True).first()
        self.fields["period"].initial = default_period()

    def clean_period(self):
        try:
            year, month = parse_period(self.cleaned_data["period"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc))
        if not Plan.objects.filter(year=year).exists():
            raise forms.ValidationError(_("There is no plan for %(year)s.") % {"year": year})
        problem = validate_period(year, year, month)
        if problem:
            raise forms.ValidationError(problem)
        return year, month


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "CSV (UTF-8 or GB18030) or XLSX, e.g. the filled-in template; at most %(rows)s rows and %(size)s."
        ) % {"rows": f"{settings.IMPORT_MAX_ROWS:,}", "size": filesizeformat(settings.IMPORT_MAX_BYTES)}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            check_size(upload.size)  # before reading: a large file is refused unread
        except ImportFileError as exc:
            raise forms.ValidationError(str(exc))
        return upload
