"""GET /health: the gateway, its database and Rasa."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Depends, Response, status
from sqlalchemy import text

from clinic.store import engine_for
from gateway.api.models import HealthOut
from gateway.core.config import GatewaySettings
from gateway.core.deps import get_settings

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
async def health(
    response: Response, settings: GatewaySettings = Depends(get_settings)
) -> HealthOut:
    """200 when the database answers; Rasa's state is reported but does not fail the check."""
    try:
        with engine_for(settings.database_url).connect() as connection:
            connection.execute(text("SELECT 1"))
        database = "ok"
    except Exception as error:  # any failure means "not ok"; the reason is the type only
        database = f"unavailable ({type(error).__name__})"
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            rasa = (
                "ok" if (await client.get(f"{settings.rasa_url}/")).status_code == 200 else "error"
            )
    except httpx.HTTPError:
        rasa = "unreachable"
    if database != "ok":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return HealthOut(status="ok" if database == "ok" else "degraded", database=database, rasa=rasa)
