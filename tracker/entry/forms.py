"""Forms for entering monthly figures: the admin's entry form, the entry screen's rows and its chooser."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from tracker.accounts import scoping
from tracker.services.entries import EntryRow, save_entries
from tracker.targets import checks
from tracker.targets.models import ProgressEntry, Target, validate_entry_values
from tracker.targets.numbers import plain_decimal
from tracker.targets.period import Period

# What a clerk fills in, per kind of target; note and problems go with every kind.
KIND_FIELDS = {
    Target.Kind.GROWTH: ("value",),
    Target.Kind.MARGIN: ("value", "comparator"),
    Target.Kind.CUMULATIVE: ("value",),
    Target.Kind.RECURRING: ("value",),
    Target.Kind.MILESTONE: ("is_done",),
    Target.Kind.QUALITATIVE: (),
}
TEXT_FIELDS = ("note", "problems")
# How a clerk answers the soft checks' warnings (tracker.targets.checks), on the kinds that are checked.
CHECK_FIELDS = ("confirm_warnings", "warning_note")
CONFIRM_LABEL = _("Confirm: the figures are right")


def add_row_errors(form, errors):
    """Put save_entries' RowErrors next to the fields they name (or above the row)."""
    for error in errors:
        form.add_error(error.field if error.field in form.fields else None, error.message)


def confirm_field():
    return forms.BooleanField(
        label=CONFIRM_LABEL, required=False,
        help_text=_("Tick to save figures the checks question, or explain them instead."),
    )


def warning_note_field(widget=None):
    return _model_field("warning_note", widget=widget or forms.Textarea(attrs={"rows": 2, "cols": 40}), help_text=_(
        "Why the figures are right despite the warnings; the reviewer sees it. Writing one confirms them too."))


def number_widget():
    """A text input that asks phones for the decimal keypad.

    Not type=number: a browser drops text typed into one and posts the field empty, so the row would be saved
    without its figure. As text it reaches the server, whose DecimalField makes it an error on the row.
    """
    return forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "class": "vTextField entry-num"})


def _model_field(name, **kwargs):
    # The model's own form field keeps labels, digit limits and messages in one place.
    return ProgressEntry._meta.get_field(name).formfield(**kwargs)


