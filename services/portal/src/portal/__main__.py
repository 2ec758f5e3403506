"""``python -m portal serve`` (the web server on PORTAL_HTTP_PORT, default 8000) and
``python -m portal check-theme [territory ...]`` (the WCAG contrast check of the palettes)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import uvicorn
from servicekit.logging import configure_logging
from servicekit.territory import available_territories, load_territory

from portal.app import create_app
from portal.settings import PortalSettings
from portal.theming import PaletteError, check_palette


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal")
    parser.add_argument("mode", choices=["serve", "check-theme"])
    parser.add_argument("territories", nargs="*", help="check-theme: default all of them")
    args = parser.parse_args(argv)
    settings = PortalSettings()
    if args.mode == "check-theme":
        names = args.territories or available_territories(settings.territories_dir)
        failed = False
        for name in names:
            territory = load_territory(name, settings.territories_dir)
            try:
                check_palette(territory)
            except PaletteError as error:
                print(error, file=sys.stderr)
                failed = True
            else:
                print(f"{name}: palette passes WCAG 2.1 AA contrast (4.5:1) on every pair used")
        return 1 if failed else 0
    configure_logging("portal", settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
