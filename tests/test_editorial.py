"""Editorial admin: roles, publishing, history and revert, no lost updates."""

import random
import re

import pytest
from concurrency.exceptions import RecordModifiedError
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction

from incubators.models import Incubator
from xuhui_portal.models import PublicationState
from xuhui_portal.roles import EDITOR, INCUBATOR_OPERATOR, REVIEWER, ROLE_PERMISSIONS

from .admin_helpers import change_url, client_for, errors_of, form_data, make_user
from .factories import make_district, make_incubator, make_source

pytestmark = pytest.mark.django_db

INCUBATORS = "/admin/incubators/incubator/"


@pytest.fixture
def editor():
    return make_user("editor", EDITOR)


@pytest.fixture
def reviewer():
    return make_user("reviewer", REVIEWER)


def group_permissions(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


class TestRoles:
    def test_setup_roles_is_idempotent_and_exact(self):
        call_command("setup_roles", verbosity=0)
        Group.objects.get(name=EDITOR).permissions.clear()
        call_command("setup_roles", verbosity=0)
        for name, permissions in ROLE_PERMISSIONS.items():
            assert group_permissions(name) == set(permissions)
        assert Group.objects.filter(name__in=ROLE_PERMISSIONS).count() == 3

    def test_editors_cannot_publish_or_delete_and_reviewers_can(self):
        assert "incubators.publish_incubator" not in group_permissions(EDITOR)
        assert "incubators.delete_incubator" not in group_permissions(EDITOR)
        assert {"incubators.publish_incubator", "incubators.delete_incubator"} <= group_permissions(REVIEWER)


class TestEditor:
    def test_new_record_is_a_draft_whatever_the_form_says(self, editor):
        client = client_for(editor)
        source = make_source()
        response = client.post(
            f"{INCUBATORS}add/",
            {
                "name_zh": "编辑新建的孵化器",
                "status": "operating",
                "sources": [source.pk],
                "publication_state": "published",
                "version": "",
            },
        )
        assert response.status_code == 302, errors_of(response)
        assert Incubator.objects.get(name_zh="编辑新建的孵化器").publication_state == PublicationState.DRAFT

    def test_edits_but_cannot_change_the_publication_state(self, editor):
        incubator = make_incubator(publication_state=PublicationState.DRAFT)
        client = client_for(editor)
        page = client.get(change_url(incubator))
        assert "publication_state" not in page.context["adminform"].form.fields
        response = client.post(
            change_url(incubator), form_data(page, name_zh="改名", publication_state="published")
        )
        assert response.status_code == 302, errors_of(response)
        incubator.refresh_from_db()
        assert (incubator.name_zh, incubator.publication_state) == ("改名", PublicationState.DRAFT)

    def test_has_no_publish_action_and_no_delete(self, editor):
        incubator = make_incubator()
        client = client_for(editor)
        action_form = client.get(INCUBATORS).context["action_form"]
        actions = [value for value, _label in action_form.fields["action"].choices] if action_form else []
        assert "publish" not in actions
        assert client.get(f"{INCUBATORS}{incubator.pk}/delete/").status_code == 403


class TestReviewer:
    def test_publishes_with_the_action_and_the_public_page_follows(self, reviewer, client):
        incubator = make_incubator(publication_state=PublicationState.DRAFT)
        assert client.get(incubator.get_absolute_url()).status_code == 404
        admin = client_for(reviewer)
        checkbox = f"{incubator.pk},{incubator.version}"
        response = admin.post(INCUBATORS, {"action": "publish", "_selected_action": [checkbox]})
        assert response.status_code == 302
        incubator.refresh_from_db()
        assert incubator.publication_state == PublicationState.PUBLISHED
        assert client.get(incubator.get_absolute_url()).status_code == 200
        assert incubator.history.first().history_user == reviewer

    def test_unpublish_hides_from_lists_search_and_counts(self, reviewer, client):
        incubator = make_incubator(name_zh="即将下线的孵化器")
        admin = client_for(reviewer)
        admin.post(
            INCUBATORS, {"action": "unpublish", "_selected_action": [f"{incubator.pk},{incubator.version}"]}
        )
        assert "即将下线的孵化器" not in client.get("/incubators/").content.decode()
        assert client.get("/search/", {"q": "即将下线"}).context["total"] == 0
        assert client.get("/").context["counts"]["incubators"] == 0


class TestIncubatorOperator:
    @pytest.fixture
    def operator(self):
        return make_user("operator", INCUBATOR_OPERATOR)

    def test_sees_and_edits_only_their_incubators(self, operator):
        own = make_incubator(name_zh="自己的孵化器")
        own.operator_accounts.add(operator)
        other = make_incubator(name_zh="别人的孵化器")
        client = client_for(operator)
        listed = [incubator.name_zh for incubator in client.get(INCUBATORS).context["cl"].result_list]
        assert listed == ["自己的孵化器"]
        assert client.get(change_url(other)).status_code == 403
        assert client.post(change_url(other), {"name_zh": "抢改"}).status_code == 403
        other.refresh_from_db()
        assert other.name_zh == "别人的孵化器"
        page = client.get(change_url(own))
        response = client.post(change_url(own), form_data(page, description_zh="运营方更新的简介"))
        assert response.status_code == 302, errors_of(response)
        own.refresh_from_db()
        assert own.description_zh == "运营方更新的简介"

    def test_cannot_add_delete_or_change_recognition(self, operator):
        own = make_incubator(recognition="", status="operating")
        own.operator_accounts.add(operator)
        client = client_for(operator)
        assert client.get(f"{INCUBATORS}add/").status_code == 403
        assert client.get(f"{INCUBATORS}{own.pk}/delete/").status_code == 403
        page = client.get(change_url(own))
        assert "recognition" not in page.context["adminform"].form.fields
        assert "operator_accounts" not in page.context["adminform"].form.fields

    def test_history_of_another_incubator_is_refused(self, operator):
        other = make_incubator()
        assert client_for(operator).get(f"{INCUBATORS}{other.pk}/history/").status_code in (403, 404)


class TestHistory:
    def test_change_is_recorded_with_user_fields_and_values(self, reviewer):
        incubator = make_incubator(name_zh="旧名称", floor_area_m2=100)
        client = client_for(reviewer)
        page = client.get(change_url(incubator))
        client.post(change_url(incubator), form_data(page, name_zh="新名称", floor_area_m2="250"))
        latest, before = incubator.history.all()[:2]
        assert latest.history_user == reviewer
        changes = {change.field: (change.old, change.new) for change in latest.diff_against(before).changes}
        assert changes["name_zh"] == ("旧名称", "新名称")
        assert changes["floor_area_m2"] == (100, 250)
        assert "新名称" in client.get(f"{INCUBATORS}{incubator.pk}/history/").content.decode()

    def test_revert_to_an_earlier_version(self, reviewer):
        incubator = make_incubator(name_zh="第一版")
        client = client_for(reviewer)
        page = client.get(change_url(incubator))
        client.post(change_url(incubator), form_data(page, name_zh="第二版"))
        first = incubator.history.order_by("history_date").first()
        revert_url = f"{INCUBATORS}{incubator.pk}/history/{first.history_id}/"
        page = client.get(revert_url)
        assert page.status_code == 200
        response = client.post(revert_url, form_data(page))
        assert response.status_code == 302, errors_of(response)
        incubator.refresh_from_db()
        assert incubator.name_zh == "第一版"

    def test_delete_can_be_undone(self, reviewer, client):
        district = make_district()
        source = make_source(key="S7")
        incubator = make_incubator(name_zh="误删的孵化器", district=district, sources=[source])
        pk = incubator.pk
        admin = client_for(reviewer)
        admin.post(f"{INCUBATORS}{pk}/delete/", {"post": "yes"})
        assert not Incubator.objects.filter(pk=pk).exists()
        listing = admin.get(f"{INCUBATORS}deleted/")
        [record] = listing.context["records"]
        response = admin.post(f"{INCUBATORS}deleted/{record.history_id}/restore/")
        assert response.status_code == 302
        restored = Incubator.objects.get(pk=pk)
        assert (restored.name_zh, restored.district, list(restored.sources.all())) == (
            "误删的孵化器",
            district,
            [source],
        )
        assert client.get(restored.get_absolute_url()).status_code == 200
        assert admin.get(f"{INCUBATORS}deleted/").context["records"].count() == 0

    def test_editors_cannot_restore(self, editor):
        # Restoring creates a record; editors may, operators (no add permission) may not.
        operator = make_user("operator2", INCUBATOR_OPERATOR)
        assert client_for(operator).get(f"{INCUBATORS}deleted/").status_code == 403
        assert client_for(editor).get(f"{INCUBATORS}deleted/").status_code == 200


class TestNoLostUpdates:
    def test_second_save_is_refused_with_who_and_what_and_keeps_the_input(self, editor, reviewer):
        incubator = make_incubator(name_zh="原名", floor_area_m2=100)
        alice, bob = client_for(editor), client_for(reviewer)
        alice_page, bob_page = alice.get(change_url(incubator)), bob.get(change_url(incubator))

        assert alice.post(change_url(incubator), form_data(alice_page, name_zh="甲改的名")).status_code == 302
        response = bob.post(change_url(incubator), form_data(bob_page, description_zh="乙写的简介"))

        assert response.status_code == 200
        message = errors_of(response)
        assert "editor" in message
        assert "名称（中文）" in message or "Name (Chinese)" in message
        assert response.context["adminform"].form["description_zh"].value() == "乙写的简介"
        incubator.refresh_from_db()
        assert (incubator.name_zh, incubator.description_zh) == ("甲改的名", "")

        # Having seen the conflict, saving again applies Bob's version deliberately.
        again = bob.post(change_url(incubator), form_data(response))
        assert again.status_code == 302, errors_of(again)
        incubator.refresh_from_db()
        assert incubator.description_zh == "乙写的简介"

    def test_list_editable_does_not_overwrite(self, editor):
        incubator = make_incubator(status="operating")
        client = client_for(editor)
        listing = client.get(INCUBATORS).content.decode()
        [stale_version] = re.findall(
            rf'name="form-_concurrency_version_{incubator.pk}" value="(\d+)"', listing
        )
        incubator.name_zh = "别人刚改过"
        incubator.save()
        data = {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-id": str(incubator.pk),
            "form-0-status": "closed",
            f"form-_concurrency_version_{incubator.pk}": stale_version,
            "_save": "Save",
        }
        response = client.post(INCUBATORS, data, follow=True)
        incubator.refresh_from_db()
        assert (incubator.status, incubator.name_zh) == ("operating", "别人刚改过")
        assert "modified" in response.content.decode() or "修改" in response.content.decode()

    def test_action_on_a_changed_record_is_refused(self, reviewer):
        incubator = make_incubator(publication_state=PublicationState.DRAFT)
        stale = f"{incubator.pk},{incubator.version}"
        incubator.name_zh = "刚被改过"
        incubator.save()
        client_for(reviewer).post(INCUBATORS, {"action": "publish", "_selected_action": [stale]})
        incubator.refresh_from_db()
        assert incubator.publication_state == PublicationState.DRAFT

    @pytest.mark.parametrize("seed", range(40))
    def test_random_interleavings_of_two_editors_lose_nothing(self, seed):
        """Two editors open, edit and save in a random order, many times over.

        Invariant: a save succeeds only if it was based on the current version, and after every
        step the stored values are exactly those of the last successful save.
        """
        rng = random.Random(seed)
        record = make_incubator(name_zh="起点", description_zh="")
        stored = {"name_zh": "起点", "description_zh": ""}
        opened = {}
        for step in range(30):
            editor_name = rng.choice("AB")
            if editor_name not in opened or rng.random() < 0.3:
                opened[editor_name] = Incubator.objects.get(pk=record.pk)
                continue
            copy = opened.pop(editor_name)
            field = rng.choice(["name_zh", "description_zh"])
            value = f"{editor_name}{step}"
            setattr(copy, field, value)
            current_version = Incubator.objects.values_list("version", flat=True).get(pk=record.pk)
            if copy.version == current_version:
                copy.save()
                stored = {"name_zh": copy.name_zh, "description_zh": copy.description_zh}
            else:
                with pytest.raises(RecordModifiedError), transaction.atomic():
                    copy.save()
            fresh = Incubator.objects.get(pk=record.pk)
            assert {"name_zh": fresh.name_zh, "description_zh": fresh.description_zh} == stored
