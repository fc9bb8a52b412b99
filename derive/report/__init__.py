"""Rendering the verdicts: LaTeX (tex), JSON (json_report), PDF compilation (pdf), figures, the cells as LaTeX (code)."""
