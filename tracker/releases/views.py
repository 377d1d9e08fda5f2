"""The indicator grid (regions × indicators for a month) and the release table import.

Every staff member reads the grid; writing (the grid's form, an import) needs `scoping.can_edit_series`.
Writes go through `services.series.save_series`: all cells or none, version-checked, with history.
"""

import hashlib
from collections import Counter
from dataclasses import asdict

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tracker.accounts import scoping
from tracker.imports.parsing import parse_number
from tracker.releases.forms import ReleaseUploadForm
from tracker.releases.models import ReleaseBatch
from tracker.releases.parsing import ReleaseProblem, _rank
from tracker.releases.service import import_cells, rows_from_batch, run_release_import
from tracker.services.series import CLEAR, SOURCE_GRID, SeriesRow, save_series, stored_values
from tracker.targets.models import Indicator, PeerGroup, Region
from tracker.targets.numbers import plain_number
from tracker.targets.period import Period
from tracker.targets.policies import current_period
from tracker.targets.ranks import rank_table


def _render(request, template, title, **context):
    return render(request, template, {**admin.site.each_context(request), "title": title, **context})


def grid_url(period):
    return reverse("releases:grid", args=[period.year, period.month])


@staff_member_required
def grid_today(request):
    return redirect(grid_url(current_period()))


def _period(year, month):
    try:
        return Period.parse(f"{year:04d}-{month:02d}")
    except ValueError:
        return None


def _grid(period, regions, indicators, groups, typed=None, errors=None):
    """Rows of cells with the stored value, published and computed ranks, and what was typed on a failed save."""
    table = rank_table([i.pk for i in indicators], period.year, [period.month], [r.pk for r in regions])
    stored = {(v.indicator_id, v.region_id): v for v in stored_values(_all_rows(indicators, regions, period)).values()}
    member_of = {g.pk: g.member_ids for g in groups}
    typed, errors = typed or {}, errors or {}
    rows = []
    for region in regions:
        cells = []
        for indicator in indicators:
            value = stored.get((indicator.pk, region.pk))
            places = table.places(indicator.pk, region.pk, period.month)
            key = f"{indicator.pk}_{region.pk}"
            cells.append({
                "key": key, "label": indicator.display_name, "value": plain_number(value.value) if value else "",
                "version": value.version if value else 0,
                "typed": typed.get(f"v_{key}"), "error": errors.get(key, ""),
                "ranks": [{"group": p.group, "name": f"r_{key}_{p.group_id}", "published": p.published,
                           "computed": p.computed, "differs": p.differs,
                           "typed": typed.get(f"r_{key}_{p.group_id}")}
                          for p in places if region.pk in member_of.get(p.group_id, ())],
            })
        rows.append({"region": region, "cells": cells})
    return rows


def _all_rows(indicators, regions, period):
    return [SeriesRow(i, r, period.year, period.month) for i in indicators for r in regions]


def _setup():
    regions = list(Region.objects.all())
    indicators = list(Indicator.objects.all())
    groups = list(PeerGroup.objects.prefetch_related("members"))
    for group in groups:
        group.member_ids = {m.pk for m in group.members.all()}
    return regions, indicators, groups


@staff_member_required
def grid(request, year, month):
    period = _period(year, month)
    if period is None:
        return HttpResponseBadRequest(_("There is no month %(year)s-%(month)s.") % {"year": year, "month": month})
    regions, indicators, groups = _setup()
    may_edit = scoping.can_edit_series(request.user)
    typed, errors = {}, {}
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        rows, errors = _rows_from_post(request.POST, period, regions, indicators, groups)
        if not errors:
            result = save_series(request.user, rows, SOURCE_GRID)
            keyed = {(r.line, r.column): r for r in rows}
            for error in result.errors:
                row = keyed.get((error.line, error.column))
                key = f"{row.indicator.pk}_{row.region.pk}" if row else ""
                errors[key] = (errors.get(key, "") + " " + error.message).strip()
            if not errors:
                messages.success(request, _("Saved: %(created)s new and %(changed)s changed values.") % {
                    "created": len(result.created), "changed": len(result.changed)})
                return redirect(grid_url(period))
        messages.error(request, _("Nothing was saved; see the cells marked below."))
        typed = request.POST
    return _render(
        request, "releases/grid.html", _("Indicator values, %(period)s") % {"period": period.label},
        period=period, previous_url=grid_url(period.previous), next_url=grid_url(period.next),
        indicators=indicators, rows=_grid(period, regions, indicators, groups, typed, errors), may_edit=may_edit,
        general_error=errors.get(""),
    )


