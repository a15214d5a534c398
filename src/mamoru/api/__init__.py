"""FastAPI application and routers: thin adapters over the services."""
