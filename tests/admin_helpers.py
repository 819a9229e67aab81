"""Driving the admin like a person: open a change form, keep what it shows, change a few fields."""

import re

from django.contrib.auth.models import Group, User
from django.test import Client

from xuhui_portal.roles import create_roles


def make_user(username: str, *groups: str, superuser: bool = False) -> User:
    create_roles()
    if superuser:
        user = User.objects.create_superuser(username, f"{username}@example.org", "a-long-enough-password")
    else:
        user = User.objects.create_user(
            username, f"{username}@example.org", "a-long-enough-password", is_staff=True
        )
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_url(record) -> str:
    opts = record._meta
    return f"/admin/{opts.app_label}/{opts.model_name}/{record.pk}/change/"


def form_data(response, **changes) -> dict:
    """The POST data of the change form in `response`, as the browser would send it, plus `changes`."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = field.prepare_value(form[name].value())
        if value is None:
            value = ""
        data[name] = [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
    for formset in response.context.get("inline_admin_formsets", []):
        management = formset.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = str(management[name].value())
        for inline_form in formset.formset.forms:
            for name, field in inline_form.fields.items():
                value = field.prepare_value(inline_form[name].value())
                data[inline_form.add_prefix(name)] = "" if value is None else str(value)
    data.update({key: value for key, value in changes.items()})
    return data


def errors_of(response) -> str:
    """Every error message shown on an admin form page, as one string."""
    html = response.content.decode()
    return " ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S))
