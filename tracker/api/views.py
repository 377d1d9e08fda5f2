"""The REST API: reads are scoped like the screens (tracker.accounts.scoping); writes go through save_entries."""

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from tracker.accounts import scoping
from tracker.api import serializers as s
from tracker.api.filters import (
    CoordinationFilter,
    EntryFilter,
    FirmFilter,
    IndicatorFilter,
    PeerGroupFilter,
    PlanFilter,
    ProjectFilter,
    RegionFilter,
    SectionFilter,
    SeriesValueFilter,
    TargetFilter,
    UnitFilter,
)
from tracker.api.models import ApiToken
from tracker.api.permissions import ReadsSeries
from tracker.audit import service as audit
from tracker.registers.models import Coordination, Firm, Listing, Project, ProjectUpdate
from tracker.reports.completeness import completeness
from tracker.reports.report import build_rows, report_targets
from tracker.services import review
from tracker.services.entries import EntryRow, save_entries
from tracker.targets.models import Indicator, PeerGroup, Plan, ProgressEntry, Region, Section, SeriesValue, Target
from tracker.targets.ranks import rank_table

SOURCE = "api"
ID = r"[0-9]{1,10}"


class TokenAudited:
    """Every history row written while serving a request made with an API token names that token."""

    _audit_token = None

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            # Also after an unexpected error, so that the thread's next request cannot inherit the token.
            if self._audit_token is not None:
                audit.unset(self._audit_token)
                self._audit_token = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if isinstance(request.auth, ApiToken):
            self._audit_token = audit.set_token(request.auth.pk, str(request.auth))


class UnitViewSet(TokenAudited, viewsets.ReadOnlyModelViewSet):
    """Units this person sees: their own and sub-units; a leader's organisation; every unit for administrators."""

    serializer_class = s.UnitSerializer
    filterset_class = UnitFilter
    lookup_value_regex = ID

    def get_queryset(self):
        return scoping.visible_units(self.request.user).select_related("parent").order_by("code")


