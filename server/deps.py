"""``Annotated`` dependencies, so route handlers read as plain signatures (everything lives on ``app.state``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tryon.server.config import Settings
from tryon.server.engine import Engine
from tryon.server.jobs import JobStore

__all__ = ["SettingsDep", "EngineDep", "StoreDep", "get_app_settings", "get_engine", "get_store"]


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


def get_engine(request: Request) -> Engine:
    """The engine created in the lifespan."""
    return request.app.state.engine


def get_store(request: Request) -> JobStore:
    """The job store created in the lifespan."""
    return request.app.state.store


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
StoreDep = Annotated[JobStore, Depends(get_store)]
