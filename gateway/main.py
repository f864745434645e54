"""The gateway application: `uvicorn gateway.main:app`, or `python -m gateway`."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from gateway.api.routes import consultations, health, slots, staff


def create_app() -> FastAPI:
    """The FastAPI application with every route."""
    app = FastAPI(
        title="Microneedling clinic assistant: gateway",
        description=(
            "The clinic API (free slots; book, read, move and cancel consultations with the "
            "patient's phone number as proof), the staff API (behind a token) and health."
        ),
        version="1.0.0",
    )

    @app.exception_handler(RequestValidationError)
    async def malformed_request(request: Request, error: RequestValidationError) -> JSONResponse:
        """A malformed request is a 400 that says which field is wrong, and nothing is changed."""
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc'] if p != 'body')}: {item['msg']}"
            for item in error.errors()
        )
        return JSONResponse(status_code=status.HTTP_400_BAD_REQUEST, content={"detail": problems})

    for module in (health, slots, consultations, staff):
        app.include_router(module.router)
    return app


app = create_app()
