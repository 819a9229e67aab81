from django.core.management import BaseCommand
from django.db import transaction

from xuhui_portal.roles import create_roles


class Command(BaseCommand):
    help = """Create or repair the editorial groups (编辑 Editor, 审核 Reviewer, 孵化器运营方 Incubator operator).

    Idempotent: each group is reset to exactly its documented permissions. Runs after every
    `migrate` too. Add people to a group in the admin (Users → groups); an incubator operator
    also needs the incubators assigned to their account (Incubator → operator accounts).
    """

    def handle(self, *args, **options):
        with transaction.atomic():
            counts = create_roles()
        for name, count in counts.items():
            self.stdout.write(f"{name}: {count} permissions")
        self.stdout.write(self.style.SUCCESS("Roles are set up."))
