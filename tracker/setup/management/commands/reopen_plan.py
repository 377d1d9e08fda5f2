from tracker.services.plans import reopen
from tracker.setup.management.commands._plan_args import PlanStepCommand


class Command(PlanStepCommand):
    help = "Reopen a closed plan (已结束 → 已发布) with a reason, kept in the history, so figures can be corrected."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--reason", required=True, help="why the plan is reopened (kept in the history)")

    def run_step(self, user, plan, options):
        return reopen(user, plan, options["reason"], source="command")
