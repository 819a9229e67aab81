from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from districts.models import Institution, TechField, optional_district
from xuhui_portal.models import (
    SearchableRecord,
    TrackedModel,
    choice_label,
    tracked_history,
    validate_no_parent_loop,
)
from xuhui_portal.reversing import record_url

#: What public pages read: the condition of the partial indexes below.
PUBLISHED = Q(publication_state="published")

#: Years a transfer project or platform may carry; anything else is a typing error.
EARLIEST_YEAR, LATEST_YEAR = 1949, 2100


class TransferPlatformKind(models.TextChoices):
    SERVICE_CENTRE = "service_centre", _("District transfer service centre")
    HUB = "hub", _("TTO hub platform")
    CENTRE = "centre", _("Transfer centre")


class TransferPlatform(SearchableRecord):
    """A node of Xuhui's transfer network: the service centre, the TTO "1+N" hub, or one of its N centres."""

    Kind = TransferPlatformKind

    kind = models.CharField(_("kind"), max_length=16, choices=Kind, default=Kind.CENTRE)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="centres",
        help_text=_("For a transfer centre: the hub platform it belongs to."),
    )
    district = optional_district("platforms")
    host_institutions = models.ManyToManyField(
        Institution, verbose_name=_("host institutions"), related_name="hosted_platforms", blank=True
    )
    partners = models.ManyToManyField(
        Institution,
        verbose_name=_("partners"),
        through="PlatformPartnership",
        related_name="partner_platforms",
        blank=True,
    )
    area_m2 = models.PositiveIntegerField(
        _("area (m²)"), null=True, blank=True, help_text=_("Empty when unknown.")
    )
    established_year = models.PositiveSmallIntegerField(_("year established"), null=True, blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)

    history = tracked_history("sources", "host_institutions", searchable=True)

    class Meta(SearchableRecord.Meta):
        verbose_name = _("transfer platform")
        verbose_name_plural = _("transfer platforms")
        ordering = ["kind", "pk"]
        constraints = [
            *SearchableRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(kind__in=TransferPlatformKind.values), name="transfers_platform_kind_valid"
            ),
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="transfers_platform_not_own_parent"),
            models.CheckConstraint(
                condition=Q(area_m2__gte=0) | Q(area_m2__isnull=True),
                name="transfers_platform_area_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(established_year__isnull=True)
                | Q(established_year__gte=EARLIEST_YEAR, established_year__lte=LATEST_YEAR),
                name="transfers_platform_year_sane",
            ),
        ]

    def get_absolute_url(self) -> str:
        return record_url("transfers:platform-detail", pk=self.pk, slug=self.slug)

    def clean(self):
        super().clean()
        validate_no_parent_loop(self)

    def search_parts(self) -> tuple[list[str], list[str]]:
        titles, _bodies = super().search_parts()
        return titles, [self.description_zh, self.description_en]

    @property
    def description(self) -> str:
        return self.localized("description")


class PlatformPartnershipRole(models.TextChoices):
    UNIVERSITY = "university", _("University")
    HOSPITAL = "hospital", _("Hospital or health body")
    ENTERPRISE = "enterprise", _("Large enterprise")
    RESEARCH_INSTITUTE = "research_institute", _("Research institute")
    PHARMA = "pharma", _("Pharmaceutical company")
    FINANCE = "finance", _("Finance and insurance")


