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
from tracker.targets.models import Plan, ProgressEntry, Section, Target, Unit


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
    if model is Section:
        return Section.objects.filter(plan__in=scoping.visible_plans(user))
    if model is get_user_model():
        ids = scoping.own_unit_ids(user)
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




class AdministeredMixin:
    """Set-up rows changed only by those who administer them: a superuser, or an administrator of the row's
    organisation (`administers`); everyone else with the permission reads them. Dropdowns of plans and of the
    units named in `administered_unit_fields` offer only what this person administers, so a new row cannot be
    put into another organisation's plan or unit."""

    administered_unit_fields = ()

    def administers(self, user, obj):
        return True

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or self.administers(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or self.administers(request.user, obj))

    def get_deleted_objects(self, objs, request):
        # The list's delete action checks the model's permission only: a row one reads but does not administer
        # (a province plan's target, seen by a city) makes it refuse, as a missing permission does.
        to_delete, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if any(not self.administers(request.user, obj) for obj in objs):
            perms_needed = {*perms_needed, str(self.opts.verbose_name)}
        return to_delete, counts, perms_needed, protected

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and db_field.related_model is Plan:
            field.queryset = scoping.administered_plans(request.user, field.queryset)
        if field is not None and db_field.related_model is Section:
            field.queryset = field.queryset.filter(plan__in=scoping.administered_plans(request.user))
        if field is not None and db_field.name in self.administered_unit_fields:
            field.queryset = field.queryset & scoping.administered_units(request.user)
            # Only a superuser adds a top unit or a plan issued by no unit (the installation's own).
            field.required = field.required or not scoping.sees_all(request.user)
        return field


class SharedDataMixin:
    """Shared reference data (regions, peer groups, indicators): read with the view permission, changed as
    `scoping.can_edit_shared` says (superusers, an administrator of the whole installation, or whoever was
    given the model permission), never by one organisation's administrator for everyone."""

    def _may_write(self, request, action):
        return scoping.can_edit_shared(request.user, f"{self.opts.app_label}.{action}_{self.opts.model_name}")

    def has_add_permission(self, request):
        return self._may_write(request, "add")

    def has_change_permission(self, request, obj=None):
        return self._may_write(request, "change")

    def has_delete_permission(self, request, obj=None):
        return self._may_write(request, "delete")


class OwnRowsMixin:
    """Rows that belong to a person (`user`), such as API tokens and reminder robots: anyone signed in to the admin
    adds and manages their own, whatever their role; administrators those of the people they administer."""

    def _own_only(self, request):
        return not scoping.is_admin(request.user)

    def get_queryset(self, request):
        return scoping.administered_people(request.user, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = scoping.administered_people(request.user, get_user_model().objects.all(), "pk")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and (obj is None or not self._own_only(request)
                                                        or obj.user_id == request.user.pk)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)
