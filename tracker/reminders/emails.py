"""Rendering reminder emails, healthchecks style.

Each email `<name>` has three templates: `emails/<name>-subject.txt`,
`emails/<name>-body-text.txt` and `emails/<name>-body-html.html`. They are
rendered in the recipient's language. Links come from tracker.links.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


def render(name, context, language):
    """(subject, text, html) for template set `name`, rendered in `language`."""
    with translation.override(language):
        ctx = {"site_url": settings.SITE_URL, **context}
        subject = render_to_string(f"emails/{name}-subject.txt", ctx)
        text = render_to_string(f"emails/{name}-body-text.txt", ctx)
        html = render_to_string(f"emails/{name}-body-html.html", ctx)
    # A subject is one line, whatever the template's line breaks.
    return " ".join(subject.split()), text, html


def build_message(subject, text, html, to, message_id=None):
    """The email; `message_id` (the reminder's own) replaces the fresh one Django would make for each send."""
    headers = {"Message-ID": message_id} if message_id else None
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to], headers=headers)
    message.attach_alternative(html, "text/html")
    return message
