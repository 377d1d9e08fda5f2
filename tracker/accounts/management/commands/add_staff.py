"""Create or update a staff account and its role in a unit.

    python manage.py add_staff zhang --email zhang@example.com --unit qiaocheng --role clerk --password ...

Without --password a new account needs an interactive terminal to type one;
a non-interactive run fails with a clear message and writes nothing.
"""

import getpass
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from tracker.accounts.models import Membership
from tracker.targets.models import Unit


class Command(BaseCommand):
    help = _("Create or update a staff account with its unit and role (clerk, reviewer, leader, admin).")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", required=True)
        parser.add_argument("--unit", required=True, help=_("Unit code, e.g. qiaocheng."))
        parser.add_argument("--role", required=True, help="clerk | reviewer | leader | admin")
        parser.add_argument("--password", help=_("Omit to be asked (interactive runs only)."))
        parser.add_argument("--first-name", default=None)
        parser.add_argument("--last-name", default=None)
        parser.add_argument(
            "--no-input", "--noinput", action="store_false", dest="interactive",
            help=_("Never prompt; fail instead when something is missing."),
        )

    def handle(self, *args, username, email, unit, role, password, interactive, **options):
        username = username.strip()
        if not username:
            raise CommandError(_("The username must not be empty."))
        if role not in Membership.Role.values:
            raise CommandError(_("Unknown role '%(role)s'. Use one of: %(roles)s.") % {
                "role": role, "roles": ", ".join(Membership.Role.values)})
        try:
            unit_obj = Unit.objects.get(code=unit)
        except Unit.DoesNotExist:
            known = ", ".join(Unit.objects.values_list("code", flat=True)[:30]) or "-"
            raise CommandError(_("Unknown unit '%(unit)s'. Known unit codes: %(known)s.") % {
                "unit": unit, "known": known})
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(_("'%(email)s' is not a valid email address.") % {"email": email})

        User = get_user_model()
        user = User.objects.filter(username=username).first()
        creating = user is None
        if creating:
            user = User(username=username)
        if password is None and creating:
            if not (interactive and sys.stdin.isatty()):
                raise CommandError(_(
                    "No password given for the new account '%(username)s'. Pass --password, "
                    "or run the command in a terminal to type one."
                ) % {"username": username})
            password = self._ask_password(user)
        user.email = email
        if options["first_name"] is not None:
            user.first_name = options["first_name"]
        if options["last_name"] is not None:
            user.last_name = options["last_name"]
        if password is not None:
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise CommandError(_("Password refused: %(reasons)s") % {"reasons": " ".join(exc.messages)})
            user.set_password(password)
        # Non-superusers need staff status to use the admin, where all data entry happens.
        user.is_staff = True
        user.is_active = True

        with transaction.atomic():
            user.save()
            # One role per person and unit: a new role for the same unit replaces the old one.
            user.memberships.filter(unit=unit_obj).exclude(role=role).delete()
            Membership.objects.get_or_create(user=user, unit=unit_obj, role=role)

        message = _("Created %(username)s: %(role)s of %(unit)s.") if creating else _(
            "Updated %(username)s: %(role)s of %(unit)s.")
        self.stdout.write(self.style.SUCCESS(message % {
            "username": username, "role": Membership.Role(role).label, "unit": unit_obj.name}))

    def _ask_password(self, user):
        for _attempt in range(3):
            first = getpass.getpass(_("Password: "))
            second = getpass.getpass(_("Password (again): "))
            if first != second:
                self.stderr.write(_("The passwords do not match."))
                continue
            try:
                validate_password(first, user)
            except ValidationError as exc:
                self.stderr.write(" ".join(exc.messages))
                continue
            return first
        raise CommandError(_("No acceptable password given."))
