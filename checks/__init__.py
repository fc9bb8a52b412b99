"""The built-in claims: one module per source article (installed as derive.checks)."""
