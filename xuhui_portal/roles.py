"""The editorial roles, as Django groups with exactly these permissions.

- 编辑 Editor: creates and edits every directory record; cannot publish or delete records.
- 审核 Reviewer: everything an editor does, plus publish, unpublish and delete.
- 孵化器运营方 Incubator operator: edits only the incubators assigned to the account
  (Incubator.operator_accounts); the admin hides the others and refuses their URLs (403).

`manage.py setup_roles` (also run after every `migrate`) creates or repairs the groups; it is
idempotent and resets each group to exactly the permissions below.
"""

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission

EDITOR = "编辑 Editor"
REVIEWER = "审核 Reviewer"
INCUBATOR_OPERATOR = "孵化器运营方 Incubator operator"

#: Records with a publication state (they have a "publish" permission).
DIRECTORY_MODELS = [
    "districts.innovationdistrict",
    "districts.institution",
    "districts.indicator",
    "districts.milestone",
    "incubators.incubator",
    "transfers.transferplatform",
    "transfers.transferproject",
]
#: Reference data and the rows edited inline with a record.
SUPPORTING_MODELS = [
    "districts.source",
    "districts.techfield",
    "districts.institutionalias",
    "transfers.platformpartnership",
]
#: Inline rows are part of editing their record, so editors may remove them.
INLINE_MODELS = ["districts.institutionalias", "transfers.platformpartnership"]


def _codenames(models: list[str], actions: list[str]) -> list[str]:
    return [f"{label.split('.')[0]}.{action}_{label.split('.')[1]}" for label in models for action in actions]


ROLE_PERMISSIONS: dict[str, list[str]] = {
    EDITOR: [
        *_codenames(DIRECTORY_MODELS + SUPPORTING_MODELS, ["add", "change", "view"]),
        *_codenames(INLINE_MODELS, ["delete"]),
    ],
    REVIEWER: [
        *_codenames(DIRECTORY_MODELS + SUPPORTING_MODELS, ["add", "change", "view", "delete"]),
        *_codenames(DIRECTORY_MODELS, ["publish"]),
    ],
    INCUBATOR_OPERATOR: [
        "incubators.view_incubator",
        "incubators.change_incubator",
        # To pick a district, fields, host institution and sources in the incubator form.
        *_codenames(
            [
                "districts.innovationdistrict",
                "districts.techfield",
                "districts.institution",
                "districts.source",
            ],
            ["view"],
        ),
    ],
}


def create_roles() -> dict[str, int]:
    """Create or reset the three groups; returns the number of permissions of each."""
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    result = {}
    for name, permission_names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        permissions = []
        for permission_name in permission_names:
            app_label, codename = permission_name.split(".")
            permissions.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(permissions)
        result[name] = len(permissions)
    return result


def create_roles_after_migrate(sender, **kwargs) -> None:
    create_roles()


def is_incubator_operator_only(user) -> bool:
    """True for an account whose incubator access comes from the operator role alone."""
    if user.is_superuser:
        return False
    names = {group.name for group in user.groups.all()}
    return INCUBATOR_OPERATOR in names and not names & {EDITOR, REVIEWER}
