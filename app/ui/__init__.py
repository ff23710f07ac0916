"""The window: Qt views over the fleet state, fed in batches from the journal writer."""
