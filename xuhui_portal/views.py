"""Site-wide pages (home, search) and the two view bases every app's pages use."""

import sys

from django import forms
from django.core.exceptions import DisallowedHost
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from django.views.generic import DetailView
from django_filters.views import FilterView

from districts.models import Milestone

from . import selectors, statistics
from .api import csv_lines
from .search import MAX_QUERY_LENGTH


class CanonicalDetailView(DetailView):
    """Detail page of a published record, found by id; the slug in the URL is decoration.

    Links stay valid when a record is renamed or its slug edited: a request with a missing or
    outdated slug is redirected (301) to the canonical URL.
    """

    def get_queryset(self):
        return super().get_queryset().published().for_display()

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        if kwargs.get("slug") != self.object.slug:
            return HttpResponsePermanentRedirect(self.object.get_absolute_url())
        context = self.get_context_data(object=self.object)
        return self.render_to_response(context)


class FacetedListView(FilterView):
    """A filtered, faceted, paginated list: the FilterSet decides, the template shows.

    Invalid filter values do not raise: the page explains them and lists nothing (strict mode).
    """

    paginate_by = 20
    #: The API's CSV export of this list ("api:<basename>-csv"); the page links to it with its filters.
    csv_view_name: str | None = None

    def get_filterset_kwargs(self, filterset_class):
        # Always bound, even without parameters: facets are counted for the unfiltered list too.
        return {**super().get_filterset_kwargs(filterset_class), "data": self.request.GET}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = self.filterset
        paginator = context.get("paginator")
        context.update(
            facets=filterset.facet_results(),
            active_filters=filterset.active_filters() if filterset.is_valid() else [],
            clear_url=filterset.clear_url(),
            result_count=paginator.count if paginator else len(context["object_list"]),
            query=filterset.form.cleaned_data.get("q", "") if filterset.is_valid() else "",
            # What the form's inputs show: each field's submitted value, "" for none. (A template's
            # lookup of a missing key in the QueryDict fails three ways before it gives up.)
            submitted={name: filterset.data.get(name, "") for name in filterset.form.fields},
            csv_url=self.csv_url(),
            filter_errors=[
                (filterset.form.fields[name].label if name in filterset.form.fields else "", message)
                for name, messages in filterset.form.errors.items()
                for message in messages
            ],
        )
        filterset.release()  # the rows and the facets are read: the rest is rendering
        return context

    def csv_url(self) -> str | None:
        if self.csv_view_name is None:
            return None
        params = self.request.GET.copy()
        params.pop("page", None)
        query = params.urlencode()
        return reverse(self.csv_view_name) + (f"?{query}" if query else "")


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=MAX_QUERY_LENGTH, required=False, strip=True)


def home(request):
    ctx = selectors.home_overview()
    ctx["search_form"] = SearchForm()
    return render(request, "home.html", ctx)


def search(request):
    form = SearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    groups = selectors.site_search(query) if query else []
    ctx = {
        "form": form,
        "query": query,
        "groups": groups,
        "total": sum(group.count for group in groups),
    }
    return render(request, "search.html", ctx)


def robots_txt(request):
    """Crawl the pages, not the endless search and API result spaces; here is the sitemap."""
    sitemap = request.build_absolute_uri(reverse("sitemap"))
    lines = [
        "User-agent: *",
        "Disallow: /search/",
        "Disallow: /en/search/",
        "Disallow: /api/",
        f"Sitemap: {sitemap}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


#: Database failures that mean "the database is unavailable right now", not a bug.
UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


def healthz(request):
    """200 when the database answers, 503 when it does not (for load balancers)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "database unavailable"}, status=503, headers={"Retry-After": "5"})
    return JsonResponse({"status": "ok"})


def bad_request(request, exception):
    """The 400 handler. A Host header outside ALLOWED_HOSTS gets a page that needs no request:
    the site's pages name their own address (canonical and language links), and asking the
    request for it raises again, which turned the 400 into a 500."""
    if not isinstance(exception, DisallowedHost):
        return defaults.bad_request(request, exception)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Unknown host."}, status=400)
    return HttpResponseBadRequest(render_to_string("400_unknown_host.html"))


def server_error(request):
    """The 500 handler, which answers 503 when the cause is an unavailable database.

    It renders without touching the database (no context processors, no request user), and
    never shows a traceback or SQL: those go to the error log.
    """
    error = sys.exc_info()[1]
    if isinstance(error, UNAVAILABLE):
        status, template = 503, "503.html"
    else:
        status, template = 500, "500.html"
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else {}
    if request.path.startswith("/api/"):
        message = "Service temporarily unavailable; retry later." if status == 503 else "Server error."
        return JsonResponse({"detail": message}, status=status, headers=headers)
    return HttpResponse(render_to_string(template), status=status, headers=headers)


def statistics_page(request):
    return render(request, "statistics.html", selectors.statistics_overview())


def statistics_csv(request, slug: str):
    """One chart's numbers as CSV (UTF-8 with BOM)."""
    build = statistics.CHARTS.get(slug)
    if build is None:
        raise Http404
    chart = build()
    lines = csv_lines(
        ["category", "value", "list_url"],
        (
            {"category": bar.label, "value": bar.value, "list_url": request.build_absolute_uri(bar.url)}
            for bar in chart.bars
        ),
    )
    response = HttpResponse("".join(lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}.csv"'
    return response


def timeline(request):
    milestones = Milestone.objects.published().select_related("district").prefetch_related("sources")
    return render(request, "timeline.html", {"milestones": milestones})


def trivial(request):
    """A fixed small page through the full middleware stack: the benchmark's ceiling."""
    return HttpResponse("<!DOCTYPE html><html lang=en><title>ok</title><p>ok</p></html>")
