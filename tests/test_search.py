"""Chinese-aware search: script folding, short queries, aliases, English, AND, rank, exactness."""

import unicodedata

import pytest
from django.db import connection

from districts.models import InnovationDistrict, Institution, InstitutionAlias
from incubators.models import Incubator
from transfers.models import TransferProject
from xuhui_portal.search import _nfkc, document_tokens, normalise, parse_query, search_queryset

from .factories import make_district, make_incubator, make_institution, make_project


def names(queryset):
    return [record.name_zh for record in queryset.order_by("-search_rank", "pk")]


def projects(query):
    return names(search_queryset(TransferProject.objects.all(), query))


def test_normalise_folds_script_case_and_width():
    assert normalise("徐匯 復旦 ＳＪＴＵ West") == "徐汇 复旦 sjtu west"


@pytest.mark.parametrize(
    "text",
    [
        "项目（2019年），精准：无创；好！吗？\u3000结束",
        "，\u0301（\u0308 ）\u20dd：",  # combining marks after the replaced punctuation
        "ＳＪＴＵ①㎡ﬁ，磁波",  # still not NFKC after the replacements: the full normalisation
        "e\u0301，a\u030a",  # decomposed letters to compose
        "",
    ],
)
def test_the_quick_nfkc_gives_what_nfkc_gives(text):
    assert _nfkc(text) == unicodedata.normalize("NFKC", text)


def test_the_quick_nfkc_agrees_on_every_character_alone_and_after_the_replaced_marks():
    characters = [chr(code) for code in range(0x10000) if not 0xD800 <= code < 0xE000]
    texts = [*characters, *(mark + c for mark in "，（）：；！？\u3000" for c in characters[0x300:0x370])]
    assert [text for text in texts if _nfkc(text) != unicodedata.normalize("NFKC", text)] == []


def test_tokens_are_characters_bigrams_and_words():
    assert document_tokens("磁波刀 AI") == ["磁", "波", "刀", "磁波", "波刀", "ai"]


def test_query_terms_split_on_script_and_punctuation():
    assert [term.text for term in parse_query("磁波刀AI，精準 immuno-therapy 磁波刀")] == [
        "磁波刀",
        "ai",
        "精准",
        "immuno",
        "therapy",
    ]


@pytest.mark.django_db
class TestProjectSearch:
    @pytest.fixture(autouse=True)
    def _data(self):
        make_project(
            name_zh="新一代国产相控“磁波刀”AI精准无创治疗技术",
            name_en="Phased-array magnetic-wave knife",
            summary_zh="陈亚珠院士团队研发的无创治疗设备。",
        )
        make_project(
            name_zh="CAR-T细胞治疗平台",
            name_en="CAR-T cell therapy",
            summary_en="Immunotherapy for blood cancers",
        )
        make_project(
            name_zh="徐汇核能小堆", name_en="Small modular reactor", summary_zh="核电站用的免疫检测无关"
        )
        make_project(name_zh="疫苗检测", summary_zh="免疫学方法，疫治疗法另论")

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("磁波", ["新一代国产相控“磁波刀”AI精准无创治疗技术"]),
            ("精準無創", ["新一代国产相控“磁波刀”AI精准无创治疗技术"]),
            ("徐匯", ["徐汇核能小堆"]),
            ("细胞", ["CAR-T细胞治疗平台"]),
            ("核", ["徐汇核能小堆"]),
            ("immunotherapy", ["CAR-T细胞治疗平台"]),
            ("IMMUNO", ["CAR-T细胞治疗平台"]),
            ("陈亚珠", ["新一代国产相控“磁波刀”AI精准无创治疗技术"]),
        ],
    )
    def test_finds(self, query, expected):
        assert projects(query) == expected

    def test_words_are_anded(self):
        assert projects("治疗 磁波") == ["新一代国产相控“磁波刀”AI精准无创治疗技术"]
        assert projects("治疗 核能") == []

    def test_cjk_terms_match_as_substrings_not_scattered_bigrams(self):
        # 疫苗检测's text has 免疫, 疫治 and 治疗 but never 免疫治疗 in a row.
        assert projects("免疫治疗") == []

    def test_title_hits_rank_before_summary_hits(self):
        make_project(name_zh="监护设备", summary_zh="普通仪器")
        assert projects("设备") == ["监护设备", "新一代国产相控“磁波刀”AI精准无创治疗技术"]

    def test_empty_or_symbol_only_query_finds_nothing(self):
        assert projects("") == []
        assert projects("“”，。!!") == []


@pytest.mark.django_db
def test_aliases_and_english_names_find_institutions():
    make_institution(
        name_zh="复旦大学上海医学院", name_en="Fudan Shanghai Medical College", aliases=["复旦上医"]
    )
    make_institution(name_zh="中国科学院上海有机化学研究所", aliases=["有机所"])
    make_institution(name_zh="上海交通大学", name_en="Shanghai Jiao Tong University", aliases=["SJTU"])
    queryset = Institution.objects.all()
    assert names(search_queryset(queryset, "复旦上医")) == ["复旦大学上海医学院"]
    assert names(search_queryset(queryset, "有机所")) == ["中国科学院上海有机化学研究所"]
    assert names(search_queryset(queryset, "sjtu")) == ["上海交通大学"]
    assert names(search_queryset(queryset, "復旦")) == ["复旦大学上海医学院"]


@pytest.mark.django_db
def test_an_alias_added_later_is_found_and_a_deleted_one_is_not():
    institution = make_institution(name_zh="上海市疾病预防控制中心")
    alias = InstitutionAlias.objects.create(institution=institution, name="市疾控")
    assert names(search_queryset(Institution.objects.all(), "市疾控")) == ["上海市疾病预防控制中心"]
    alias.delete()
    assert names(search_queryset(Institution.objects.all(), "市疾控")) == []


@pytest.mark.django_db
def test_english_district_and_incubator_names_match():
    make_district(
        name_zh="西岸大模型创新生态街区", name_en="West Bund Large-Model Innovation Ecosystem District"
    )
    make_incubator(name_zh="模速空间", name_en="ModelSpeed Space", description_en="On the West Bund")

    assert names(search_queryset(InnovationDistrict.objects.all(), "West Bund")) == ["西岸大模型创新生态街区"]
    assert names(search_queryset(Incubator.objects.all(), "west bund")) == ["模速空间"]


@pytest.mark.django_db
def test_renaming_updates_what_is_found():
    project = make_project(name_zh="旧名称")
    project.name_zh = "新名称"
    project.save()
    assert projects("新名称") == ["新名称"]
    assert projects("旧名称") == []


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the GIN index exists on PostgreSQL only")
def test_postgresql_search_can_use_the_gin_index():
    make_project(name_zh="磁波刀")
    queryset = search_queryset(TransferProject.objects.order_by(), "磁波")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "transfers_transferproject_search_gin" in plan


@pytest.mark.django_db
def test_the_feed_reads_the_newest_projects_from_an_index():
    from xuhui_portal.feeds import FEED_SIZE

    for _ in range(30):
        make_project()
    newest = TransferProject.objects.published().order_by("-published_at", "-pk")[:FEED_SIZE]
    with connection.cursor() as cursor:
        # Statistics, as a production database has them; without them both planners would
        # rather sort a test-sized table. PostgreSQL is also told not to sort or scan the
        # table, so its plan shows whether an index can give this order at all.
        cursor.execute("ANALYZE")
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off")
        plan = newest.explain()
    assert "transfers_project_pub_newest" in plan
