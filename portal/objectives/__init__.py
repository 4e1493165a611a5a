"""Quality objectives (质量目标): values computed from runs and records, never typed in."""
