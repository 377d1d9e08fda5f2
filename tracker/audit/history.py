"""Showing history rows to people: field labels, choice labels, names instead of ids.

Used by the per-object "History" page of every audited admin (tracker.adminkit.history),
the history list and the review page. A fixed number of queries per page however many rows it shows.
"""

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracker.targets import checks

EMPTY = "—"
# The write paths, as recorded in Change.source, in words.
SOURCE_LABELS = {
    "admin": gettext_lazy("admin form"),
    "admin action": gettext_lazy("admin list action"),
    "entry_screen": gettext_lazy("monthly entry screen"),
    "import": gettext_lazy("import"),
    "command": gettext_lazy("management command"),
    "api": gettext_lazy("API"),
}


def source_label(source):
    return str(SOURCE_LABELS.get(source, source))


def change_source_label(change):
    """Where a history row's write came from in words, with the API token it came through, if any."""
    label = source_label(change.source)
    if change.token:
        return _("%(source)s, token %(token)s") % {"source": label, "token": change.token}
    return label


def model_label(label):
    """"targets.progressentry" -> "Progress entry" in the active language (the label itself if unknown)."""
    try:
        return capfirst(apps.get_model(label)._meta.verbose_name)
    except (LookupError, ValueError):
        return label


def _field(model, attname):
    for field in model._meta.concrete_fields:
        if field.attname == attname:
            return field
    try:
        return model._meta.get_field(attname)
    except FieldDoesNotExist:
        return None


def _model_of(change):
    try:
        return apps.get_model(change.model)
    except (LookupError, ValueError):
        return None


def describe(changes):
    """Attach `lines` = [(label, old, new)] to each Change, in readable words."""
    changes = list(changes)
    wanted = {}  # related model -> ids to name
    for change in changes:
        model = _model_of(change)
        for attname, pair in (change.changes or {}).items():
            field = _field(model, attname) if model else None
            if field is not None and field.is_relation and field.many_to_one:
                wanted.setdefault(field.related_model, set()).update(v for v in pair if v not in (None, ""))
    names = {}
    for related, ids in wanted.items():
        for obj in related._default_manager.filter(pk__in=ids):
            names[(related, obj.pk)] = str(obj)
    for change in changes:
        model = _model_of(change)
        order = {f.attname: i for i, f in enumerate(model._meta.concrete_fields)} if model else {}
        change.source_label = change_source_label(change)
        change.lines = []
        for attname, pair in sorted((change.changes or {}).items(), key=lambda kv: (order.get(kv[0], 999), kv[0])):
            field = _field(model, attname) if model else None
            old, new = (list(pair) + [None, None])[:2] if isinstance(pair, list) else (None, pair)
            shown_old, shown_new = _show(field, old, names), _show(field, new, names)
            if shown_old == shown_new:
                continue  # e.g. an empty field of a new row
            label = capfirst(field.verbose_name) if field is not None else attname
            change.lines.append((label, shown_old, shown_new))
    return changes


def _show(field, value, names):
    if value is None or value == "":
        return EMPTY
    if field is None:
        return str(value)
    if field.is_relation and field.many_to_one:
        return names.get((field.related_model, _as_pk(field, value)), str(value))
    if isinstance(value, list):
        # An entry's confirmed warnings (or any list): their sentences, in the reader's language.
        return "; ".join(checks.word(item) if isinstance(item, dict) else str(item) for item in value) or EMPTY
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return moment.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _as_pk(field, value):
    try:
        return field.target_field.to_python(value)
    except Exception:  # a stale id of another type: show it as it is
        return value
