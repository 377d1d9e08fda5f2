from django.core.management.base import BaseCommand, CommandError

from tracker.services.plans import CopyPlan, PlanError
from tracker.setup.management.commands._plan_args import add_plan_arguments, plan_and_user


class Command(BaseCommand):
    help = ("Copy a plan into next year's draft: sections, targets, units, thresholds, reporting policies and "
            "monthly-plan curves; codes renumbered (BZ22-1-04 -> BZ23-1-04), baselines from the year's final "
            "figure, deadlines a year later. Prints what it creates; --dry-run writes nothing.")

    def add_arguments(self, parser):
        add_plan_arguments(parser, year_help="the year of the plan to copy, e.g. 2022")
        parser.add_argument("to_year", type=int, help="the new plan's year, e.g. 2023")
        parser.add_argument("--dry-run", action="store_true", help="show the preview and write nothing")

    def handle(self, *args, **options):
        plan, user = plan_and_user(options)
        copy = CopyPlan(plan, options["to_year"])
        out = self.stdout
        out.write(f"{plan} ({plan.year}) -> {copy.title} ({copy.to_year}), draft")
        for section in copy.sections:
            out.write(f"  section {section.number}. {section.name}")
        for row in copy.rows:
            baseline = f"{row.baseline_text} ({row.baseline_period})" if row.baseline_value is not None else "—"
            extra = [f"baseline {baseline}"]
            if row.baseline_note:
                extra.append(str(row.baseline_note))
            if row.deadline:
                extra.append(f"deadline {row.deadline.isoformat()}")
            if row.points:
                extra.append(f"{len(row.points)} monthly-plan points")
            if row.policy:
                extra.append("own reporting policy")
            out.write(f"  {row.source.code} -> {row.code} {row.source.name}: {'; '.join(extra)}")
        for note in copy.notes:
            out.write(f"note: {note}")
        if not copy.ok:
            raise CommandError(" ".join(str(p) for p in copy.problems))
        if options["dry_run"]:
            out.write(f"dry run: nothing written ({len(copy.sections)} sections, {len(copy.rows)} targets)")
            return
        try:
            new = copy.write(user, source="command")
        except PlanError as exc:
            raise CommandError(str(exc)) from None
        out.write(f"created plan {new.pk}: {len(copy.sections)} sections, {len(copy.rows)} targets (draft)")
