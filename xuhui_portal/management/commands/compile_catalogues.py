from pathlib import Path

import polib
from django.conf import settings
from django.core.management import BaseCommand


class Command(BaseCommand):
    help = """Compile every locale/*/LC_MESSAGES/*.po into its .mo with polib (pure Python).

    Does the work of `compilemessages` on machines without GNU gettext's msgfmt; the compiled
    catalogues are committed, and `make serve` compiles them again.
    """

    def handle(self, *args, **options):
        compiled = 0
        for locale_dir in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
                catalogue = polib.pofile(str(po_path))
                catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
                compiled += 1
                if options["verbosity"] > 0:
                    self.stdout.write(f"{po_path}: {catalogue.percent_translated()}% translated")
        if options["verbosity"] > 0:
            self.stdout.write(self.style.SUCCESS(f"Compiled {compiled} catalogue(s)."))
