"""The HTTP service (`failedcontact serve`): docs/service.md."""

from .app import Settings, ShelfHolder, app_from_environment, create_app, openapi_document

__all__ = ["Settings", "ShelfHolder", "app_from_environment", "create_app", "openapi_document"]
