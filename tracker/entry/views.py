"""The monthly entry screen: all of a unit's targets for one month, saved all at once.

Both views live inside the admin site (ProgressEntryAdmin.get_urls), so they
get its login, header and language switcher.
"""

import itertools
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from tracker import links
from tracker.accounts import scoping
from tracker.entry.forms import EntryChooserForm, EntryRowForm, add_row_errors
from tracker.services import review
from tracker.services.entries import computed_targets, save_entries
from tracker.targets import checks
from tracker.targets.models import ProgressEntry, Target, Unit
from tracker.targets.numbers import plain_number
from tracker.targets.period import Period
from tracker.targets.policies import current_period
from tracker.targets.status import assess_period

SOURCE = "entry_screen"


class AdminPageMixin:
    model_admin = None
    template_name = None

    def render(self, request, title, status=200, **context):
        context = {
            **self.model_admin.admin_site.each_context(request),
            "opts": ProgressEntry._meta,
            "title": title,
            "chooser_url": reverse("admin:targets_progressentry_entry_chooser"),
            **context,
        }
        return TemplateResponse(request, self.template_name, context, status=status)


class EntryChooserView(AdminPageMixin, View):
    """Pick a unit and a month; lists the user's units with a link for the usual month."""

    template_name = "admin/targets/progressentry/entry_chooser.html"

    def get(self, request):
        period = current_period()
        if "unit" in request.GET or "period" in request.GET:
            form = EntryChooserForm(request.GET, user=request.user)
            if form.is_valid():
                return redirect(links.entry_screen_url(form.cleaned_data["unit"], form.cleaned_data["period"]))
        else:
            form = EntryChooserForm(user=request.user, initial={"period": period.key})
        units = scoping.visible_units(request.user).filter(led_targets__isnull=False).distinct()
        unit_links = [(unit, links.entry_screen_url(unit, period)) for unit in units]
        return self.render(request, _("Monthly entry"), form=form, links=unit_links,
                           default_label=period.label)


@dataclass
class ScreenRow:
    target: Target
    entry: ProgressEntry | None
    previous: ProgressEntry | None
    expected: bool
    form: EntryRowForm | None
    # What the target's figures as stored give it this month (the report's engine): status and reason.
    assessment: object = None
    # The register the figure is computed from (shown read-only, with the list behind it), or "".
    computed: str = ""
    rows_url: str = ""

    @property
    def missing(self):
        """Expected this month, open to this person, and nothing stored yet (the clerk's to enter: a figure
        computed from a register is not, see `awaiting_register`)."""
        return self.form is not None and self.entry is None and not self.computed

    @property
    def awaiting_register(self):
        """Expected this month, computed from a register, and not computed yet: no one's to type."""
        return self.expected and self.entry is None and bool(self.computed)

    @property
    def locked(self):
        return self.entry is not None and self.entry.is_locked

    @property
    def warnings(self):
        """The warnings to show under the row: those of the last save attempt, else those stored and confirmed."""
        if self.form is not None and self.form.soft_warnings:
            return [w.message for w in self.form.soft_warnings]
        if self.entry is not None and self.entry.warnings:
            return [checks.word(w) for w in self.entry.warnings]
        return []

    @property
    def warnings_pending(self):
        return self.form is not None and bool(self.form.soft_warnings)

    @property
    def previous_text(self):
        return figure_text(self.target, self.previous)

    @property
    def current_text(self):
        return figure_text(self.target, self.entry)

    @property
    def target_text(self):
        if self.target.target_value is None:
            return ""
        return plain_number(self.target.target_value)


def figure_text(target, entry):
    """A stored figure in one short line (read-only cells)."""
    if entry is None:
        return ""
    if target.kind == Target.Kind.MILESTONE:
        return _("done") if entry.is_done else _("not done")
    text = plain_number(entry.value)
    if entry.comparator is not None:
        text = _("%(value)s (comparator %(comparator)s)") % {
            "value": text or "—", "comparator": plain_number(entry.comparator)}
    return text


