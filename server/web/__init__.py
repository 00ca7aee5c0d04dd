"""The web layer: the FastAPI app, its routes and the websocket stream (see docs/protocol.md)."""
