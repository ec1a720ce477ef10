"""The default mapping rules (default.yaml), installed as the package ``migrate.mappings``."""
