from tracker.services.plans import publish
from tracker.setup.management.commands._plan_args import PlanStepCommand


class Command(PlanStepCommand):
    help = "Publish a draft plan (草稿 → 已发布): clerks see it, enter its figures and get its reminders."
    step = publish