def _rows_from_post(post, period, regions, indicators, groups):
    """SeriesRows for the cells whose value or ranks differ from what the form showed; errors by cell."""
    rows, errors = [], {}
    group_by_pk = {g.pk: g for g in groups}
    for line, (region, indicator) in enumerate(((r, i) for r in regions for i in indicators), start=1):
        key = f"{indicator.pk}_{region.pk}"
        if f"v_{key}" not in post:
            continue
        shown, version = post.get(f"shown_{key}", ""), post.get(f"ver_{key}", "0")
        try:
            value = parse_number(post.get(f"v_{key}", ""))
            base_version = int(version)
        except ValueError as exc:
            errors[key] = str(exc)
            continue
        ranks = {}
        for group in groups:
            name = f"r_{key}_{group.pk}"
            if name not in post or region.pk not in group.member_ids:
                continue
            try:
                rank = _rank(post.get(name))
            except ValueError as exc:
                errors[key] = str(exc)
                continue
            if str(rank or "") != post.get(f"shown_{name}", ""):
                ranks[group_by_pk[group.pk]] = rank
        changed_value = plain_number(value) != shown
        if not changed_value and not ranks:
            continue
        if value is None and changed_value:
            value = CLEAR
        elif not changed_value:
            value = None
        rows.append(SeriesRow(indicator, region, period.year, period.month, value, ranks,
                              base_version=base_version, line=line, column=key))
    return rows, errors


@staff_member_required
def upload(request):
    if not scoping.can_edit_series(request.user):
        raise PermissionDenied
    form = ReleaseUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        period = form.cleaned_data["period"]
        data = upload.read()
        report = run_release_import(request.user, data, period.year, period.month, dry_run=True)
        batch = ReleaseBatch.objects.create(
            user=request.user, file_name=upload.name[:255], sha256=hashlib.sha256(data).hexdigest(), size=len(data),
            year=period.year, month=period.month, rows=report.rows,
            problems=[asdict(p) for p in report.problems], file_problems=[asdict(p) for p in report.file_problems])
        return redirect("releases:batch", batch.pk)
    recent = ReleaseBatch.objects.filter(user=request.user).defer("rows", "problems", "file_problems")[:10]
    return _render(request, "releases/upload.html", _("Import a release table"), form=form, recent=recent)


@staff_member_required
def batch_detail(request, pk):
    qs = ReleaseBatch.objects.select_related("user")
    batch = get_object_or_404(scoping.administered_people(request.user, qs), pk=pk)
    counts = Counter(row["outcome"] for row in batch.rows)
    counts["error"] = max(counts.get("error", 0), len({p["line"] for p in batch.problems if p["line"]}))
    mine = batch.user_id == request.user.pk
    return _render(
        request, "releases/batch.html", _("Release table %(file)s, %(period)s") % {
            "file": batch.file_name, "period": batch.period.label},
        batch=batch, problems=[ReleaseProblem(**p) for p in batch.problems], counts=counts,
        can_confirm=batch.can_confirm and mine, can_refresh=batch.can_refresh and mine,
        grid_url=grid_url(batch.period))


def _apply(request, pk, check_versions, dry_run):
    if not scoping.can_edit_series(request.user):
        raise PermissionDenied
    with transaction.atomic():
        batch = get_object_or_404(ReleaseBatch.objects.select_for_update(), pk=pk, user=request.user)
        if not (batch.can_confirm if not dry_run else batch.can_refresh):
            messages.error(request, _("This import cannot be confirmed or refreshed (already applied, or it has "
                                      "problems)."))
            return batch, None
        rows, missing = rows_from_batch(batch.rows, check_versions=check_versions)
        report = import_cells(request.user, rows, dry_run=dry_run or bool(missing), problems=missing)
        batch.rows, batch.problems = report.rows, [asdict(p) for p in report.problems]
        if report.written:
            batch.status, batch.applied_at = ReleaseBatch.Status.APPLIED, timezone.now()
        batch.save()
    return batch, report


@staff_member_required
@require_POST
def batch_confirm(request, pk):
    batch, report = _apply(request, pk, check_versions=True, dry_run=False)
    if report is not None and report.written:
        counts = Counter(row["outcome"] for row in report.rows)
        messages.success(request, _("Imported: %(created)s created, %(changed)s changed, %(unchanged)s unchanged.")
                         % {"created": counts["created"], "changed": counts["changed"],
                            "unchanged": counts["unchanged"]})
    elif report is not None:
        messages.error(request, _("Nothing was written: some values were changed by someone else after your "
                                  "preview, or no longer pass the checks (see the problems). Refresh the preview, "
                                  "then confirm again."))
    return redirect("releases:batch", batch.pk)


@staff_member_required
@require_POST
def batch_refresh(request, pk):
    batch, report = _apply(request, pk, check_versions=False, dry_run=True)
    if report is not None:
        messages.success(request, _("The preview now compares with the values stored at %(time)s. Check it, then "
                                    "confirm.") % {"time": timezone.localtime().strftime("%H:%M:%S")})
    return redirect("releases:batch", batch.pk)

