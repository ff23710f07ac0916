"""Connection panel: saved broker profiles (QSettings + OS keyring) and their live state."""