class PlatformPartnership(TrackedModel):
    """An institution working with a platform, in a role (university, hospital, enterprise, finance …)."""

    Role = PlatformPartnershipRole

    platform = models.ForeignKey(
        TransferPlatform, verbose_name=_("platform"), on_delete=models.CASCADE, related_name="partnerships"
    )
    institution = models.ForeignKey(
        Institution,
        verbose_name=_("institution"),
        on_delete=models.PROTECT,
        related_name="platform_partnerships",
    )
    role = models.CharField(_("role"), max_length=24, choices=Role)

    history = tracked_history()

    class Meta:
        verbose_name = _("platform partner")
        verbose_name_plural = _("platform partners")
        ordering = ["role", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "institution", "role"], name="transfers_partnership_unique_role"
            ),
            models.CheckConstraint(
                condition=Q(role__in=PlatformPartnershipRole.values), name="transfers_partnership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution} · {self.get_role_display()}"


class TransferProjectStage(models.TextChoices):
    PROOF_OF_CONCEPT = "proof_of_concept", _("Proof of concept")
    INCUBATING = "incubating", _("Incubating")
    TRANSFERRED = "transferred", _("Transferred")
    INDUSTRIALISED = "industrialised", _("Industrialised")


class TransferProjectTransferMode(models.TextChoices):
    LICENCE = "licence", _("Licence")
    ASSIGNMENT = "assignment", _("Assignment")
    EQUITY = "equity", _("Equity investment")
    JOINT_DEVELOPMENT = "joint_development", _("Joint development")
    COMBINED = "combined", _("Combined")


class TransferProject(SearchableRecord):
    """A technology transferred (or being incubated) through Xuhui's network.

    Money is in 万元 (10,000 yuan). An empty amount means *not disclosed*, which is different
    from zero: totals count only disclosed amounts and say how many projects they cover.
    """

    Stage = TransferProjectStage
    TransferMode = TransferProjectTransferMode

    stage = models.CharField(_("stage"), max_length=20, choices=Stage)
    transfer_mode = models.CharField(
        _("transfer mode"),
        max_length=20,
        choices=TransferMode,
        blank=True,
        help_text=_("Empty when not disclosed."),
    )
    owner_institution = models.ForeignKey(
        Institution,
        verbose_name=_("owner institution"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_projects",
    )
    platform = models.ForeignKey(
        TransferPlatform,
        verbose_name=_("platform"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="projects",
    )
    district = optional_district("projects")
    fields = models.ManyToManyField(TechField, verbose_name=_("fields"), related_name="projects", blank=True)
    team_lead = models.CharField(_("team lead"), max_length=100, blank=True)
    summary_zh = models.TextField(_("summary (Chinese)"), blank=True)
    summary_en = models.TextField(_("summary (English)"), blank=True)
    year = models.PositiveSmallIntegerField(
        _("year"), null=True, blank=True, help_text=_("Year of transfer.")
    )
    transfer_amount_wan = models.DecimalField(
        _("transfer amount (万元)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "The deal value: licence fee, price or equity value according to the mode. Empty: not disclosed."
        ),
    )
    financing_wan = models.DecimalField(
        _("financing raised (万元)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    ip_pledge_wan = models.DecimalField(
        _("IP-pledge financing (万元)"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    history = tracked_history("sources", "fields", searchable=True)

    class Meta(SearchableRecord.Meta):
        verbose_name = _("transfer project")
        verbose_name_plural = _("transfer projects")
        ordering = ["-year", "name_zh"]
        constraints = [
            *SearchableRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(stage__in=TransferProjectStage.values), name="transfers_project_stage_valid"
            ),
            models.CheckConstraint(
                condition=Q(transfer_mode="") | Q(transfer_mode__in=TransferProjectTransferMode.values),
                name="transfers_project_mode_valid",
            ),
            models.CheckConstraint(
                condition=Q(year__isnull=True) | Q(year__gte=EARLIEST_YEAR, year__lte=LATEST_YEAR),
                name="transfers_project_year_sane",
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{field}__gte": 0}) | Q(**{f"{field}__isnull": True}),
                    name=f"transfers_project_{field}_non_negative",
                )
                for field in ("transfer_amount_wan", "financing_wan", "ip_pledge_wan")
            ),
        ]
        indexes = [
            # project list: stage and mode filters and facets, year and amount sorting and ranges
            models.Index(fields=["stage", "year"], name="transfers_project_stage_year"),
            models.Index(fields=["transfer_mode", "year"], name="transfers_project_mode_year"),
            models.Index(fields=["year"], name="transfers_project_year"),
            models.Index(fields=["transfer_amount_wan"], name="transfers_project_amount"),
            # Public lists only read published rows: these partial indexes let each facet count
            # (GROUP BY stage, mode, district, platform, owner) run as an index-only scan, and
            # the amount sort (unknown last) read the index in order.
            *(
                models.Index(
                    fields=[column, "id"], condition=PUBLISHED, name=f"transfers_project_pub_{short}"
                )
                for column, short in (
                    ("stage", "stage"),
                    ("transfer_mode", "mode"),
                    ("district", "district"),
                    ("platform", "platform"),
                    ("owner_institution", "owner"),
                )
            ),
            # The feed: the newest published projects (read backwards: published_at DESC, id DESC).
            models.Index(
                fields=["published_at", "id"], condition=PUBLISHED, name="transfers_project_pub_newest"
            ),
            # sitemap.xml: the latest change among published projects, without reading them all.
            models.Index(fields=["updated_at"], condition=PUBLISHED, name="transfers_project_pub_updated"),
            # Patching the project index after an edit: the names next to the edited one's.
            models.Index(fields=["name_zh", "id"], condition=PUBLISHED, name="transfers_project_pub_name"),
            # (Two more, PostgreSQL only, in migration 0007: amount and year descending with unknown
            # values last, for the list's sort orders. SQLite cannot index NULLS LAST.)
        ]

    def get_stage_display(self) -> str:
        return choice_label(self.Stage, self.stage)

    def get_transfer_mode_display(self) -> str:
        return choice_label(self.TransferMode, self.transfer_mode)

    def get_absolute_url(self) -> str:
        return record_url("transfers:project-detail", pk=self.pk, slug=self.slug)

    def search_parts(self) -> tuple[list[str], list[str]]:
        titles, _bodies = super().search_parts()
        return titles, [self.summary_zh, self.summary_en, self.team_lead]

    @property
    def summary(self) -> str:
        return self.localized("summary")