class EntryRowForm(forms.Form):
    """One target's figures for one month on the entry screen."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    value = _model_field("value", widget=number_widget())
    comparator = _model_field("comparator", widget=number_widget())
    is_done = _model_field("is_done")
    note = _model_field("note", widget=forms.Textarea(attrs={"rows": 2, "cols": 24}))
    problems = _model_field("problems", widget=forms.Textarea(attrs={"rows": 2, "cols": 24}))
    confirm_warnings = confirm_field()
    warning_note = warning_note_field()

    def __init__(self, *args, target, entry=None, computed=False, **kwargs):
        self.target = target
        self.entry = entry
        # RowWarnings of the last save attempt, shown under the row (not as errors).
        self.soft_warnings = []
        initial = {"version": entry.version if entry else 0}
        if entry is not None:
            initial.update(
                value=plain_decimal(entry.value), comparator=plain_decimal(entry.comparator),
                is_done=entry.is_done, note=entry.note, problems=entry.problems, warning_note=entry.warning_note,
            )
        super().__init__(*args, prefix=f"t{target.pk}", initial=initial, **kwargs)
        keep = {"version", *KIND_FIELDS[target.kind], *TEXT_FIELDS}
        if not target.needs_comparator:
            keep.discard("comparator")  # a margin target following a series takes the province's figure from it
        if checks.is_checked(target):
            keep.update(CHECK_FIELDS)
        if computed:
            # The figure comes from a register (shown read-only beside the row); only the notes are typed.
            keep -= {"value", "comparator", "is_done", *CHECK_FIELDS}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        # The table's column heads are not labels: each input is named for its target, for screen readers.
        for name, field in self.fields.items():
            if name != "version":
                field.widget.attrs["aria-label"] = f"{target.code} {field.label}"

    @property
    def shows_checks(self):
        """Whether the row shows the confirm tick and the explanation: it has warnings, new or stored."""
        return "confirm_warnings" in self.fields and bool(self.soft_warnings or (self.entry and self.entry.warnings))

    @property
    def edited(self):
        """Whether the posted figures differ from those now stored (the hidden version and the tick aside)."""
        return any(name not in ("version", "confirm_warnings") for name in self.changed_data)

    def entry_row(self, year, month):
        data = self.cleaned_data
        values = {name: data[name] for name in self.fields if name not in ("version", "confirm_warnings")}
        # A row first shown empty has version 0: if someone created the entry
        # meanwhile, save_entries reports a conflict instead of overwriting it.
        base = data.get("version")
        return EntryRow(self.target, year, month, values, base_version=base or 0, line=self.target.pk,
                        confirmed=bool(data.get("confirm_warnings")))


class EntryChooserForm(forms.Form):
    """Pick a unit and a period for the monthly entry screen."""

    unit = forms.ModelChoiceField(label=_("unit"), queryset=None, to_field_name="code")
    period = forms.CharField(
        label=_("period"), max_length=7, help_text=_("Year and month, e.g. 2022-06 for January to June 2022."),
        widget=forms.TextInput(attrs={"placeholder": "YYYY-MM", "size": 8}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["unit"].queryset = scoping.visible_units(user)

    def clean_period(self):
        try:
            period = Period.parse(self.cleaned_data["period"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        _plans, error = scoping.check_period(self.user, period.year, period.month)
        if error:
            raise forms.ValidationError(error)
        return period.key


class ProgressEntryAdminForm(forms.ModelForm):
    """The admin's form for one entry.

    The model's clean() runs validate_entry_values, so the messages are the
    entry screen's; rights, locks and concurrent edits are checked by a dry
    run of save_entries, the same path the admin then saves through.
    """

    base_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    confirm_warnings = confirm_field()

    # Set per request by ProgressEntryAdmin.get_form.
    request_user = None

    class Meta:
        model = ProgressEntry
        fields = [
            "target", "year", "month", "value", "comparator", "is_done", "done_on", "note", "problems", "evidence",
            "warning_note",
        ]
        widgets = {"warning_note": forms.Textarea(attrs={"rows": 3, "cols": 60}),
                   "value": number_widget(), "comparator": number_widget()}
        help_texts = {"warning_note": warning_note_field().help_text}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # RowWarnings of the dry run, listed above the form as warnings.
        self.soft_warnings = []
        if self.instance.pk:
            self.fields["base_version"].initial = self.instance.version
            # 7.8, not the column's 7.8000.
            for name in ("value", "comparator"):
                if name in self.fields and getattr(self.instance, name) is not None:
                    self.initial[name] = plain_decimal(getattr(self.instance, name))
            # The period is the entry's identity; a different one is a different entry.
            for name in ("target", "year", "month"):
                if name in self.fields:
                    self.fields[name].disabled = True

    def clean_evidence(self):
        upload = self.cleaned_data.get("evidence")
        if not upload or "evidence" not in self.changed_data:
            return upload
        extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
        if extension not in settings.EVIDENCE_EXTENSIONS:
            raise forms.ValidationError(_("Files of type “%(ext)s” are not accepted; allowed: %(allowed)s.") % {
                "ext": extension or "?", "allowed": ", ".join(settings.EVIDENCE_EXTENSIONS)})
        if upload.size > settings.EVIDENCE_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than %(mb)s MB.") % {
                "mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024)})
        return upload

    def _identity(self):
        data = self.cleaned_data
        if self.instance.pk:
            return self.instance.target, self.instance.year, self.instance.month
        return data.get("target"), data.get("year"), data.get("month")

    def entry_row(self):
        target, year, month = self._identity()
        data = self.cleaned_data
        values = {name: data.get(name) for name in ("value", "comparator", "is_done", "done_on", "note", "problems",
                                                    "warning_note")}
        if "evidence" in self.changed_data:
            values["evidence"] = data.get("evidence") or ""  # False means "clear"
        base = data.get("base_version") if self.instance.pk else 0
        return EntryRow(target, year, month, values, base_version=base or 0,
                        confirmed=bool(data.get("confirm_warnings")))

    def clean(self):
        data = super().clean()
        target, year, month = self._identity()
        if target is None or year is None or month is None or self.errors:
            return data
        if not self.instance.pk:
            if ProgressEntry.objects.filter(target=target, year=year, month=month).exists():
                # On the month field, so the model's generic unique-constraint message is not added too.
                self.add_error("month", _(
                    "%(code)s already has an entry for %(period)s; open that entry to change it."
                ) % {"code": target.code, "period": f"{year}-{month:02d}"})
                return data
            if all(data.get(n) in (None, "", False) for n in ("value", "comparator", "is_done", "note", "problems")):
                raise forms.ValidationError(_("Enter a figure, a progress note or mark the task done."))
        if validate_entry_values(target, year, month, data.get("value"), data.get("comparator")):
            return data  # the model's clean() reports these, with the same messages
        result = save_entries(self.request_user, [self.entry_row()], "admin", dry_run=True)
        add_row_errors(self, result.errors)
        if result.warnings:
            self.soft_warnings = result.warnings
            self.add_error("confirm_warnings", _(
                "The checks question these figures (see the warnings above): tick “confirm” or explain them."))
        return data
