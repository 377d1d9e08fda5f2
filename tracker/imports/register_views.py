"""Pages for importing the registers: template, upload, preview, confirm (or refresh the preview)."""

import hashlib
import io

from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tracker.accounts import scoping
from tracker.imports import registers as service
from tracker.imports.forms import UploadForm
from tracker.imports.models import ImportBatch, RegisterImport
from tracker.imports.views import refresh_batch, render_page, say_imported

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERMISSION = {RegisterImport.Kind.FIRMS: "registers.add_firm", RegisterImport.Kind.PROJECTS: "registers.add_project"}
ROWS_PER_PAGE = 500


class RegisterUploadForm(UploadForm):
    kind = forms.ChoiceField(label=gettext_lazy("register"), choices=RegisterImport.Kind.choices)


def _allowed(user, kind):
    if not user.has_perm(PERMISSION[kind]):
        raise PermissionDenied(_("You may not import this register."))


@staff_member_required
def register_template(request):
    kind = request.GET.get("kind", RegisterImport.Kind.FIRMS)
    if kind not in PERMISSION:
        kind = RegisterImport.Kind.FIRMS
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False})
    sheet = book.add_worksheet(str(RegisterImport.Kind(kind).label)[:31])
    bold = book.add_format({"bold": True, "bg_color": "#FFF2CC"})
    text = book.add_format({"num_format": "@"})
    for column, (_key, (label, _others)) in enumerate(service.COLUMNS[kind].items()):
        sheet.write(0, column, str(label), bold)
        sheet.set_column(column, column, 18, text)
    notes = book.add_worksheet(_("How to fill in")[:31])
    lines = [
        _("One row per firm (matched by its credit code) or project (matched by its county and name)."),
        _("Columns may also carry the names the bureaus' own lists use (企业名称, 统一社会信用代码, 所属县区…)."),
        _("County or zone: its name or code. Industry: a GB/T 4754-2017 division, e.g. C27 or 医药制造业."),
        _("Dates as 2022-03-15, months as 2022-09. Yes/no columns: 是 or 否. An empty cell leaves a value as it is."),
        _("Cultivation list: 培育中, 已入规 or 退库; 专精特新: 市级, 省级 or 国家级."),
        _("Stage: 签约, 开工, 在建, 竣工, 投产 or 停缓建."),
    ]
    for number, line in enumerate(lines):
        notes.write(number, 0, line)
    book.close()
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    name = _("%(register)s template.xlsx") % {"register": RegisterImport.Kind(kind).label}
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


@staff_member_required
def register_upload(request):
    form = RegisterUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]
        _allowed(request.user, kind)
        upload = form.cleaned_data["file"]
        data = upload.read()
        report, _rows = service.run_import(request.user, data, kind, dry_run=True)
        batch = RegisterImport.objects.create(
            user=request.user, kind=kind, file_name=upload.name[:255], sha256=hashlib.sha256(data).hexdigest(),
            rows=report.rows, problems=service.problems_as_dicts(report))
        return redirect("imports:register_batch", batch.pk)
    recent = RegisterImport.objects.filter(user=request.user).defer("rows", "problems")[:10]
    return render_page(request, "imports/register_upload.html", _("Import firms or projects"), form=form,
                   recent=recent)


def _visible(user):
    qs = RegisterImport.objects.select_related("user")
    return scoping.administered_people(user, qs)


@staff_member_required
def register_batch(request, pk):
    batch = get_object_or_404(_visible(request.user), pk=pk)
    counts = {name: sum(1 for r in batch.rows if r["outcome"] == name)
              for name in ("created", "changed", "unchanged", "error")}
    page = Paginator(batch.rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    title = _("Preview of %(file)s") if batch.status == ImportBatch.Status.PREVIEWED else _("Import of %(file)s")
    return render_page(request, "imports/register_batch.html", title % {"file": batch.file_name}, batch=batch,
                   page=page, counts=counts, problems=batch.problems[:500], problem_count=len(batch.problems),
                   mine=batch.user_id == request.user.pk)


def _rows(batch):
    return [(r["line"], r["values"]) for r in batch.rows]


@staff_member_required
@require_POST
def register_confirm(request, pk):
    with transaction.atomic():
        batch = get_object_or_404(RegisterImport.objects.select_for_update(), pk=pk, user=request.user)
        _allowed(request.user, batch.kind)
        if not batch.can_confirm:
            messages.error(request, _("This import cannot be confirmed (already applied or it has problems)."))
            return redirect("imports:register_batch", batch.pk)
        versions = {r["line"]: r["version"] for r in batch.rows}
        report = service.import_rows(request.user, batch.kind, _rows(batch), base_versions=versions)
        batch.problems = service.problems_as_dicts(report)
        if report.ok:
            batch.rows = report.rows
            batch.status = ImportBatch.Status.APPLIED
            batch.applied_at = timezone.now()
            batch.created, batch.changed, batch.unchanged = report.created, report.changed, report.unchanged
        batch.save()
    if report.ok:
        say_imported(request, report)
    else:
        messages.error(request, _("Nothing was written: some rows no longer pass the checks or were changed by "
                                  "someone else after your preview; see the problems, then refresh the preview."))
    return redirect("imports:register_batch", batch.pk)


@staff_member_required
@require_POST
def register_refresh(request, pk):
    """Check the kept rows again against the registers as they are now (a new preview to confirm)."""

    def recheck(batch):
        report = service.import_rows(request.user, batch.kind, _rows(batch), dry_run=True)
        return report.rows, service.problems_as_dicts(report)

    return refresh_batch(
        request, pk, RegisterImport, "imports:register_batch",
        lambda batch: batch.status == ImportBatch.Status.PREVIEWED, _("This import was already applied."), recheck,
        _("The preview now compares with the registers as they are at %(time)s."))
