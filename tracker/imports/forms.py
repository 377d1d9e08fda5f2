from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from tracker.accounts import scoping
from tracker.imports.parsing import ImportFileError, check_size
from tracker.targets.models import Unit
from tracker.targets.period import Period
from tracker.targets.policies import current_period


class TemplateForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=Unit.objects.none(), label=_("Unit"))
    period = forms.CharField(label=_("Period"), max_length=7, help_text=_("YYYY-MM, e.g. 2022-06"))

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["unit"].queryset = scoping.visible_units(user)
        # A clerk usually works for one unit: offer it first.
        self.fields["unit"].initial = user.memberships.order_by("pk").values_list("unit_id", flat=True).first()
        self.fields["period"].initial = current_period().key

    def clean_period(self):
        try:
            period = Period.parse(self.cleaned_data["period"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        year, month = period.year, period.month
        _plans, problem = scoping.check_period(self.user, year, month)
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
