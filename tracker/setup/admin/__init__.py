"""The administrator's set-up screens: the plan (units, plans, targets) and the people (users, roles)."""

from tracker.setup.admin import people, plans  # noqa: F401  (each module registers its admins)
