"""Support code copied into DIR/plugins/ for the generated DAGs (see sundial_compat/)."""

from pathlib import Path

SUPPORT_PACKAGE = Path(__file__).parent / "sundial_compat"
