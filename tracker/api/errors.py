"""DRF's own refusals (a body that is not JSON, a read-only token) in the shape the writes document."""

from rest_framework.views import exception_handler


def handler(exc, context):
    response = exception_handler(exc, context)
    if response is not None and response.status_code in (400, 403) and isinstance(response.data, dict) \
            and "detail" in response.data and "errors" not in response.data:
        detail = str(response.data["detail"])
        response.data = {"detail": detail, "errors": [{"index": None, "target": "", "field": "", "message": detail}]}
    return response
