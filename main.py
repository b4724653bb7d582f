"""書かない窓口 kiosk: entry point.

python main.py demo [--tour OUTDIR]   the kiosk with simulated devices
python main.py admin                  the administrators' window
python main.py db upgrade             create or upgrade the database
python main.py templates list         the active form templates
python main.py doctor                 check dependencies
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()


def build_parser() -> argparse.ArgumentParser:
    from kiosk import cli

    parser = argparse.ArgumentParser(prog="main.py", description="書かない窓口 kiosk")
    parser.add_argument("--data-dir", type=Path, help="data folder (database, printed demo PDFs)")
    parser.add_argument("--database-url", help="SQLAlchemy URL, e.g. postgresql+psycopg://…")
    parser.add_argument("--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the kiosk with simulated devices")
    demo.add_argument(
        "--tour",
        type=Path,
        metavar="OUTDIR",
        help="run the whole flow scripted and offscreen; save screenshots here",
    )
    demo.add_argument("--fullscreen", action="store_true", help="resident window full screen")
    demo.add_argument(
        "--card-reader",
        choices=["simulated", "pcsc"],
        help="card reader adapter (default: simulated, or the config file)",
    )
    demo.add_argument("--bench-startup", action="store_true", help=argparse.SUPPRESS)
    sub.add_parser("admin", help="the administrators' window")
    cli.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from kiosk import cli
    from kiosk.config import load_settings
    from kiosk.logging_setup import setup_logging

    settings = load_settings(
        args.data_dir,
        database_url=args.database_url,
        card_reader=getattr(args, "card_reader", None),
    )
    setup_logging(settings.data_dir / "logs", verbose=args.verbose)
    result = cli.run(args, settings)
    if result is not None:
        return result
    if args.command == "demo" and args.tour:
        from ui.tour import run_tour

        return run_tour(args.tour, data_dir=args.data_dir)
    if args.command == "demo":
        from ui.launch import run_demo

        return run_demo(
            settings,
            fullscreen=args.fullscreen,
            bench_started=STARTED if args.bench_startup else None,
        )
    if args.command == "admin":
        from ui.launch import run_admin

        return run_admin(settings)
    return 2


if __name__ == "__main__":
    sys.exit(main())
