"""The scheduling screens' rows: one project's or one cultivation-list firm's month."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from tracker.registers.models import Coordination, FirmUpdate, Listing, Project, ProjectUpdate, month_validator
from tracker.registers.scheduling import MonthRow
from tracker.targets.numbers import plain_decimal


def _model_field(model, name, **kwargs):
    return model._meta.get_field(name).formfield(**kwargs)


def _text(label, cols=24):
    return forms.CharField(label=label, required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": cols}))


def _month(label):
    return forms.CharField(label=label, required=False, max_length=7, validators=[month_validator],
                           widget=forms.TextInput(attrs={"size": 7, "placeholder": "YYYY-MM"}))


class MonthForm(forms.Form):
    """A subject's month on a scheduling screen: the versions it started from, the fields, a confirmation.

    Subclasses name the month's fields (`values`, stripped when text) and what the month changes on the
    subject (`extras`), and give the initial values of a row."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    subject_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    confirm = forms.BooleanField(label=_("Confirm: the figures are right"), required=False)
    values = extras = texts = ()
    letter = "r"  # the rows' prefix: r<pk>

    def __init__(self, *args, subject, update=None, previous=None, **kwargs):
        self.subject, self.update, self.previous = subject, update, previous
        self.soft_warnings = []
        initial = {"version": update.version if update else 0, "subject_version": subject.version,
                   **self.initial_values(subject, update, previous)}
        super().__init__(*args, prefix=f"{self.letter}{subject.pk}", initial=initial, **kwargs)
        # The screen's cells have no <label> of their own: each input is named by its row and column.
        for field in self.fields.values():
            if not field.widget.is_hidden:
                field.widget.attrs["aria-label"] = f"{getattr(subject, 'name', subject)} {field.label}"
        limit = settings.ENTRY_TEXT_MAX_CHARS
        for name in self.texts:
            self.fields[name].max_length = limit
            self.fields[name].validators.append(forms.CharField(max_length=limit).validators[-1])

    def initial_values(self, subject, update, previous):
        raise NotImplementedError

    @property
    def edited(self):
        return self.has_changed()

    def _clean(self, name):
        value = self.cleaned_data[name]
        return value.strip() if isinstance(value, str) else value

    def month_row(self):
        data = self.cleaned_data
        return MonthRow(self.subject, {n: self._clean(n) for n in self.values}, data["version"],
                        data["subject_version"], extra={n: self._clean(n) for n in self.extras},
                        confirmed=data["confirm"])


class ProjectMonthForm(MonthForm):
    stage = forms.ChoiceField(label=_("stage"), choices=Project.Stage.choices)
    stage_on = forms.DateField(label=_("stage reached on"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}))
    completed_ytd = _model_field(ProjectUpdate, "completed_ytd", widget=forms.NumberInput(
        attrs={"step": "any", "class": "vTextField entry-num"}))
    progress = _text(_("progress (进展情况)"))
    problems = _text(_("problems (存在问题)"))
    request = _text(Coordination._meta.get_field("request").verbose_name, cols=20)
    handler = forms.CharField(label=_("handled by"), required=False, max_length=100)
    values = ("stage", "completed_ytd", "progress", "problems")
    extras = ("stage_on", "request", "handler")
    texts = ("progress", "problems", "request")
    letter = "p"

    def initial_values(self, project, update, previous):
        base = update or previous
        return {"stage": base.stage if base else project.stage,
                "completed_ytd": plain_decimal(update.completed_ytd) if update else None,
                "progress": update.progress if update else "", "problems": update.problems if update else ""}

    @property
    def edited(self):
        return self.has_changed() or bool(self.cleaned_data.get("request"))


class FirmMonthForm(MonthForm):
    revenue_ytd = _model_field(FirmUpdate, "revenue_ytd", widget=forms.NumberInput(
        attrs={"step": "any", "class": "vTextField entry-num"}))
    state = forms.ChoiceField(label=_("state"), choices=Listing.State.choices)
    expected_month = _month(_("expected to enter (month)"))
    entered_month = _month(_("entered in (month)"))
    reason = _text(_("reason for removal"), cols=20)
    progress = _text(_("progress (进展情况)"))
    problems = _text(_("problems (存在问题)"))
    values = ("revenue_ytd", "state", "expected_month", "progress", "problems")
    extras = ("entered_month", "reason")
    texts = ("progress", "problems", "reason")
    letter = "f"

    def initial_values(self, listing, update, previous):
        return {"revenue_ytd": plain_decimal(update.revenue_ytd) if update else None,
                "state": listing.state, "expected_month": listing.expected_month,
                "entered_month": listing.entered_month, "reason": listing.reason,
                "progress": update.progress if update else "", "problems": update.problems if update else ""}
