"""Shared admin pieces: every admin of the project builds on these.

`ScopedAdmin` limits rows and dropdown choices through tracker.accounts.scoping,
answers 404 for rows outside them and records history for every write made in
the admin. Which models and actions a person may use comes from Django
permissions (the role groups, see tracker.accounts.roles).
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import router
from django.db.models.deletion import Collector
from django.http import Http404
from django.utils.translation import gettext

from tracker.accounts import scoping
from tracker.adminkit.history import HistoryAdminMixin
from tracker.audit import service as audit
from tracker.audit.models import Change
from tracker.targets.models import Plan, ProgressEntry, Target, Unit


def scoped_choices(model, user):
    """The rows of `model` this user may pick in a dropdown; None when the model is not unit-bound."""
    if model is Unit:
        return scoping.visible_units(user)
    if model is Target:
        return scoping.visible_targets(user)
    if model is ProgressEntry:
        return scoping.visible_entries(user)
    if model is Plan:
        return scoping.visible_plans(user)
    if model is get_user_model():
        ids = scoping.unit_ids(user)
        users = get_user_model().objects.filter(is_active=True)
        return users if ids is None else users.filter(memberships__unit_id__in=ids).distinct()
    return None


# Rows deleted along with another one (a target's entries and monthly plan) get their own history rows.
CASCADE_AUDITED_APPS = {"targets", "accounts"}


def _cascaded(obj):
    collector = Collector(using=router.db_for_write(type(obj)))
    try:
        collector.collect([obj])
    except Exception:  # protected rows: the delete itself will refuse, nothing goes with it
        return []
    found = [o for instances in collector.data.values() for o in instances]
    found += [o for qs in collector.fast_deletes if hasattr(qs, "model") for o in qs]
    return [o for o in found if o._meta.app_label in CASCADE_AUDITED_APPS and not (
        type(o) is type(obj) and o.pk == obj.pk)]


def record_deletion(obj, user, before=None):
    """History for a row about to be deleted (call before deleting, while it still has its id)."""
    before = before if before is not None else audit.snapshot(obj)
    for row, snap in [(obj, before), *((o, audit.snapshot(o)) for o in _cascaded(obj))]:
        audit.record(row, user, "admin", snap, action=Change.Action.DELETE,
                     changes={key: [value, None] for key, value in snap.items()})


class ReadOnlyMixin:
    """For rows only the code writes (history, summaries): never added, changed or deleted by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ScopedMixin:
    """Rows and dropdown choices limited through scoping (which units' rows a person may see).

    Which models and actions a person may use comes from Django permissions
    (the role groups, see tracker.accounts.roles).
    """

    def scope(self, request, queryset):
        return queryset

    def get_queryset(self, request):
        return self.scope(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        queryset = scoped_choices(db_field.related_model, request.user)
        if queryset is not None:
            kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        queryset = scoped_choices(db_field.related_model, request.user)
        if queryset is not None:
            kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ScopedAdmin(HistoryAdminMixin, ScopedMixin, admin.ModelAdmin):
    """Scoped rows, 404 for rows outside them, and history for every write made here."""

    def get_object(self, request, object_id, from_field=None):
        # Another unit's row (or a guessed id) is simply not found: 404, never a redirect that confirms it.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(gettext("No such object, or not one of your units'."))
        return obj

    def save_model(self, request, obj, form, change):
        before = audit.snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        audit.record(obj, request.user, "admin", before)

    def delete_model(self, request, obj):
        record_deletion(obj, request.user)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            record_deletion(obj, request.user)
        super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        model = formset.model
        ids = [f.instance.pk for f in formset.forms if f.instance.pk]
        before = {o.pk: audit.snapshot(o) for o in model.objects.filter(pk__in=ids)}
        for deleted in formset.deleted_forms:
            if deleted.instance.pk in before:
                record_deletion(deleted.instance, request.user, before[deleted.instance.pk])
        super().save_formset(request, form, formset, change)
        audit.record_many(
            [(o, request.user, "admin", None, None, "") for o in formset.new_objects]
            + [(o, request.user, "admin", before.get(o.pk), None, "") for o, _fields in formset.changed_objects]
        )




class OwnRowsMixin:
    """Rows that belong to a person (`user`), such as API tokens and reminder robots: anyone signed in to the admin
    adds and manages their own, whatever their role; administrators everyone's."""

    def _own_only(self, request):
        return not scoping.is_admin(request.user)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.filter(user=request.user) if self._own_only(request) else qs

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and (obj is None or not self._own_only(request)
                                                        or obj.user_id == request.user.pk)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)
