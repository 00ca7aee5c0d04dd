"""One router per resource: the page, the live session, checkpoints, the walkthrough, the websocket."""
