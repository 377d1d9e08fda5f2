"""Request middleware: the chosen language, and refusing requests no page can read.

Language: Simplified Chinese unless the person picked another language.
Django's LocaleMiddleware also follows the browser's Accept-Language, so a
civil servant on an English-language browser would get English unasked. Here
only the language switch (its cookie) changes the language.
"""

import re

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.views.defaults import bad_request

# No URL of the tracker has a control character in its path; in a query string only text
# pasted into a search box might carry a tab or a line break. Anything else (above all NUL,
# which PostgreSQL cannot store or compare) is refused before any view or query runs.
PATH_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
QUERY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The admin's "field to link by" for popups. Django's admin reads an empty one as a field
# named "" (FieldDoesNotExist, a server error) and never sends one itself.
TO_FIELD = "_to_field"


def chosen_language(request):
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    return chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


class ChosenLanguageMiddleware(LocaleMiddleware):
    def process_request(self, request):
        translation.activate(chosen_language(request))
        request.LANGUAGE_CODE = translation.get_language()


class MalformedRequestMiddleware:
    """400 before any view runs for a control character in the path or a query parameter
    (`/targets/%00/`, `?state__exact=%00`) and for an empty admin `_to_field`."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = "/" + settings.ADMIN_URL

    def __call__(self, request):
        if self.is_malformed(request):
            with translation.override(chosen_language(request)):
                return bad_request(request, ValueError("malformed request"))
        return self.get_response(request)

    def is_malformed(self, request):
        if PATH_CONTROL.search(request.path):
            return True
        for key, values in request.GET.lists():
            if QUERY_CONTROL.search(key) or any(QUERY_CONTROL.search(value) for value in values):
                return True
        if request.GET.get(TO_FIELD) == "":
            return True
        # Only the admin reads _to_field from a form; other POSTs are not parsed here.
        return (request.method == "POST" and request.path_info.startswith(self.admin_prefix)
                and request.POST.get(TO_FIELD) == "")
