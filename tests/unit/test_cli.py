"""Every command-line tool works on a fresh data folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", "--data-dir", str(data), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_db_upgrade_on_a_fresh_folder(tmp_path: Path) -> None:
    result = run("db", "upgrade", data=tmp_path / "d")
    assert result.returncode == 0, result.stderr
    assert "revision 0008" in result.stdout
    assert (tmp_path / "d" / "kiosk.sqlite3").exists()


def test_templates_list_on_a_fresh_folder(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "config.toml").write_text("[fee_overrides]\njuminhyo_copy = 200\n")
    result = run("templates", "list", data=tmp_path / "d")
    assert result.returncode == 0, result.stderr
    assert "住民票の写し等交付申請書" in result.stdout
    assert "juminhyo_copy=200" in result.stdout


def test_doctor_reports_each_dependency(tmp_path: Path) -> None:
    result = run("doctor", data=tmp_path / "d")
    assert result.returncode == 0, result.stdout + result.stderr
    for name in (
        "python: PySide6",
        "font: gothic",
        "font: mincho",
        "database",
        "printer",
        "keyring",
    ):
        assert name in result.stdout


def test_doctor_fails_when_something_blocking_is_missing(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "config.toml").write_text('printer = "cups"\n')
    env_fonts = tmp_path / "nofonts"
    env_fonts.mkdir()
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.argv=['main.py','--data-dir',sys.argv[1],"
            "'doctor']; import kiosk.doctor as d; d.check_printer=lambda s: [d.Check("
            "'printer', False, 'offline', 'check it')]; import main; sys.exit(main.main())",
            str(tmp_path / "d"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "blocking problem" in result.stdout
    assert "→ check it" in result.stdout


def test_logs_hold_no_personal_data(tmp_path: Path) -> None:
    from kiosk.logging_setup import redact

    assert redact("number 123456789018 born 19580412") == "number <12 digits> born <date>"
    log = tmp_path / "d" / "logs" / "kiosk.log"
    run("db", "upgrade", data=tmp_path / "d")
    assert log.exists()
    assert "髙﨑" not in log.read_text(encoding="utf-8")
