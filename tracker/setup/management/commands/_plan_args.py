"""The arguments every plan command shares: which plan (year, --unit, --plan-id) and who acts (--user)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tracker.services.plans import PlanError, find_plan


def add_plan_arguments(parser, year_help="the plan's year, e.g. 2022"):
    parser.add_argument("year", type=int, help=year_help)
    parser.add_argument("--unit", help="the issuing unit's code, when several plans share the year")
    parser.add_argument("--plan-id", type=int, help="the plan's id, when year and unit are not enough")
    parser.add_argument("--user", help="the administrator the history names (default: none, 'command')")


def plan_and_user(options):
    try:
        plan = find_plan(options["year"], options.get("unit"), options.get("plan_id"))
    except PlanError as exc:
        raise CommandError(str(exc)) from None
    user = None
    if options.get("user"):
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(_("There is no user %(name)s.") % {"name": options["user"]})
    return plan, user


class PlanStepCommand(BaseCommand):
    """One lifecycle step on one plan; subclasses name the step (a function of tracker.services.plans)."""

    step = None

    def add_arguments(self, parser):
        add_plan_arguments(parser)

    def run_step(self, user, plan, options):
        return type(self).step(user, plan, source="command")

    def handle(self, *args, **options):
        plan, user = plan_and_user(options)
        try:
            self.run_step(user, plan, options)
        except PlanError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{plan}: {plan.get_status_display()}")
