"""Report filters: section, unit and kind narrow the targets; status is applied to the computed rows."""

import django_filters
from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from tracker.accounts import scoping
from tracker.targets.models import Section, Target, Unit
from tracker.targets.status import STATUSES, status_label

ALL = _("All")


class QuickSelect(forms.Select):
    """A <select> written in one pass.

    Django's Select renders every option through a template of its own: the report's unit list (50 options)
    cost more than judging a thousand targets. Same markup, same attributes, built from the widget's context.
    """

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "", '<option value="{}"{}>{}</option>',
            ((o["value"], mark_safe(" selected") if o["selected"] else "", o["label"])
             for _group, group_options, _index in widget["optgroups"] for o in group_options))
        return format_html('<select name="{}"{}>{}</select>', widget["name"], flatatt(widget["attrs"]), options)


def status_choices():
    return [(s, status_label(s)) for s in STATUSES]


class ReportFilter(django_filters.FilterSet):
    # "All" instead of "---------" as the choice that filters nothing.
    section = django_filters.ModelChoiceFilter(queryset=Section.objects.none(), label=_("Section"), empty_label=ALL,
                                               widget=QuickSelect)
    unit = django_filters.ModelChoiceFilter(
        field_name="lead_unit", queryset=Unit.objects.none(), label=_("Responsible unit"), empty_label=ALL,
        widget=QuickSelect,
    )
    status = django_filters.ChoiceFilter(choices=status_choices, label=_("Status"), method="keep_all",
                                         empty_label=ALL, widget=QuickSelect)
    kind = django_filters.ChoiceFilter(choices=Target.Kind.choices, label=_("Kind"), empty_label=ALL,
                                       widget=QuickSelect)

    class Meta:
        model = Target
        fields = ["section", "unit", "status", "kind"]

    def __init__(self, *args, user=None, year=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Choices follow the period's plan and the user's units (before the form is built).
        self.filters["section"].queryset = Section.objects.filter(plan__in=scoping.plans_for_year(user, year))
        self.filters["unit"].queryset = scoping.visible_units(user).order_by("code")

    def keep_all(self, queryset, name, value):
        # The status is known only after the engine has run; the view filters the rows.
        return queryset

    @property
    def chosen_status(self):
        if self.is_bound and self.form.is_valid():
            return self.form.cleaned_data.get("status") or None
        return None
