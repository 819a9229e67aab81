from django.http import HttpResponsePermanentRedirect
from django.views.generic import DetailView


class CanonicalDetailView(DetailView):
    """Detail page of a published record, found by id; the slug in the URL is decoration.

    Links stay valid when a record is renamed or its slug edited: a request with a missing or
    outdated slug is redirected (301) to the canonical URL.
    """

    def get_queryset(self):
        return super().get_queryset().published()

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        if kwargs.get("slug") != self.object.slug:
            return HttpResponsePermanentRedirect(self.object.get_absolute_url())
        context = self.get_context_data(object=self.object)
        return self.render_to_response(context)
