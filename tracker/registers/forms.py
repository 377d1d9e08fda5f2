"""The scheduling screen's rows: one project's month."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from tracker.registers.models import Coordination, Project, ProjectUpdate
from tracker.registers.scheduling import MonthRow
from tracker.targets.numbers import plain_decimal


def _model_field(model, name, **kwargs):
    return model._meta.get_field(name).formfield(**kwargs)


class MonthRowForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    project_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    stage = forms.ChoiceField(label=_("stage"), choices=Project.Stage.choices)
    stage_on = forms.DateField(label=_("stage reached on"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}))
    completed_ytd = _model_field(ProjectUpdate, "completed_ytd", widget=forms.NumberInput(
        attrs={"step": "any", "class": "vTextField entry-num"}))
    progress = forms.CharField(label=_("progress (进展情况)"), required=False,
                               widget=forms.Textarea(attrs={"rows": 2, "cols": 24}))
    problems = forms.CharField(label=_("problems (存在问题)"), required=False,
                               widget=forms.Textarea(attrs={"rows": 2, "cols": 24}))
    request = forms.CharField(label=Coordination._meta.get_field("request").verbose_name, required=False,
                              widget=forms.Textarea(attrs={"rows": 2, "cols": 20}))
    handler = forms.CharField(label=_("handled by"), required=False, max_length=100)
    confirm = forms.BooleanField(label=_("Confirm: the figures are right"), required=False)

    def __init__(self, *args, project, update=None, previous=None, **kwargs):
        self.project, self.update, self.previous = project, update, previous
        self.soft_warnings = []
        base = update or previous
        initial = {
            "version": update.version if update else 0, "project_version": project.version,
            "stage": base.stage if base else project.stage,
            "completed_ytd": plain_decimal(update.completed_ytd) if update else None,
            "progress": update.progress if update else "", "problems": update.problems if update else "",
        }
        super().__init__(*args, prefix=f"p{project.pk}", initial=initial, **kwargs)
        limit = settings.ENTRY_TEXT_MAX_CHARS
        for name in ("progress", "problems", "request"):
            self.fields[name].max_length = limit
            self.fields[name].validators.append(forms.CharField(max_length=limit).validators[-1])

    @property
    def edited(self):
        return self.has_changed() or bool(self.cleaned_data.get("request"))

    def month_row(self):
        data = self.cleaned_data
        values = {"stage": data["stage"], "completed_ytd": data["completed_ytd"],
                  "progress": data["progress"].strip(), "problems": data["problems"].strip()}
        return MonthRow(self.project, values, data["version"], data["project_version"], stage_on=data["stage_on"],
                        confirmed=data["confirm"], request=data["request"].strip(), handler=data["handler"].strip())
