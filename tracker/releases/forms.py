from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from tracker.imports.parsing import ImportFileError, check_size
from tracker.targets.period import Period
from tracker.targets.policies import current_period


class ReleaseUploadForm(forms.Form):
    period = forms.CharField(label=_("Period"), max_length=7, help_text=_("YYYY-MM: the months 1–N of the release."))
    file = forms.FileField(label=_("File"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].initial = current_period().key
        self.fields["file"].help_text = _(
            "The release table as published: CSV (UTF-8 or GB18030) or XLSX, one row per region, one column per "
            "indicator, each optionally followed by its rank (位次); at most %(size)s."
        ) % {"size": filesizeformat(settings.IMPORT_MAX_BYTES)}

    def clean_period(self):
        try:
            return Period.parse(self.cleaned_data["period"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            check_size(upload.size)
        except ImportFileError as exc:
            raise forms.ValidationError(str(exc)) from None
        return upload