class PlanViewSet(TokenAudited, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.PlanSerializer
    filterset_class = PlanFilter
    lookup_value_regex = ID

    def get_queryset(self):
        return scoping.visible_plans(self.request.user, Plan.objects.select_related("unit").order_by("year", "pk"))


class SectionViewSet(TokenAudited, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.SectionSerializer
    filterset_class = SectionFilter
    lookup_value_regex = ID

    def get_queryset(self):
        plans = scoping.visible_plans(self.request.user)
        return Section.objects.filter(plan__in=plans).select_related("plan").order_by("plan__year", "plan_id", "number")


class TargetViewSet(TokenAudited, viewsets.ReadOnlyModelViewSet):
    """Targets led by the units this person sees."""

    serializer_class = s.TargetSerializer
    filterset_class = TargetFilter
    lookup_value_regex = ID

    def get_queryset(self):
        qs = Target.objects.select_related("plan", "lead_unit", "parent").order_by("plan__year", "order", "code")
        return scoping.visible_targets(self.request.user, qs)


class SeriesReadable:
    """Indicator series are read by every staff member, as on the grid (tracker.accounts.scoping)."""

    def get_permissions(self):
        return [*super().get_permissions(), ReadsSeries()]


class IndicatorViewSet(SeriesReadable, TokenAudited, viewsets.ReadOnlyModelViewSet):
    """Published statistics with year-to-date values per region and month (the indicator grid's columns)."""

    serializer_class = s.IndicatorSerializer
    filterset_class = IndicatorFilter
    lookup_value_regex = ID
    queryset = Indicator.objects.order_by("order", "code")


class RegionViewSet(SeriesReadable, TokenAudited, viewsets.ReadOnlyModelViewSet):
    """Places whose figures the bulletins quote, with the peer groups they are ranked in."""

    serializer_class = s.RegionSerializer
    filterset_class = RegionFilter
    lookup_value_regex = ID
    queryset = Region.objects.prefetch_related("peer_groups").order_by("order", "code")


class PeerGroupViewSet(SeriesReadable, TokenAudited, viewsets.ReadOnlyModelViewSet):
    """Regions ranked together (全省, 皖北), and the province their gap is measured against."""

    serializer_class = s.PeerGroupSerializer
    filterset_class = PeerGroupFilter
    lookup_value_regex = ID
    queryset = PeerGroup.objects.select_related("province").prefetch_related("members").order_by("order", "code")


class SeriesValueViewSet(SeriesReadable, TokenAudited, viewsets.ReadOnlyModelViewSet):
    """Indicator values of one year (`year` is required), each with the region's places in its peer groups: the
    published rank as printed and the computed one where every member of the group has a value."""

    serializer_class = s.SeriesValueSerializer
    filterset_class = SeriesValueFilter
    lookup_value_regex = ID

    def get_queryset(self):
        return SeriesValue.objects.select_related("indicator", "region").order_by(
            "indicator__order", "indicator__code", "region__order", "region__code", "month", "pk")

    def filter_queryset(self, queryset):
        # The filters (and the required year) are the list's; an item is read by its id alone.
        return queryset if self.action == "retrieve" else super().filter_queryset(queryset)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self._serialized(page))

    def retrieve(self, request, *args, **kwargs):
        return Response(self._serialized([self.get_object()])[0])

    def _serialized(self, values):
        """The values with their places, from the ranks' own tables: five queries a year on the page."""
        tables = {}
        for year in {v.year for v in values}:
            of_year = [v for v in values if v.year == year]
            tables[year] = rank_table({v.indicator_id for v in of_year}, year, {v.month for v in of_year},
                                      {v.region_id for v in of_year})
        context = {**self.get_serializer_context(), "rank_tables": tables}
        return self.get_serializer(values, many=True, context=context).data


class RegisterViewSet(TokenAudited, viewsets.ReadOnlyModelViewSet):
    """A register's rows scoped by their unit (`unit_field`), exactly as the registers' admin scopes them."""

    unit_field = "unit_id"
    lookup_value_regex = ID

    def get_queryset(self):
        return scoping.visible_by_unit(self.request.user, self.rows(), self.unit_field)


class FirmViewSet(RegisterViewSet):
    """Firms of the register (企业库) with their lists, of the units this person sees."""

    serializer_class = s.FirmSerializer
    filterset_class = FirmFilter

    def rows(self):
        return Firm.objects.select_related("unit", "industry").prefetch_related(
            Prefetch("listings", queryset=Listing.objects.order_by("kind"))).order_by("unit__code", "name", "pk")


class ProjectViewSet(RegisterViewSet):
    """Projects of the register (项目库) with their stage and latest monthly update, of the units this person sees."""

    serializer_class = s.ProjectSerializer
    filterset_class = ProjectFilter

    def rows(self):
        newest = ProjectUpdate.objects.order_by("-year", "-month")
        return Project.objects.select_related("unit").prefetch_related(
            Prefetch("updates", queryset=newest, to_attr="newest_updates")).order_by("unit__code", "name", "pk")


class CoordinationViewSet(RegisterViewSet):
    """Open coordination items (协调事项, not solved yet) of the projects of the units this person sees."""

    serializer_class = s.CoordinationSerializer
    filterset_class = CoordinationFilter
    unit_field = "project__unit_id"

    def rows(self):
        return Coordination.objects.filter(solved_on__isnull=True).select_related("project__unit").order_by(
            "raised_on", "pk")


WRITE_RESPONSES = {
    400: OpenApiResponse(s.WriteFailedSerializer, description="Nothing saved: the errors, row by row."),
    403: OpenApiResponse(s.WriteFailedSerializer, description="Read-only token, or not your unit's target."),
    409: OpenApiResponse(s.WriteFailedSerializer, description="Changed by someone else since your version."),
    422: OpenApiResponse(s.WriteFailedSerializer, description=(
        "Nothing saved: the figures raise soft checks' warnings (in `warnings`); send them again with "
        "`confirm: true` or a `warning_note` explaining them.")),
}
TRANSITION_RESPONSES = {
    400: OpenApiResponse(s.WriteFailedSerializer, description="Not possible in the entry's state (the reason)."),
    403: OpenApiResponse(s.WriteFailedSerializer, description="Read-only token, or not yours to submit or review."),
    409: OpenApiResponse(s.WriteFailedSerializer, description="The figures changed since the version you sent."),
}


@extend_schema_view(
    create=extend_schema(request=s.EntryWriteSerializer,
                         responses={200: s.EntrySerializer, 201: s.EntrySerializer, **WRITE_RESPONSES}),
    partial_update=extend_schema(request=s.EntryWriteSerializer(partial=True),
                                 responses={200: s.EntrySerializer, **WRITE_RESPONSES}),
)
class EntryViewSet(TokenAudited, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Monthly figures (year-to-date) of the targets this person sees.

    POST saves one figure (creating or changing the month's entry), PATCH changes one, POST bulk/ saves a list
    all or nothing; every write goes through the same checks as the screens and is kept in the history.
    """

    serializer_class = s.EntrySerializer
    filterset_class = EntryFilter
    lookup_value_regex = ID
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        qs = ProgressEntry.objects.select_related("target__lead_unit", "entered_by").order_by(
            "year", "month", "target__code")
        return scoping.visible_entries(self.request.user, qs)

    def create(self, request):
        item = s.EntryWriteSerializer(data=request.data)
        if not item.is_valid():
            return _invalid(item.errors)
        return _write(request, [item.validated_data], single=True)

    def partial_update(self, request, pk=None):
        entry = self.get_object()
        if not isinstance(request.data, dict):
            return _invalid({"non_field_errors": [_("Send a JSON object.")]})
        data = {**request.data, "target": entry.target.code, "year": entry.year, "month": entry.month}
        item = s.EntryWriteSerializer(data=data)
        if not item.is_valid():
            return _invalid(item.errors)
        return _write(request, [item.validated_data], single=True)

    @extend_schema(request=s.TransitionSerializer, responses={200: s.EntrySerializer, **TRANSITION_RESPONSES})
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None, format=None):  # format: the router's .json suffix
        """Submit, approve, return or reopen the entry: the review workflow's rules, kept in the history."""
        entry = self.get_object()
        body = s.TransitionSerializer(data=request.data)
        if not body.is_valid():
            return _invalid(body.errors)
        wanted = body.validated_data
        error = {"index": None, "target": entry.target.code, "field": "action"}
        allowed = review.can_submit if wanted["action"] == "submit" else review.can_review
        if not allowed(request.user, entry):
            message = review.refusal(request.user, entry, wanted["action"])
            return _failed(status.HTTP_403_FORBIDDEN, message, [{**error, "message": message}])
        version = wanted.get("version")
        if version is not None and version != entry.version:
            row = EntryRow(entry.target, entry.year, entry.month, {}, base_version=version, line=0)
            return _failed(status.HTTP_409_CONFLICT, _("Someone changed these figures meanwhile; nothing was done."),
                           [], _conflicts([row]))
        try:
            done = review.transition(request.user, entry, wanted["action"], wanted.get("comment", ""), SOURCE,
                                     base_version=version)
        except review.ReviewError as exc:
            return _failed(status.HTTP_400_BAD_REQUEST, str(exc), [{**error, "message": str(exc)}])
        return Response(s.EntrySerializer(self.get_queryset().get(pk=done.pk)).data)

    @extend_schema(request=s.EntryBulkSerializer, responses={200: s.BulkResultSerializer, **WRITE_RESPONSES})
    @action(detail=False, methods=["post"])
    def bulk(self, request, format=None):
        """Save many figures at once: all of them, or none if any row is refused."""
        body = s.EntryBulkSerializer(data=request.data)
        if not body.is_valid():
            return _invalid(body.errors)
        return _write(request, body.validated_data["entries"], single=False)


def _flatten(errors, index=None):
    """DRF's nested validation errors as a flat list of {index, target, field, message}."""
    if isinstance(errors, list):
        if all(isinstance(e, dict) for e in errors):  # one dict per row of a bulk write
            return [row for i, e in enumerate(errors) for row in _flatten(e, i)]
        return [{"index": index, "target": "", "field": "", "message": str(e)} for e in errors]
    out = []
    for field_name, messages in errors.items():
        if field_name == "entries" and isinstance(messages, list) and any(isinstance(m, dict) for m in messages):
            out += [row for i, m in enumerate(messages) for row in _flatten(m, i)]
            continue
        if isinstance(messages, dict):
            messages = [str(m) for m in messages.values()]
        for message in messages if isinstance(messages, list) else [messages]:
            out.append({"index": index, "target": "", "field": field_name, "message": str(message)})
    return out


def _invalid(errors):
    return _failed(status.HTTP_400_BAD_REQUEST, _("Nothing was saved."), _flatten(errors))


def _failed(code, detail, errors, conflicts=None, warnings=None):
    body = {"detail": detail, "errors": errors}
    if conflicts is not None:
        body["conflicts"] = conflicts
    if warnings:
        body["warnings"] = warnings
    return Response(body, status=code)


def _write(request, items, single):
    user = request.user
    # Codes are unique within a plan: a figure names its target by code and the year of its plan.
    found = scoping.targets_by_code(user, {(item["target"], item["year"]) for item in items})
    visible = scoping.unit_ids(user)
    by_key = {key: matches[0] for key, matches in found.items()
              if len(matches) == 1 and (visible is None or matches[0].lead_unit_id in visible)}
    targets = [by_key.get((item["target"], item["year"])) for item in items]
    unknown = [{"index": i, "target": item["target"], "field": "target",
                "message": _("No such target among those you see.")}
               for i, item in enumerate(items) if targets[i] is None]
    if unknown:
        return _failed(status.HTTP_400_BAD_REQUEST, _("Nothing was saved."), unknown)
    refused = [{"index": i, "target": item["target"], "field": "target",
                "message": _("You may not enter figures for %(code)s.") % {"code": item["target"]}}
               for i, item in enumerate(items) if not scoping.can_edit_unit(user, targets[i].lead_unit_id)]
    if refused:
        return _failed(status.HTTP_403_FORBIDDEN, _("Nothing was saved."), refused)
    rows = [EntryRow(targets[i], item["year"], item["month"],
                     {k: v for k, v in item.items() if k not in ("target", "year", "month", "version", "confirm")},
                     base_version=item.get("version"), line=i, confirmed=item.get("confirm", False))
            for i, item in enumerate(items)]
    result = save_entries(user, rows, SOURCE)
    if not result.ok:
        conflicts = _conflicts(rows)
        errors = [{"index": e.line, "target": e.target_code, "field": e.field, "message": e.message}
                  for e in result.errors]
        warnings = [{"index": w.line, "target": w.target_code, "code": w.code, "message": w.message}
                    for w in result.warnings]
        if conflicts:
            return _failed(status.HTTP_409_CONFLICT, _("Someone changed these figures meanwhile; nothing was saved."),
                           errors, conflicts, warnings)
        if not errors:
            return _failed(status.HTTP_422_UNPROCESSABLE_ENTITY, _(
                "Nothing was saved: the figures raise warnings. Check them, then send them again with "
                "\"confirm\": true or a \"warning_note\" explaining them."), errors, warnings=warnings)
        return _failed(status.HTTP_400_BAD_REQUEST, _("Nothing was saved."), errors, warnings=warnings)
    entries = _stored(rows)
    if single:
        entry = entries[0]
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(s.EntrySerializer(entry).data, status=code)
    return Response({"created": len(result.created), "changed": len(result.changed),
                     "unchanged": len(result.unchanged), "entries": s.EntrySerializer(entries, many=True).data})


def _current(rows):
    keys = {(r.target.pk, r.year, r.month) for r in rows}
    found = ProgressEntry.objects.select_related("target__lead_unit", "entered_by").filter(
        target_id__in={k[0] for k in keys}, year__in={k[1] for k in keys}, month__in={k[2] for k in keys})
    return {(e.target_id, e.year, e.month): e for e in found}


def _stored(rows):
    current = _current(rows)
    return [current[(r.target.pk, r.year, r.month)] for r in rows if (r.target.pk, r.year, r.month) in current]


def _conflicts(rows):
    """The rows whose entry changed since the version the client sent, with what is stored now."""
    current = _current([r for r in rows if r.base_version is not None])
    out = []
    for r in rows:
        entry = current.get((r.target.pk, r.year, r.month))
        if r.base_version is None or entry is None or entry.version == r.base_version:
            continue
        out.append({"index": r.line, "target": r.target.code, "period": f"{r.year}-{r.month:02d}",
                    "your_version": r.base_version, "version": entry.version,
                    "value": entry.value, "comparator": entry.comparator,
                    "entered_by": entry.entered_by.get_username() if entry.entered_by_id else None,
                    "entered_at": entry.entered_at})
    return s.ConflictSerializer(out, many=True).data


def _period(request):
    query = s.PeriodQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data["period"]


class ReportView(TokenAudited, generics.ListAPIView):
    """The monthly report's rows: each target's status, reason and forecast at the month, as on the report page."""

    serializer_class = s.ReportRowSerializer
    filter_backends = []

    @extend_schema(parameters=[s.PeriodQuerySerializer, s.ReportFilterSerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        period = _period(self.request)
        wanted = s.ReportFilterSerializer(data=self.request.query_params)
        wanted.is_valid(raise_exception=True)
        rows = build_rows(report_targets(self.request.user, period.year), period.year, period.month)
        if wanted.validated_data.get("status"):
            rows = [r for r in rows if r["status"] == wanted.validated_data["status"]]
        if wanted.validated_data.get("unit"):
            rows = [r for r in rows if r["unit_code"] == wanted.validated_data["unit"]]
        return rows


class CompletenessView(TokenAudited, generics.GenericAPIView):
    """Who reported the month's figures: per unit on time, late, pending or missing, with the totals."""

    serializer_class = s.CompletenessSerializer
    filter_backends = []
    pagination_class = None

    @extend_schema(parameters=[s.PeriodQuerySerializer])
    def get(self, request):
        period = _period(request)
        data = completeness(report_targets(request.user, period.year), period.year, period.month)
        return Response(s.CompletenessSerializer({"period": period.key, **data}).data)

