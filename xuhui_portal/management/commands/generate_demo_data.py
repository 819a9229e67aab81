import random
import time
from datetime import date
from decimal import Decimal

from django.core.management import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from districts.models import InnovationDistrict, Institution, Source, TechField
from incubators.models import Incubator
from transfers.models import TransferPlatform, TransferProject
from xuhui_portal.management.commands.load_portal_data import history_paused
from xuhui_portal.models import PublicationState
from xuhui_portal.page_cache import one_invalidation_for_all

#: (Chinese, English) pieces that titles and summaries are composed from.
QUALIFIERS = [
    ("新型", "novel"),
    ("高效", "high-efficiency"),
    ("低成本", "low-cost"),
    ("智能", "intelligent"),
    ("国产", "domestic"),
    ("可穿戴", "wearable"),
    ("高通量", "high-throughput"),
    ("精准", "precision"),
    ("无创", "non-invasive"),
    ("绿色", "green"),
]
SUBJECTS = [
    ("细胞治疗", "cell therapy"),
    ("免疫治疗", "immunotherapy"),
    ("靶向药物", "targeted drug"),
    ("纳米材料", "nanomaterial"),
    ("生物材料", "biomaterial"),
    ("大模型", "large language model"),
    ("医学影像", "medical imaging"),
    ("手术机器人", "surgical robot"),
    ("合成生物", "synthetic biology"),
    ("生物制造", "biomanufacturing"),
    ("核能装备", "nuclear equipment"),
    ("固态电池", "solid-state battery"),
    ("催化剂", "catalyst"),
    ("药物递送", "drug delivery"),
    ("基因编辑", "gene editing"),
    ("单克隆抗体", "monoclonal antibody"),
    ("mRNA疫苗", "mRNA vaccine"),
    ("诊断试剂", "diagnostic reagent"),
    ("可降解支架", "biodegradable scaffold"),
    ("传感芯片", "sensor chip"),
    ("数据平台", "data platform"),
    ("区块链存证", "blockchain notarisation"),
    ("视听设备", "audio-visual device"),
    ("脑机接口", "brain-computer interface"),
]
OBJECTS = [
    ("技术", "technology"),
    ("平台", "platform"),
    ("系统", "system"),
    ("工艺", "process"),
    ("装置", "device"),
    ("方法", "method"),
]
USES = [
    ("肿瘤早筛", "early cancer screening"),
    ("慢病管理", "chronic disease management"),
    ("工业质检", "industrial inspection"),
    ("药物研发", "drug discovery"),
    ("城市治理", "city management"),
    ("康复训练", "rehabilitation"),
    ("新能源", "new energy"),
    ("组织修复", "tissue repair"),
]
INSTITUTION_KINDS = [
    (Institution.Kind.UNIVERSITY, "大学", "University"),
    (Institution.Kind.HOSPITAL, "医院", "Hospital"),
    (Institution.Kind.RESEARCH_INSTITUTE, "研究所", "Research Institute"),
    (Institution.Kind.ENTERPRISE, "科技有限公司", "Technology Co., Ltd."),
    (Institution.Kind.FINANCE, "创业投资基金", "Venture Fund"),
]
PLACE_NAMES = [
    "徐汇",
    "漕河泾",
    "枫林",
    "龙华",
    "华泾",
    "田林",
    "虹梅",
    "康健",
    "长桥",
    "凌云",
    "斜土",
    "天平",
]
PLACE_NAMES_EN = ["Xuhui", "Caohejing", "Fenglin", "Longhua", "Huajing", "Tianlin", "Hongmei", "Kangjian"]
PLACE_NAMES_EN += ["Changqiao", "Lingyun", "Xietu", "Tianping"]

BATCH = 5000


