from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from xuhui_portal.formatting import money, number
from xuhui_portal.models import (
    Bilingual,
    DirectoryRecord,
    NamedRecord,
    SearchableRecord,
    SluggedMixin,
    TrackedModel,
    choice_label,
    tracked_history,
    validate_no_parent_loop,
)
from xuhui_portal.reversing import record_url


class Source(TrackedModel):
    """A published report that the directory's facts come from."""

    key = models.CharField(_("key"), max_length=16, unique=True, help_text=_("Short citation key, e.g. S1."))
    publisher = models.CharField(_("publisher"), max_length=200)
    published_on = models.DateField(_("publication date"))
    headline = models.CharField(_("headline"), max_length=300)
    url = models.URLField(_("URL"), max_length=500, blank=True)
    note = models.TextField(_("note"), blank=True)

    history = tracked_history()

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["published_on", "key"]
        constraints = [
            models.CheckConstraint(condition=~Q(key=""), name="districts_source_key_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.key} · {self.publisher} · {self.published_on:%Y-%m-%d}"


class TechField(SluggedMixin, Bilingual, TrackedModel):
    """A technology field of the shared taxonomy used by districts, incubators and projects."""

    name_zh = models.CharField(_("name (Chinese)"), max_length=100, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    slug = models.SlugField(
        _("slug"),
        max_length=80,
        unique=True,
        blank=True,
        help_text=_("ASCII, used in links. Left empty, it is made from the English name or the pinyin."),
    )
    display_order = models.PositiveSmallIntegerField(_("display order"), default=0)

    history = tracked_history()

    class Meta:
        verbose_name = _("technology field")
        verbose_name_plural = _("technology fields")
        ordering = ["display_order", "name_zh"]
        constraints = [
            models.CheckConstraint(condition=~Q(slug=""), name="districts_techfield_slug_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name_zh

    @property
    def name(self) -> str:
        return self.localized("name")


def optional_district(related_name: str) -> models.ForeignKey:
    """The innovation district a record belongs to, empty (and shown as unknown) when not stated."""
    return models.ForeignKey(
        "districts.InnovationDistrict",
        verbose_name=_("innovation district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name=related_name,
        help_text=_("Empty when the sources do not say; shown as unknown."),
    )


class InnovationDistrict(SearchableRecord):
    """One of Xuhui's six innovation districts (科创街区)."""

    short_name_zh = models.CharField(_("short name (Chinese)"), max_length=40)
    short_name_en = models.CharField(_("short name (English)"), max_length=60, blank=True)
    display_order = models.PositiveSmallIntegerField(_("display order"), unique=True)
    focus_fields = models.ManyToManyField(
        TechField, verbose_name=_("focus fields"), related_name="districts", blank=True
    )
    anchor_institutions = models.ManyToManyField(
        "Institution",
        verbose_name=_("anchor institutions"),
        related_name="anchored_districts",
        blank=True,
        help_text=_("The universities, hospitals and institutes the district is built around."),
    )
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)

    history = tracked_history("sources", "focus_fields", "anchor_institutions", searchable=True)

    class Meta(SearchableRecord.Meta):
        verbose_name = _("innovation district")
        verbose_name_plural = _("innovation districts")
        ordering = ["display_order"]

    def get_absolute_url(self) -> str:
        return record_url("districts:detail", slug=self.slug)

    def search_parts(self) -> tuple[list[str], list[str]]:
        titles, _bodies = super().search_parts()
        return [*titles, self.short_name_zh, self.short_name_en], [self.description_zh, self.description_en]

    @property
    def short_name(self) -> str:
        return self.localized("short_name")

    @property
    def description(self) -> str:
        return self.localized("description")


class InstitutionKind(models.TextChoices):
    UNIVERSITY = "university", _("University")
    HOSPITAL = "hospital", _("Hospital")
    RESEARCH_INSTITUTE = "research_institute", _("Research institute")
    ENTERPRISE = "enterprise", _("Enterprise")
    FINANCE = "finance", _("Financial institution")
    AGENCY = "agency", _("Government agency")
    INTERMEDIARY = "intermediary", _("Intermediary")
    CARRIER = "carrier", _("Innovation space")


class InstitutionGrade(models.TextChoices):
    TERTIARY_A = "tertiary_a", _("Grade 3A")


class Institution(SearchableRecord):
    """A university, hospital, institute, company, financial institution or agency of the ecosystem."""

    Kind = InstitutionKind
    Grade = InstitutionGrade

    kind = models.CharField(_("kind"), max_length=24, choices=Kind)
    grade = models.CharField(
        _("grade"),
        max_length=16,
        choices=Grade,
        blank=True,
        help_text=_("Hospitals only; empty when unknown."),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent institution"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    district = optional_district("institutions")
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)

    history = tracked_history("sources", searchable=True)

    class Meta(SearchableRecord.Meta):
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")
        ordering = ["kind", "name_zh"]
        constraints = [
            *SearchableRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(kind__in=InstitutionKind.values), name="districts_institution_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(grade="") | Q(grade__in=InstitutionGrade.values, kind="hospital"),
                name="districts_institution_grade_only_for_hospitals",
            ),
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="districts_institution_not_own_parent"),
        ]
        indexes = [
            # institution list: filter by kind within a district
            models.Index(fields=["kind", "district"], name="districts_inst_kind_district"),
        ]

    def get_absolute_url(self) -> str:
        return record_url("districts:institution-detail", pk=self.pk, slug=self.slug)

    def clean(self):
        super().clean()
        validate_no_parent_loop(self)

    search_prefetch = ("aliases",)

    def search_parts(self) -> tuple[list[str], list[str]]:
        titles, _bodies = super().search_parts()
        aliases = [alias.name for alias in self.aliases.all()] if self.pk else []
        return [*titles, *aliases], [self.description_zh, self.description_en]

    @property
    def description(self) -> str:
        return self.localized("description")


class InstitutionAlias(TrackedModel):
    """Another name an institution is known by (复旦上医, 有机所, SJTU), so search and imports find it."""

    institution = models.ForeignKey(
        Institution, verbose_name=_("institution"), on_delete=models.CASCADE, related_name="aliases"
    )
    name = models.CharField(_("alias"), max_length=200)

    history = tracked_history()

    class Meta:
        verbose_name = _("alias")
        verbose_name_plural = _("aliases")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="districts_institutionalias_name_unique_ci",
                violation_error_message=_("Another institution already has this alias."),
            ),
            models.CheckConstraint(condition=~Q(name=""), name="districts_institutionalias_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self.institution.refresh_search()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        self.institution.refresh_search()
        return result


class IndicatorTheme(models.TextChoices):
    AWARDS = "awards", _("Science and technology awards")
    MEDICAL = "medical", _("Medical registrations and trials")
    TALENT = "talent", _("Talent")
    RESEARCH = "research", _("Universities, institutes and hospitals")
    INCUBATORS = "incubators", _("Incubators")
    TRANSFER = "transfer", _("Technology transfer results")


class IndicatorUnit(models.TextChoices):
    ITEM = "item", pgettext_lazy("unit", "items")
    CERTIFICATE = "certificate", pgettext_lazy("unit", "certificates")
    APPROVAL = "approval", pgettext_lazy("unit", "approvals")
    PROJECT = "project", pgettext_lazy("unit", "projects")
    ORGANISATION = "organisation", pgettext_lazy("unit", "organisations")
    INCUBATOR = "incubator", pgettext_lazy("unit", "incubators")
    UNIVERSITY = "university", pgettext_lazy("unit", "universities")
    HOSPITAL = "hospital", pgettext_lazy("unit", "hospitals")
    LABORATORY = "laboratory", pgettext_lazy("unit", "laboratories")
    PERSON = "person", pgettext_lazy("unit", "people")
    PERSON_TIME = "person_time", pgettext_lazy("unit", "person-times")
    APARTMENT = "apartment", pgettext_lazy("unit", "apartments")
    WAN_YUAN = "wan_yuan", pgettext_lazy("unit", "×10,000 yuan")
    SQUARE_METRE = "square_metre", pgettext_lazy("unit", "m²")
    PATENTS_PER_10K = "patents_per_10k", pgettext_lazy("unit", "patents per 10,000 residents")


class IndicatorQualifier(models.TextChoices):
    EXACT = "exact", _("exactly")
    OVER = "over", _("over")
    NEARLY = "nearly", _("nearly")
    ABOUT = "about", _("about")
    AT_LEAST = "at_least", _("at least")


class Indicator(NamedRecord):
    """A headline figure from the news (281 awards, nearly 5.2亿元 …), with its period and scope."""

    Theme = IndicatorTheme
    Unit = IndicatorUnit
    Qualifier = IndicatorQualifier

    theme = models.CharField(_("theme"), max_length=16, choices=Theme)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=20, choices=Unit)
    qualifier = models.CharField(_("qualifier"), max_length=8, choices=Qualifier, default=Qualifier.EXACT)
    period_zh = models.CharField(_("period (Chinese)"), max_length=100)
    period_en = models.CharField(_("period (English)"), max_length=100, blank=True)
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(_("period end / as of"), null=True, blank=True)
    scope_zh = models.CharField(_("scope (Chinese)"), max_length=200, blank=True)
    scope_en = models.CharField(_("scope (English)"), max_length=200, blank=True)
    district = optional_district("indicators")
    note_zh = models.CharField(_("note (Chinese)"), max_length=300, blank=True)
    note_en = models.CharField(_("note (English)"), max_length=300, blank=True)
    display_order = models.PositiveSmallIntegerField(_("display order"), default=0)
    is_featured = models.BooleanField(
        _("featured on the home page"), default=False, help_text=_("Shown among the headline figures.")
    )

    history = tracked_history("sources")

    class Meta(NamedRecord.Meta):
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["theme", "display_order", "pk"]
        constraints = [
            *NamedRecord.Meta.constraints,
            models.CheckConstraint(condition=Q(value__gte=0), name="districts_indicator_value_non_negative"),
            models.CheckConstraint(
                condition=Q(theme__in=IndicatorTheme.values), name="districts_indicator_theme_valid"
            ),
            models.CheckConstraint(
                condition=Q(unit__in=IndicatorUnit.values), name="districts_indicator_unit_valid"
            ),
            models.CheckConstraint(
                condition=Q(qualifier__in=IndicatorQualifier.values),
                name="districts_indicator_qualifier_valid",
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_start__lte=F("period_end")),
                name="districts_indicator_period_ordered",
            ),
        ]

    @property
    def display_value(self) -> str:
        """The figure as the news gives it: 近5.2亿元, 超150家机构, nearly 60 projects."""
        english = (get_language() or "").startswith("en")
        if self.unit == self.Unit.WAN_YUAN:
            figure = money(self.value)
        else:
            figure = f"{number(self.value)}{' ' if english else ''}{choice_label(self.Unit, self.unit)}"
        prefixes = {
            self.Qualifier.OVER: _("over"),
            self.Qualifier.NEARLY: _("nearly"),
            self.Qualifier.ABOUT: _("about"),
            self.Qualifier.AT_LEAST: _("at least"),
        }
        prefix = prefixes.get(self.qualifier)
        if prefix is None:
            return figure
        return f"{prefix}{' ' if english else ''}{figure}"

    @property
    def period(self) -> str:
        return self.localized("period")

    @property
    def scope(self) -> str:
        return self.localized("scope")

    @property
    def note(self) -> str:
        return self.localized("note")


class MilestonePrecision(models.TextChoices):
    YEAR = "year", _("year")
    MONTH = "month", _("month")
    DAY = "day", _("day")


class Milestone(DirectoryRecord):
    """A dated event in the ecosystem's history, for the timeline."""

    Precision = MilestonePrecision

    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    occurred_on = models.DateField(
        _("date"), help_text=_("With a year or month precision, the first day of that year or month.")
    )
    date_precision = models.CharField(
        _("date precision"), max_length=8, choices=Precision, default=Precision.DAY
    )
    district = optional_district("milestones")
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)

    history = tracked_history("sources")

    class Meta(DirectoryRecord.Meta):
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["-occurred_on", "-pk"]
        constraints = [
            *DirectoryRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(date_precision__in=MilestonePrecision.values),
                name="districts_milestone_precision_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_on:%Y-%m-%d} {self.title_zh}"

    def clean(self):
        super().clean()
        if self.occurred_on is None:
            return
        if self.date_precision == self.Precision.YEAR and (self.occurred_on.month, self.occurred_on.day) != (
            1,
            1,
        ):
            raise ValidationError({"occurred_on": _("A date known only to the year must be 1 January.")})
        if self.date_precision == self.Precision.MONTH and self.occurred_on.day != 1:
            raise ValidationError({"occurred_on": _("A date known only to the month must be the 1st.")})

    @property
    def display_date(self) -> str:
        """The date only as precisely as it is known: 2018, 2023-06 or 2024-12-10."""
        formats = {self.Precision.YEAR: "%Y", self.Precision.MONTH: "%Y-%m"}
        return self.occurred_on.strftime(formats.get(self.date_precision, "%Y-%m-%d"))

    @property
    def title(self) -> str:
        return self.localized("title")

    @property
    def description(self) -> str:
        return self.localized("description")
