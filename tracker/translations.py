"""Django's own strings that its Simplified Chinese catalogue lacks (new in 6.1).

Listed here so `make messages` keeps them in tracker/locale, which overrides Django's catalogue.
"""

from django.utils.translation import gettext_noop

DJANGO_STRINGS = [
    gettext_noop("- Select an option -"),
    # admin/date_hierarchy.html (history, reminder emails): "Filter by {{ field_name }}".
    gettext_noop("Filter by %(field_name)s"),
    # Django's wording, which Django REST framework's own catalogue (ahead of Django's) words differently.
    gettext_noop("The submitted file is empty."),
]
