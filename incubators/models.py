from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from districts.models import Institution, TechField, optional_district
from xuhui_portal.models import SearchableRecord, choice_label, tracked_history
from xuhui_portal.reversing import record_url


class IncubatorRecognition(models.TextChoices):
    DISTRICT_HIGH_QUALITY = "district_hq", _("District-level high-quality incubator")
    MUNICIPAL_HIGH_QUALITY = "municipal_hq", _("Municipal high-quality incubator")
    NATIONAL = "national", _("National incubator")


class IncubatorStatus(models.TextChoices):
    OPERATING = "operating", _("Operating")
    PREPARING = "preparing", _("In preparation")
    CLOSED = "closed", _("Closed")
    UNKNOWN = "unknown", _("Unknown")


class Incubator(SearchableRecord):
    """An incubator (孵化器): where start-ups grow, possibly recognised as high-quality by the district."""

    Recognition = IncubatorRecognition
    Status = IncubatorStatus

    recognition = models.CharField(
        _("recognition"),
        max_length=16,
        choices=Recognition,
        blank=True,
        help_text=_("Empty when the sources name no recognition."),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.UNKNOWN)
    recognition_batch = models.PositiveSmallIntegerField(_("recognition batch"), null=True, blank=True)
    recognized_on = models.DateField(_("recognition date"), null=True, blank=True)
    district = optional_district("incubators")
    operator = models.ForeignKey(
        Institution,
        verbose_name=_("operator"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="operated_incubators",
    )
    host_institution = models.ForeignKey(
        Institution,
        verbose_name=_("host institution"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="hosted_incubators",
    )
    focus_fields = models.ManyToManyField(
        TechField, verbose_name=_("focus fields"), related_name="incubators", blank=True
    )
    operator_accounts = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator accounts"),
        related_name="managed_incubators",
        blank=True,
        help_text=_(
            "Staff accounts of the incubator's operator: with the operator role they may edit this incubator only."
        ),
    )
    floor_area_m2 = models.PositiveIntegerField(
        _("floor area (m²)"), null=True, blank=True, help_text=_("Empty when unknown.")
    )
    services_zh = models.TextField(_("services (Chinese)"), blank=True)
    services_en = models.TextField(_("services (English)"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)

    history = tracked_history("sources", "focus_fields", "operator_accounts", searchable=True)

    class Meta(SearchableRecord.Meta):
        verbose_name = _("incubator")
        verbose_name_plural = _("incubators")
        ordering = ["name_zh"]
        constraints = [
            *SearchableRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(recognition="") | Q(recognition__in=IncubatorRecognition.values),
                name="incubators_incubator_recognition_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=IncubatorStatus.values), name="incubators_incubator_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(floor_area_m2__gte=0) | Q(floor_area_m2__isnull=True),
                name="incubators_incubator_area_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(recognition_batch__isnull=True)
                | (~Q(recognition="") & Q(recognition_batch__gte=1)),
                name="incubators_incubator_batch_needs_recognition",
            ),
        ]
        indexes = [
            # incubator list: district facet and filter combined with status
            models.Index(fields=["district", "status"], name="incubators_district_status"),
            # incubator list: recognition/batch filter and facet
            models.Index(fields=["recognition", "recognition_batch"], name="incubators_recognition_batch"),
            # incubator list: sorting by name, recognition date and area
            models.Index(fields=["name_zh"], name="incubators_name_zh"),
            # a district's incubators in name order (its page and the list filtered by district)
            models.Index(
                fields=["district", "name_zh", "id"],
                condition=Q(publication_state="published"),
                name="incubators_pub_district_name",
            ),
            models.Index(fields=["recognized_on"], name="incubators_recognized_on"),
            models.Index(fields=["floor_area_m2"], name="incubators_floor_area"),
        ]

    def get_status_display(self) -> str:
        return choice_label(self.Status, self.status)

    def get_recognition_display(self) -> str:
        return choice_label(self.Recognition, self.recognition)

    def get_absolute_url(self) -> str:
        return record_url("incubators:detail", pk=self.pk, slug=self.slug)

    def search_parts(self) -> tuple[list[str], list[str]]:
        titles, _bodies = super().search_parts()
        return titles, [self.description_zh, self.description_en, self.services_zh, self.services_en]

    @property
    def services(self) -> str:
        return self.localized("services")

    @property
    def description(self) -> str:
        return self.localized("description")