class Command(BaseCommand):
    help = """Generate a deterministic synthetic data set for load tests and the benchmark.

    Records are marked is_synthetic, use slugs starting with "demo-", cite the source DEMO and
    are replaced (not duplicated) when the command runs again. Never loaded by `make run`.
    """

    def add_arguments(self, parser):
        parser.add_argument("--projects", type=int, default=100_000)
        parser.add_argument("--incubators", type=int, default=2_000)
        parser.add_argument("--institutions", type=int, default=500)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, **options):
        for name in ("projects", "incubators", "institutions"):
            if options[name] < 0:
                raise CommandError(f"--{name} must not be negative")
        self.random = random.Random(options["seed"])
        self.published_at = timezone.now()
        started = time.monotonic()
        with transaction.atomic(), one_invalidation_for_all():
            self.delete_previous()
            self.source = self.demo_source()
            self.fields = list(TechField.objects.all())
            self.districts = list(InnovationDistrict.objects.all())
            if not self.fields or not self.districts:
                raise CommandError("Load the portal data first (manage.py load_portal_data).")
            institutions = self.make_institutions(options["institutions"])
            incubators = self.make_incubators(options["incubators"], institutions)
            projects = self.make_projects(options["projects"], institutions)
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated {len(institutions)} institutions, {incubators} incubators and "
                f"{projects} projects in {elapsed:.1f} s (seed {options['seed']})."
            )
        )

    def delete_previous(self) -> None:
        # Generated records have no history (bulk inserts); replacing them is not an edit either.
        with history_paused():
            TransferProject.objects.filter(is_synthetic=True).delete()
            Incubator.objects.filter(is_synthetic=True).delete()
            Institution.objects.filter(is_synthetic=True).delete()

    def demo_source(self) -> Source:
        source, _created = Source.objects.update_or_create(
            key="DEMO",
            defaults={
                "publisher": "合成演示数据（generate_demo_data）",
                "published_on": date(2026, 1, 1),
                "headline": "用于压力测试的合成数据，并非真实记录 / Synthetic data for load tests, not real records",
            },
        )
        return source

    def pick(self, pairs):
        return self.random.choice(pairs)

    def title(self) -> tuple[str, str]:
        qualifier, subject, obj = self.pick(QUALIFIERS), self.pick(SUBJECTS), self.pick(OBJECTS)
        return f"{qualifier[0]}{subject[0]}{obj[0]}", f"{qualifier[1].capitalize()} {subject[1]} {obj[1]}"

    def summary(self, title_zh: str, title_en: str) -> tuple[str, str]:
        use, second = self.pick(USES), self.pick(SUBJECTS)
        return (
            f"{title_zh}面向{use[0]}场景，结合{second[0]}方向的研究积累，完成了实验室验证。",
            f"{title_en} for {use[1]}, building on work in {second[1]}; validated in the laboratory.",
        )

    def bulk_create(self, model, records: list) -> list:
        for record in records:
            record.fill_search_fields()
        created = model.objects.bulk_create(records, batch_size=BATCH)
        through = model.sources.through
        fk = model._meta.model_name
        through.objects.bulk_create(
            [through(**{f"{fk}_id": record.pk, "source_id": self.source.pk}) for record in created],
            batch_size=BATCH,
        )
        return created

    def make_institutions(self, count: int) -> list[Institution]:
        records = []
        for n in range(1, count + 1):
            kind, suffix_zh, suffix_en = self.pick(INSTITUTION_KINDS)
            place = self.random.randrange(len(PLACE_NAMES))
            subject = self.pick(SUBJECTS)
            records.append(
                Institution(
                    name_zh=f"{PLACE_NAMES[place]}{subject[0]}{suffix_zh}（演示{n:04d}）",
                    name_en=f"{PLACE_NAMES_EN[place]} {subject[1].title()} {suffix_en} (demo {n:04d})",
                    slug=f"demo-institution-{n:05d}",
                    kind=kind,
                    district=self.random.choice([*self.districts, None]),
                    publication_state=PublicationState.PUBLISHED,
                    published_at=self.published_at,
                    is_synthetic=True,
                )
            )
        return self.bulk_create(Institution, records)

    def make_incubators(self, count: int, institutions: list[Institution]) -> int:
        records = []
        for n in range(1, count + 1):
            subject = self.pick(SUBJECTS)
            place = self.random.randrange(len(PLACE_NAMES))
            recognised = self.random.random() < 0.3
            records.append(
                Incubator(
                    name_zh=f"{PLACE_NAMES[place]}{subject[0]}孵化器（演示{n:05d}）",
                    name_en=f"{PLACE_NAMES_EN[place]} {subject[1].title()} Incubator (demo {n:05d})",
                    slug=f"demo-incubator-{n:05d}",
                    district=self.random.choice(self.districts) if self.random.random() < 0.85 else None,
                    status=self.random.choice(Incubator.Status.values),
                    recognition=Incubator.Recognition.DISTRICT_HIGH_QUALITY if recognised else "",
                    recognition_batch=self.random.randint(1, 3) if recognised else None,
                    recognized_on=date(2024, self.random.randint(1, 12), 1) if recognised else None,
                    operator=self.random.choice(institutions)
                    if institutions and self.random.random() < 0.5
                    else None,
                    floor_area_m2=self.random.randrange(300, 30000, 50)
                    if self.random.random() < 0.7
                    else None,
                    description_zh=f"聚焦{subject[0]}方向的演示孵化器。",
                    description_en=f"A demo incubator for {subject[1]}.",
                    publication_state=PublicationState.PUBLISHED,
                    published_at=self.published_at,
                    is_synthetic=True,
                )
            )
        created = self.bulk_create(Incubator, records)
        self.link_fields(Incubator.focus_fields.through, "incubator_id", created)
        return len(created)

    def make_projects(self, count: int, institutions: list[Institution]) -> int:
        platforms = list(TransferPlatform.objects.all())
        owners = institutions or list(Institution.objects.all())
        modes = ["", *TransferProject.TransferMode.values]
        total = 0
        for start in range(0, count, BATCH):
            records = []
            for n in range(start + 1, min(start + BATCH, count) + 1):
                title_zh, title_en = self.title()
                summary_zh, summary_en = self.summary(title_zh, title_en)
                disclosed = self.random.random() < 0.6
                records.append(
                    TransferProject(
                        name_zh=f"{title_zh}（演示{n:06d}）",
                        name_en=f"{title_en} (demo {n:06d})",
                        slug=f"demo-project-{n:06d}",
                        summary_zh=summary_zh,
                        summary_en=summary_en,
                        stage=self.random.choice(TransferProject.Stage.values),
                        transfer_mode=self.random.choice(modes),
                        owner_institution=self.random.choice(owners) if owners else None,
                        platform=self.random.choice(platforms) if platforms else None,
                        district=self.random.choice(self.districts) if self.random.random() < 0.8 else None,
                        year=self.random.randint(2012, 2026),
                        transfer_amount_wan=Decimal(self.random.randrange(10, 50000)) if disclosed else None,
                        financing_wan=Decimal(self.random.randrange(100, 100000))
                        if self.random.random() < 0.2
                        else None,
                        publication_state=PublicationState.PUBLISHED,
                        published_at=self.published_at,
                        is_synthetic=True,
                    )
                )
            created = self.bulk_create(TransferProject, records)
            self.link_fields(TransferProject.fields.through, "transferproject_id", created)
            total += len(created)
        return total

    def link_fields(self, through, fk: str, records: list) -> None:
        rows = []
        for record in records:
            for field in self.random.sample(self.fields, self.random.randint(1, 2)):
                rows.append(through(**{fk: record.pk, "techfield_id": field.pk}))
        through.objects.bulk_create(rows, batch_size=BATCH)
