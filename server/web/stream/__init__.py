"""Streaming the session to viewers: snapshots become frames (frames.py) in binary envelopes (wire.py),
fanned out at the frame rate by the broadcaster."""
