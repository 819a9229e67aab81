from django.http import HttpRequest, HttpResponseBadRequest
from django.template.loader import render_to_string


class RejectNulBytesMiddleware:
    """Answer 400 to a request whose query string or form carries a NUL character.

    No field of the portal can hold one, and PostgreSQL refuses them in any string it is sent,
    so they are stopped here with a readable page instead of failing deep inside a query.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if self._has_nul(request):
            return HttpResponseBadRequest(render_to_string("400.html", request=request))
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        if "\x00" in request.path:
            return True
        sources = [request.GET, request.POST] if request.method == "POST" else [request.GET]
        for data in sources:
            for key, values in data.lists():
                if "\x00" in key or any("\x00" in value for value in values):
                    return True
        return False
