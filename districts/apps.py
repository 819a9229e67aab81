from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DistrictsConfig(AppConfig):
    """The ecosystem's places and shared references.

    Besides the six innovation districts this app holds what every other app points at:
    sources, the field taxonomy, institutions, headline indicators and milestones. Institutions
    live here because districts name them as anchors while incubators and transfer platforms
    point at them too; keeping them at the bottom of the dependency graph means incubators and
    transfers depend on districts and never the other way round.
    """

    name = "districts"
    verbose_name = _("Districts and institutions")
