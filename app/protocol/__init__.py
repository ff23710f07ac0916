"""The vendor push protocol: bytes and a topic in, a typed record out. No Qt, no I/O."""
