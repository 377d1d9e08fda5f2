"""Admin pages: download a unit's template, upload a file, preview every row, confirm (or refresh the preview)."""

import hashlib
from collections import Counter
from dataclasses import asdict

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from tracker.accounts import scoping
from tracker.imports.forms import TemplateForm, UploadForm
from tracker.imports.models import ImportBatch
from tracker.imports.parsing import COLUMN_LABELS, Problem
from tracker.imports.service import Outcome, import_rows, rows_from_report, run_import
from tracker.imports.workbook import build_template, template_file_name
from tracker.targets.period import Period

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROWS_PER_PAGE = 500
# However many problems a file has, a page shows this many (the count says how many there are).
PROBLEMS_PER_PAGE = 200


def render_page(request, template, title, **context):
    """An import page inside the admin (its header, language switcher and navigation)."""
    return render(request, template, {**admin.site.each_context(request), "title": title, **context})


def refresh_batch(request, pk, model, url_name, allowed, refused, recheck, done):
    """The flow both imports' "refresh the preview" follow: lock the user's own batch, refuse with `refused` unless
    `allowed(batch)`, store what `recheck(batch)` gives — (rows, problems), the kept rows checked again against
    what is stored now — and say `done` with the time. Writes nothing but the batch."""
    with transaction.atomic():
        batch = get_object_or_404(model.objects.select_for_update(), pk=pk, user=request.user)
        if not allowed(batch):
            messages.error(request, refused)
            return redirect(url_name, batch.pk)
        batch.rows, batch.problems = recheck(batch)
        batch.save(update_fields=["rows", "problems"])
    messages.success(request, done % {"time": timezone.localtime().strftime("%H:%M:%S")})
    return redirect(url_name, batch.pk)


@staff_member_required
def template_download(request):
    form = TemplateForm(request.user, request.GET or None)
    if form.is_bound and form.is_valid():
        unit = form.cleaned_data["unit"]
        year, month = form.cleaned_data["period"]
        response = HttpResponse(build_template(unit, year, month), content_type=XLSX)
        response["Content-Disposition"] = content_disposition_header(True, template_file_name(unit, year, month))
        return response
    return render_page(request, "imports/template_form.html", _("Download a template"), form=form)


@staff_member_required
def upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        report = run_import(request.user, data, dry_run=True)
        batch = ImportBatch.objects.create(
            user=request.user, file_name=upload.name[:255], sha256=hashlib.sha256(data).hexdigest(),
            size=len(data), rows=report.rows, problems=[asdict(p) for p in report.problems],
            file_problems=[asdict(p) for p in report.file_problems], skipped=report.skipped,
        )
        return redirect("imports:batch", batch.pk)
    recent = ImportBatch.objects.filter(user=request.user).defer("rows", "problems", "file_problems")[:10]
    return render_page(request, "imports/upload.html", _("Import progress figures"), form=form, recent=recent)


def _visible_batches(user):
    qs = ImportBatch.objects.select_related("user")
    return scoping.visible_people(user, qs)


@staff_member_required
def batch_detail(request, pk):
    batch = get_object_or_404(_visible_batches(request.user), pk=pk)
    counts = Counter(row["outcome"] for row in batch.rows)
    # Rows that could not be read at all appear only among the problems.
    counts[Outcome.ERROR] = len({p["line"] for p in batch.problems if p["line"]})
    page = Paginator(batch.rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = _with_period_labels(page.object_list)
    problem_page = Paginator(batch.problems, PROBLEMS_PER_PAGE).get_page(request.GET.get("problems"))
    earlier = (ImportBatch.objects.filter(user=batch.user, sha256=batch.sha256, status=ImportBatch.Status.APPLIED)
               .exclude(pk=batch.pk).order_by("-applied_at").first())
    title = _("Preview of %(file)s") if batch.status == ImportBatch.Status.PREVIEWED else _("Import of %(file)s")
    return render_page(
        request, "imports/batch.html", title % {"file": batch.file_name},
        batch=batch, page=page, columns=COLUMN_LABELS, earlier=earlier,
        problems=[Problem(**p) for p in problem_page.object_list], problem_page=problem_page,
        problem_count=len(batch.problems),
        counts={name: counts.get(name, 0) for name in (Outcome.CREATED, Outcome.CHANGED, Outcome.UNCHANGED,
                                                       Outcome.ERROR)},
        can_confirm=batch.can_confirm and batch.user_id == request.user.pk,
        can_refresh=batch.can_refresh and batch.user_id == request.user.pk,
        warned=_with_period_labels(row for row in batch.rows if row.get("warnings")),
    )


def _with_period_labels(rows):
    """The stored rows with their period named as everywhere else (2022年1—6月 / Jan–Jun 2022), not as YYYY-MM."""
    return [{**row, "period_label": Period.parse(row["period"]).label} for row in rows]


def say_imported(request, report):
    messages.success(request, _("Imported: %(created)s created, %(changed)s changed, %(unchanged)s unchanged.") % {
        "created": report.created, "changed": report.changed, "unchanged": report.unchanged})


@staff_member_required
@require_POST
def batch_confirm(request, pk):
    with transaction.atomic():
        batch = get_object_or_404(ImportBatch.objects.select_for_update(), pk=pk, user=request.user)
        if not batch.can_confirm:
            messages.error(request, _("This import cannot be confirmed (already applied or it has problems)."))
            return redirect("imports:batch", batch.pk)
        # The stored rows go through every check again: rights, locks and values may have changed since,
        # and a figure someone changed after the preview (its version moved on) is refused, not overwritten.
        report = import_rows(request.user, rows_from_report(batch.rows),
                             confirm_warnings=bool(request.POST.get("confirm_warnings")),
                             warning_note=request.POST.get("warning_note", ""))
        batch.rows = report.rows
        batch.problems = [asdict(p) for p in report.problems]
        if report.ok:
            batch.status = ImportBatch.Status.APPLIED
            batch.applied_at = timezone.now()
            batch.created, batch.changed, batch.unchanged = report.created, report.changed, report.unchanged
        batch.save()
    if report.ok:
        say_imported(request, report)
    elif report.conflicts:
        messages.error(request, ngettext(
            "Nothing was written: %(count)s figure was changed by someone else after your preview (see the "
            "problems). Refresh the preview to see the figures stored now, then confirm again.",
            "Nothing was written: %(count)s figures were changed by someone else after your preview (see the "
            "problems). Refresh the preview to see the figures stored now, then confirm again.",
            len(report.conflicts)) % {"count": len(report.conflicts)})
    elif report.problems:
        messages.error(request, _("Nothing was written: the figures no longer pass the checks; see the problems."))
    else:
        messages.warning(request, _("Nothing was written: the checks question some figures. Tick “confirm” or "
                                    "explain them, then confirm the import again."))
    return redirect("imports:batch", batch.pk)


@staff_member_required
@require_POST
def batch_refresh(request, pk):
    """Check the kept rows again against the figures stored now, as a new preview to confirm."""

    def recheck(batch):
        report = import_rows(request.user, rows_from_report(batch.rows, check_versions=False), dry_run=True)
        return report.rows, [asdict(p) for p in report.problems]

    return refresh_batch(
        request, pk, ImportBatch, "imports:batch", lambda batch: batch.can_refresh,
        _("This preview cannot be refreshed (already applied, or the file itself has problems: fix it and upload "
          "it again)."), recheck,
        _("The preview now compares with the figures stored at %(time)s. Check it, then confirm."))
