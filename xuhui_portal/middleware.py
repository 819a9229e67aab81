from django.conf import settings
from django.http import HttpRequest, HttpResponseBadRequest, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext


class RejectNulBytesMiddleware:
    """Answer 400 to a request whose query string or form carries a NUL character.

    No field of the portal can hold one, and PostgreSQL refuses them in any string it is sent,
    so they are stopped here with a readable page instead of failing deep inside a query.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        parameter = self._parameter_with_nul(request)
        if parameter is not None:
            if request.path.startswith("/api/"):
                message = gettext("Control characters (NUL) are not allowed.")
                return JsonResponse({parameter or "path": [message]}, status=400)
            return HttpResponseBadRequest(render_to_string("400.html", request=request))
        return self.get_response(request)

    @staticmethod
    def _parameter_with_nul(request: HttpRequest) -> str | None:
        """The name of a parameter holding a NUL ("" for the path itself), or None."""
        if "\x00" in request.path:
            return ""
        sources = [request.GET, request.POST] if request.method == "POST" else [request.GET]
        for data in sources:
            for key, values in data.lists():
                if "\x00" in key or any("\x00" in value for value in values):
                    return key.replace("\x00", "")
        return None


class ApiLanguageMiddleware:
    """The API speaks English unless the client asks for Chinese (Accept-Language).

    Field names are English anyway; messages and the schema's descriptions follow. Pages keep
    their own rule: the URL prefix decides.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        language = "en"
        if request.headers.get("Accept-Language"):
            preferred = translation.get_language_from_request(request)
            language = preferred if preferred in dict(settings.LANGUAGES) else "en"
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
            response.headers.setdefault("Content-Language", language)
            return response