class EntryScreenView(AdminPageMixin, View):
    template_name = "admin/targets/progressentry/entry_screen.html"

    def dispatch(self, request, unit_code, period):
        self.unit = get_object_or_404(Unit, code=unit_code)
        admin = self.model_admin
        if not (admin.has_view_permission(request) and scoping.can_see_unit(request.user, self.unit.pk)):
            raise PermissionDenied(_("This unit is not one of yours."))
        try:
            self.period = Period.parse(period)
        except ValueError:
            raise Http404(_("'%(text)s' is not a period of the form YYYY-MM.") % {"text": period}) from None
        self.year, self.month = self.period.year, self.period.month
        self.editable = (admin.has_add_permission(request) and admin.has_change_permission(request)
                         and scoping.can_edit_unit(request.user, self.unit.pk))
        self.plans, self.period_error = scoping.check_period(request.user, self.year, self.month)
        # A closed plan's figures are read-only (until an administrator reopens it); a draft is not listed.
        self.open_plans = [p for p in self.plans if p.takes_figures]
        if self.plans and not self.open_plans:
            self.editable = False
        return super().dispatch(request)

    def rows(self, data=None):
        if self.period_error:
            return []
        targets = list(
            Target.objects.filter(lead_unit=self.unit, plan__in=self.plans, is_active=True)
            .select_related("section", "plan", "comparator_region")
            .order_by("plan_id", "section__number", "order", "code")
        )
        by_id = {t.pk: t for t in targets}
        current, previous = {}, {}
        # One query for this month and every earlier month of the year; the latest earlier one wins.
        entries = ProgressEntry.objects.filter(
            target__in=targets, year=self.year, month__lte=self.month
        ).order_by("month")
        for entry in entries:
            entry.target = by_id[entry.target_id]
            (current if entry.month == self.month else previous)[entry.target_id] = entry
        computed = computed_targets(list(by_id)) if by_id else {}
        rows = []
        for target in targets:
            entry = current.get(target.pk)
            expected = target.expects_entry(self.month)
            register = computed[target.pk][1] if target.pk in computed else ""
            form = None
            if expected and self.editable and target.plan.takes_figures and not (entry and entry.is_locked):
                form = EntryRowForm(data, target=target, entry=entry, computed=bool(register))
            rows_url = links.register_rows_url(target.pk, self.period.key) if register else ""
            rows.append(ScreenRow(target, entry, previous.get(target.pk), expected, form, computed=register,
                                  rows_url=rows_url))
        return rows

    def page(self, request, rows, status=200):
        if rows:
            assessments = assess_period(Target.objects.filter(pk__in=[r.target.pk for r in rows]), self.year,
                                        self.month)
            for row in rows:
                row.assessment = assessments.get(row.target.pk)
        sections = [(section, list(group)) for section, group in itertools.groupby(rows, lambda r: r.target.section)]
        label = self.period.label
        return self.render(
            request, _("Monthly entry: %(unit)s, %(period)s") % {"unit": self.unit, "period": label},
            status=status, unit=self.unit, period=self.period.key, period_label=label,
            short_label=self.period.months_label,
            period_error=self.period_error, sections=sections, editable=self.editable and not self.period_error,
            has_inputs=any(r.form for r in rows), row_errors=any(r.form and r.form.errors for r in rows),
            warned=any(r.warnings for r in rows), missing=[r for r in rows if r.missing],
            awaiting_register=[r for r in rows if r.awaiting_register],
        )

    def get(self, request):
        return self.page(request, self.rows())

    def post(self, request):
        if not self.editable:
            raise PermissionDenied(_("You may read this unit's figures but not enter them."))
        if self.period_error:
            return self.page(request, [])
        rows = self.rows(request.POST)
        forms = [r.form for r in rows if r.form]
        if not all([form.is_valid() for form in forms]):  # a list: every row gets its messages
            messages.error(request, _("Nothing was saved: correct the marked rows."))
            return self.page(request, rows)
        edited = {form.target.pk: form for form in forms if form.edited}
        submit = "_submit" in request.POST
        try:
            with transaction.atomic():
                result = save_entries(
                    request.user, [form.entry_row(self.year, self.month) for form in edited.values()], SOURCE
                )
                submitted = self.submit(request.user, rows) if result.ok and submit else None
        except IntegrityError:
            messages.error(request, _("Someone saved figures for this unit at the same time; reload and try again."))
            return self.page(request, rows)
        if not result.ok:
            for error in result.errors:
                if error.line in edited:
                    add_row_errors(edited[error.line], [error])
                else:
                    messages.error(request, error.message)
            for warning in result.warnings:
                edited[warning.line].soft_warnings.append(warning)
            if result.errors:
                messages.error(request, _("Nothing was saved: correct the marked rows."))
            if result.warnings:
                messages.warning(request, _(
                    "Nothing was saved: the checks question some figures. Correct them, or tick “confirm” or "
                    "explain them under each row marked, then save again."))
            return self.page(request, rows)
        self.report(request, rows, result, submit, submitted)
        return redirect(request.path)

    def submit(self, user, rows):
        """Submit this month's draft and returned entries for review."""
        entries = ProgressEntry.objects.filter(
            target__in=[r.target for r in rows if r.expected], year=self.year, month=self.month,
            state__in=[ProgressEntry.State.DRAFT, ProgressEntry.State.RETURNED],
        )
        return review.bulk_transition(user, entries, "submit", source=SOURCE)

    def report(self, request, rows, result, submit, submitted):
        if result.created or result.changed:
            messages.success(request, _("Saved: %(created)s new, %(changed)s changed.") % {
                "created": len(result.created), "changed": len(result.changed)})
        elif not submit:
            messages.info(request, _("Nothing was changed."))
        if submit:
            messages.success(request, _("%(count)s entries submitted for review.") % {"count": len(submitted.done)})
            for _entry, reason in submitted.skipped:
                messages.warning(request, reason)
            saved = {e.target_id for e in result.created + result.changed + result.unchanged}
            saved |= {r.target.pk for r in rows if r.entry is not None}
            missing = [r for r in rows if r.form is not None and not r.computed and r.target.pk not in saved]
            if missing:
                # The names with links to their rows are listed on the screen (under "Still without figures").
                messages.warning(request, _(
                    "%(count)s targets are still without figures this month; they are listed above the table."
                ) % {"count": len(missing)})


@login_required
def evidence(request, name):
    """Serve an evidence file only to those who may see its entry (no public media URL)."""
    entry = get_object_or_404(scoping.visible_entries(request.user), evidence=name)
    try:
        handle = entry.evidence.open("rb")
    except FileNotFoundError:
        raise Http404(_("The file is missing.")) from None
    return FileResponse(handle, as_attachment=True, filename=name.rsplit("/", 1)[-1])
