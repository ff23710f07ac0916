"""Fleet state: the single place that knows the latest of every device. No Qt."""
