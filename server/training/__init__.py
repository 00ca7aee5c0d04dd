"""The live training session: one network trained on a worker thread, its commands and the state it
publishes. No FastAPI here; the web layer reaches a session only through its commands and reads."""
