"""report.json: every claim's computed verdict with its evidence, the versions and the seed."""
from __future__ import annotations

import json

from derive.evidence import diagnosis_json, to_json


def render(results, *, settings, versions: dict) -> str:
    """The JSON text for (claim, verdict) pairs; key order is fixed, so equal input gives equal bytes."""
    claims = []
    for claim, verdict in results:
        claims.append({
            "id": claim.id,
            "source": {"key": claim.source.key, "title": claim.source.title, "site": claim.source.site,
                       "author": claim.source.author},
            "where": claim.where,
            "printed": claim.printed,
            "reading": claim.reading,
            "statement": claim.statement,
            "verdict": str(verdict.status),
            "method": str(verdict.method),
            "evidence": to_json(verdict.evidence),
            "diagnosis": diagnosis_json(verdict),
        })
    document = {"claims": claims, "versions": versions, "seed": settings.seed,
                "settings": {"points": settings.points, "digits": settings.digits, "budget": settings.budget}}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
