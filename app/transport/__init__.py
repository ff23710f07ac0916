"""Transports deliver (source, topic, bytes, received_at) and report their own state."""
