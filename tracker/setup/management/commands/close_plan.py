from tracker.services.plans import close
from tracker.setup.management.commands._plan_args import PlanStepCommand


class Command(PlanStepCommand):
    help = "Close a published plan (已发布 → 已结束) after its last figures were due: its figures become read-only."
    step = close
